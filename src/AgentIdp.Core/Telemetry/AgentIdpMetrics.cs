using System.Diagnostics;
using System.Diagnostics.Metrics;
using AgentIdp.Core.Secrets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace AgentIdp.Core.Telemetry;

/// <summary>
/// AgentIdP's own instruments, on the one <see cref="Meter"/> named <see cref="MeterName"/>. Where Duende
/// IdentityServer counts the same thing, the instrument has Duende's name and tags, so its dashboards carry
/// over. A client id is a tag only once that client has authenticated: the id a failed request claims is the
/// caller's free text, and a flood of random ones would make a series each. With nothing listening, each
/// method costs a check of <see cref="Instrument.Enabled"/>.
/// </summary>
public sealed class AgentIdpMetrics
{
    public const string MeterName = "AgentIdp";

    private static readonly InstrumentAdvice<double> SecondsBuckets = new()
    {
        // From a cache hit (microseconds) through bcrypt (tens of milliseconds) to a slow Vault.
        HistogramBucketBoundaries = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    };

    private readonly Counter<long> _tokenIssued;
    private readonly Counter<long> _secretValidation;
    private readonly Counter<long> _introspection;
    private readonly Counter<long> _revocation;
    private readonly Histogram<double> _secretVerification;
    private readonly Counter<long> _vaultRequests;
    private readonly Counter<long> _rateLimitRejections;
    private readonly Counter<long> _sheddingRejections;
    private readonly Counter<long> _auditEvents;
    private readonly TimeProvider _time;
    private SigningKeyInUse? _signingKey;

    public AgentIdpMetrics(IMeterFactory meterFactory, TimeProvider time)
    {
        _time = time;
        var meter = meterFactory.Create(MeterName, typeof(AgentIdpMetrics).Assembly.GetName().Version?.ToString());
        _tokenIssued = meter.CreateCounter<long>("tokenservice.token_issued", "{request}",
            "Token requests answered: issued, or refused with error.");
        _secretValidation = meter.CreateCounter<long>("tokenservice.client.secret_validation", "{request}",
            "Client authentications with a client secret: passed, or failed with error.");
        _introspection = meter.CreateCounter<long>("tokenservice.introspection", "{request}",
            "Introspection requests answered: with whether the token is active, or refused with error.");
        _revocation = meter.CreateCounter<long>("tokenservice.revocation", "{request}",
            "Revocation requests answered: done, or refused with error.");
        _secretVerification = meter.CreateHistogram("agentidp.secret.verification.duration", "s",
            "How long checking a client secret took, by where it was checked and what came of it.", tags: null, advice: SecondsBuckets);
        _vaultRequests = meter.CreateCounter<long>("agentidp.vault.requests", "{request}",
            "Calls to Vault, by operation and result.");
        _rateLimitRejections = meter.CreateCounter<long>("agentidp.rate_limit.rejections", "{request}",
            "Requests refused with 429 because their caller was over its rate limit.");
        _sheddingRejections = meter.CreateCounter<long>("agentidp.shedding.rejections", "{request}",
            "Requests refused with 503 because bcrypt's queue was full.");
        _auditEvents = meter.CreateCounter<long>("agentidp.audit.events", "{event}",
            "Audit events through the AuthServer's queue: queued, written to PostgreSQL, or dropped.");
        meter.CreateObservableGauge("agentidp.signing_key.age", ObserveSigningKeyAge, "s",
            "How long the key this replica signs tokens with has been signing.");
    }

    /// <summary>The token endpoint answered. <paramref name="client"/>: the agent, if it authenticated.</summary>
    public void TokenResponse(Guid? client, string? grantType, string? error)
    {
        if (!_tokenIssued.Enabled)
        {
            return;
        }
        var tags = ClientTags(Tags.Client, client, error);
        if (grantType is not null)
        {
            tags.Add(Tags.GrantType, grantType);
        }
        _tokenIssued.Add(1, tags);
    }

