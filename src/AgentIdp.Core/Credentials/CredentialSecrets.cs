using AgentIdp.Core.Secrets;

namespace AgentIdp.Core.Credentials;

/// <summary>A credential together with the one copy of its secret that ever leaves AgentIdP.</summary>
public sealed record IssuedCredential(Credential Credential, string ClientSecret);

/// <summary>Creates and replaces credentials' secrets. The plain secret is returned once and never stored.</summary>
public sealed class CredentialSecrets(SecretHasher hasher, TimeProvider time)
{
    public IssuedCredential Issue(Guid agentId, DateTimeOffset? expiresAt = null)
    {
        var credential = new Credential
        {
            Id = Guid.NewGuid(),
            AgentId = agentId,
            CreatedAt = time.GetUtcNow(),
            ExpiresAt = expiresAt,
        };
        var secret = ClientSecret.Generate(credential.Id);
        credential.SecretHash = hasher.Hash(secret);
        return new IssuedCredential(credential, secret);
    }

    /// <summary>Gives the credential a new secret; the previous one, and tokens issued with it, stop working.</summary>
    public string Rotate(Credential credential)
    {
        var secret = ClientSecret.Generate(credential.Id);
        credential.SecretHash = hasher.Hash(secret);
        credential.SecretVersion++;
        credential.RotatedAt = time.GetUtcNow();
        return secret;
    }
}
