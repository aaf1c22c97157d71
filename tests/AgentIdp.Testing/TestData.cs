using AgentIdp.Core.Agents;
using AgentIdp.Core.Credentials;
using AgentIdp.Core.Persistence;
using AgentIdp.Core.Secrets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace AgentIdp.Testing;

/// <summary>Writes agents and credentials straight into a test database.</summary>
public sealed class TestData(string connectionString)
{
    /// <summary>Cheap hashes for speed; the cost a service uses for its own hashes is tested apart.</summary>
    public static readonly SecretHasher Hasher = new(Options.Create(new SecretHashingOptions { BcryptCost = 4 }));

    /// <summary>bcrypt checks on a pool of their own threads, as the AuthServer runs them.</summary>
    public static readonly BcryptVerifier Bcrypt = new(Hasher, Options.Create(new SecretVerificationOptions()), NullLogger<BcryptVerifier>.Instance);

    private readonly Lazy<CredentialLookup> _credentials = new(() => new CredentialLookup(new CredentialLookup.DataSource(connectionString)));

    public string ConnectionString => connectionString;

    public AgentIdpDbContext Open()
    {
        var options = new DbContextOptionsBuilder<AgentIdpDbContext>();
        options.UseAgentIdpDatabase(connectionString);
        return new AgentIdpDbContext(options.Options);
    }

    /// <summary>The token path's secret check on this database; with no cache given, every check is a full one.</summary>
    public AgentSecretValidator SecretValidator(VerifiedSecretCache? cache = null, TimeProvider? time = null) =>
        new(_credentials.Value, Bcrypt,
            cache ?? new VerifiedSecretCache(Options.Create(new SecretCacheOptions { TtlSeconds = 0 }), TimeProvider.System),
            time ?? TimeProvider.System);

    public async Task<Agent> CreateAgentAsync(
        IEnumerable<string>? capabilities = null, AgentStatus status = AgentStatus.Active, string? email = null)
    {
        var now = DateTimeOffset.UtcNow;
        var agent = new Agent
        {
            Id = Guid.NewGuid(),
            Email = email ?? $"agent-{Guid.NewGuid():N}@example.com",
            AgentType = AgentType.Screener,
            Version = "1.0.0",
            Capabilities = [.. capabilities ?? ["invoices:read", "invoices:write"]],
            Owner = "team-tests",
            DeploymentEnv = DeploymentEnvironment.Development,
            Status = status,
            CreatedAt = now,
            UpdatedAt = now,
        };
        await using var db = Open();
        db.Agents.Add(agent);
        await db.SaveChangesAsync();
        return agent;
    }

    /// <summary>A bcrypt-backed credential, as bcrypt mode (or AgentIdP before Vault was enabled) makes them.</summary>
    public async Task<IssuedCredential> IssueCredentialAsync(Guid agentId, DateTimeOffset? expiresAt = null)
    {
        var credential = new Credential { Id = Guid.NewGuid(), AgentId = agentId, CreatedAt = DateTimeOffset.UtcNow, ExpiresAt = expiresAt };
        var secret = ClientSecret.Generate(credential.Id);
        credential.SecretHash = Hasher.Hash(secret);
        var issued = new IssuedCredential(credential, secret);
        await using var db = Open();
        db.Credentials.Add(issued.Credential);
        await db.SaveChangesAsync();
        return issued;
    }

    /// <summary>An active agent with one credential: its id and secret.</summary>
    public async Task<(Agent Agent, IssuedCredential Credential)> CreateAgentWithCredentialAsync(IEnumerable<string>? capabilities = null)
    {
        var agent = await CreateAgentAsync(capabilities);
        return (agent, await IssueCredentialAsync(agent.Id));
    }

    /// <summary>Gives a bcrypt credential a new secret, as a rotation in bcrypt mode does.</summary>
    public static string Rotate(Credential credential)
    {
        var secret = ClientSecret.Generate(credential.Id);
        credential.SecretHash = Hasher.Hash(secret);
        credential.SecretVersion++;
        credential.RotatedAt = DateTimeOffset.UtcNow;
        return secret;
    }

    /// <summary>Polls <paramref name="probe"/> until it returns a value: for effects written in the background (the audit queue).</summary>
    public static async Task<T> EventuallyAsync<T>(Func<Task<T?>> probe, TimeSpan? timeout = null) where T : class
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            if (await probe() is { } result)
            {
                return result;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("The expected effect did not happen in time.");
            }
            await Task.Delay(50);
        }
    }
}