    /// <summary>
    /// A client secret was checked. A request that was shed was not judged at all: it is counted by
    /// <see cref="Shed"/> instead.
    /// </summary>
    public void ClientAuthenticated(SecretValidationResult result, string authMethod)
    {
        if (result.Failure == AuthenticationFailure.Overloaded)
        {
            Shed(SheddingStages.Verification);
            return;
        }
        if (!_secretValidation.Enabled)
        {
            return;
        }
        var tags = ClientTags(Tags.Client, result.Agent?.AgentId, result.Failure is { } failure ? ErrorLabels.Of(failure) : null);
        tags.Add(Tags.AuthMethod, authMethod);
        _secretValidation.Add(1, tags);
    }

    /// <summary>The introspection endpoint answered. <paramref name="caller"/>: the caller, if it authenticated.</summary>
    public void Introspection(Guid? caller, bool? active, string? error)
    {
        if (!_introspection.Enabled)
        {
            return;
        }
        var tags = ClientTags(Tags.Caller, caller, error);
        if (error is null && active is { } isActive)
        {
            tags.Add(Tags.Active, isActive);
        }
        _introspection.Add(1, tags);
    }

    /// <summary>The revocation endpoint answered. <paramref name="client"/>: the caller, if it authenticated.</summary>
    public void Revocation(Guid? client, string? error)
    {
        if (_revocation.Enabled)
        {
            _revocation.Add(1, ClientTags(Tags.Client, client, error));
        }
    }

    /// <summary>One check of a client secret against <paramref name="store"/> (<see cref="SecretStores"/>).</summary>
    public void SecretVerified(string store, string outcome, TimeSpan duration)
    {
        if (_secretVerification.Enabled)
        {
            _secretVerification.Record(duration.TotalSeconds, new TagList { { Tags.Store, store }, { Tags.Outcome, outcome } });
        }
    }

    /// <summary>One call to Vault (<see cref="VaultOperations"/>) and how it ended (<see cref="VaultResults"/>).</summary>
    public void VaultRequest(string operation, string result)
    {
        if (_vaultRequests.Enabled)
        {
            _vaultRequests.Add(1, new TagList { { Tags.Operation, operation }, { Tags.Result, result } });
        }
    }

    /// <summary>A request over its caller's rate limit (<see cref="RateLimiters"/>).</summary>
    public void RateLimited(string limiter)
    {
        if (_rateLimitRejections.Enabled)
        {
            _rateLimitRejections.Add(1, new KeyValuePair<string, object?>(Tags.Limiter, limiter));
        }
    }

    /// <summary>A request shed at <paramref name="stage"/> (<see cref="SheddingStages"/>).</summary>
    public void Shed(string stage)
    {
        if (_sheddingRejections.Enabled)
        {
            _sheddingRejections.Add(1, new KeyValuePair<string, object?>(Tags.Stage, stage));
        }
    }

    public void AuditEventsQueued(long count) => AuditEvents(AuditStates.Queued, count);

    public void AuditEventsWritten(long count) => AuditEvents(AuditStates.Written, count);

    public void AuditEventsDropped(long count) => AuditEvents(AuditStates.Dropped, count);

    private void AuditEvents(string state, long count)
    {
        if (count > 0 && _auditEvents.Enabled)
        {
            _auditEvents.Add(count, new KeyValuePair<string, object?>(Tags.State, state));
        }
    }

    /// <summary>The key this replica signs with from now on, and since when it signs.</summary>
    public void SigningWith(string algorithm, DateTimeOffset signingSince) =>
        Volatile.Write(ref _signingKey, new SigningKeyInUse(algorithm, signingSince));

    private IEnumerable<Measurement<double>> ObserveSigningKeyAge()
    {
        if (Volatile.Read(ref _signingKey) is not { } key)
        {
            return [];
        }
        var age = Math.Max(0, (_time.GetUtcNow() - key.Since).TotalSeconds);
        return [new Measurement<double>(age, new KeyValuePair<string, object?>(Tags.Algorithm, key.Algorithm))];
    }

    private static TagList ClientTags(string clientTag, Guid? client, string? error)
    {
        var tags = new TagList();
        if (client is { } id)
        {
            tags.Add(clientTag, id.ToString());
        }
        if (error is not null)
        {
            tags.Add(Tags.Error, error);
        }
        return tags;
    }

    private sealed record SigningKeyInUse(string Algorithm, DateTimeOffset Since);

