using System.Diagnostics;
using AgentIdp.Core.Secrets;

namespace AgentIdp.Core.Telemetry;

/// <summary>
/// AgentIdP's own spans, from the <see cref="ActivitySource"/> named <see cref="SourceName"/>: the check of a
/// client secret, under the request's span and over the PostgreSQL query and the Vault call it makes. A span
/// names where the secret was checked and what came of it, never the secret.
/// </summary>
public static class AgentIdpTracing
{
    public const string SourceName = "AgentIdp";
    public const string SecretVerification = "VerifyClientSecret";

    /// <summary>Span attributes.</summary>
    public static class Attributes
    {
        /// <summary><see cref="SecretStores"/>: where the secret was checked.</summary>
        public const string SecretStore = "agentidp.secret.store";
        /// <summary><see cref="SecretOutcomes"/>: what came of the check.</summary>
        public const string SecretOutcome = "agentidp.secret.outcome";
        /// <summary><c>success</c>, or why authentication failed (the audit log's reason).</summary>
        public const string AuthenticationResult = "agentidp.authentication.result";
    }

    public static readonly ActivitySource Source = new(SourceName, typeof(AgentIdpTracing).Assembly.GetName().Version?.ToString());

    /// <summary>Whether anything listens to AgentIdP's spans: if not, no span is started and nothing is allocated for one.</summary>
    public static bool IsListening => Source.HasListeners();

    public static Activity? StartSecretVerification() => Source.StartActivity(SecretVerification, ActivityKind.Internal);

    /// <summary>Notes on the current secret-verification span, if one is recording, where the secret was checked and what came of it.</summary>
    public static void SecretChecked(string store, string outcome)
    {
        if (Activity.Current is { IsAllDataRequested: true } activity && activity.Source == Source && activity.OperationName == SecretVerification)
        {
            activity.SetTag(Attributes.SecretStore, store);
            activity.SetTag(Attributes.SecretOutcome, outcome);
        }
    }

    public static void EndSecretVerification(Activity? activity, SecretValidationResult result)
    {
        if (activity is not { IsAllDataRequested: true })
        {
            return;
        }
        activity.SetTag(Attributes.AuthenticationResult, result.Failure is { } failure ? ErrorLabels.Of(failure) : "success");
        if (result.Failure == AuthenticationFailure.SecretStoreUnavailable)
        {
            activity.SetStatus(ActivityStatusCode.Error, "The secret store could not be read.");
        }
    }
}