    /// <summary>Tag names: Duende IdentityServer's where it has one.</summary>
    public static class Tags
    {
        public const string Client = "client";
        public const string Caller = "caller";
        public const string GrantType = "grant_type";
        public const string AuthMethod = "auth_method";
        public const string Active = "active";
        public const string Error = "error";
        public const string Store = "store";
        public const string Outcome = "outcome";
        public const string Operation = "operation";
        public const string Result = "result";
        public const string Limiter = "limiter";
        public const string Stage = "stage";
        public const string State = "state";
        public const string Algorithm = "algorithm";
    }

    public static class RateLimiters
    {
        /// <summary>TOKEN_RATE_LIMIT_PER_MINUTE, per agent, at the token endpoint.</summary>
        public const string Token = "token";
        /// <summary>ADMIN_RATE_LIMIT_PER_MINUTE, per caller, at the admin API.</summary>
        public const string AdminApi = "admin_api";
    }

    public static class SheddingStages
    {
        /// <summary>Before OpenIddict reads the request: an unrecognized secret while bcrypt is saturated.</summary>
        public const string Guard = "guard";
        /// <summary>At the secret check: bcrypt's queue was full.</summary>
        public const string Verification = "verification";
    }

    public static class AuditStates
    {
        public const string Queued = "queued";
        public const string Written = "written";
        public const string Dropped = "dropped";
    }
}

/// <summary>Where a client secret was checked.</summary>
public static class SecretStores
{
    public const string Cache = "cache";
    public const string Bcrypt = "bcrypt";
    public const string Vault = "vault";
}

/// <summary>What came of one check of a client secret.</summary>
public static class SecretOutcomes
{
    public const string Match = "match";
    public const string Mismatch = "mismatch";
    /// <summary>The request named no usable credential: a decoy bcrypt check, so that it costs what a wrong secret does.</summary>
    public const string NoCredential = "no_credential";
    /// <summary>Vault holds no secret at the version the credential names.</summary>
    public const string Missing = "missing";
    /// <summary>Vault could not be read.</summary>
    public const string Unavailable = "unavailable";
    /// <summary>Not checked: bcrypt's queue was full.</summary>
    public const string Shed = "shed";

    public static string Of(AuthenticationFailure? failure) => failure switch
    {
        null => Match,
        AuthenticationFailure.UnknownClient or AuthenticationFailure.MalformedSecret or AuthenticationFailure.UnknownCredential => NoCredential,
        AuthenticationFailure.VaultSecretMissing => Missing,
        AuthenticationFailure.SecretStoreUnavailable => Unavailable,
        AuthenticationFailure.Overloaded => Shed,
        _ => Mismatch,
    };
}

public static class VaultOperations
{
    public const string Read = "read";
    public const string Write = "write";
    public const string Destroy = "destroy";
    public const string Health = "health";
    public const string TokenLookup = "token_lookup";
    public const string TokenRenewal = "token_renewal";
    public const string Login = "login";
}

public static class VaultResults
{
    /// <summary>Vault answered 2xx.</summary>
    public const string Success = "success";
    /// <summary>Vault answered 404: no such secret or version (a read of a destroyed version, a destroy of nothing).</summary>
    public const string NotFound = "not_found";
    /// <summary>Vault answered any other status: refused, sealed, failing.</summary>
    public const string Error = "error";
    /// <summary>No answer: unreachable, too slow, or not called while its circuit breaker is open.</summary>
    public const string Unavailable = "unavailable";
}

/// <summary>The <c>error</c> tag of a failed client authentication: the reason the audit log records, in snake_case.</summary>
internal static class ErrorLabels
{
    private static readonly Dictionary<AuthenticationFailure, string> Labels = Enum.GetValues<AuthenticationFailure>()
        .ToDictionary(failure => failure, failure => System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(failure.ToString()));

    public static string Of(AuthenticationFailure failure) => Labels[failure];
}

public static class MetricsServiceCollectionExtensions
{
    /// <summary>The <see cref="AgentIdpMetrics"/> every instrumented component records to.</summary>
    public static IServiceCollection AddAgentIdpMetrics(this IServiceCollection services)
    {
        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<AgentIdpMetrics>();
        return services;
    }
}
