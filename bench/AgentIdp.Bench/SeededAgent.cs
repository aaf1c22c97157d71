using AgentIdp.Core.Secrets;

namespace AgentIdp.Bench;

/// <summary>An agent the bench can get tokens for: its client_id and client secret.</summary>
internal sealed record SeededAgent(Guid AgentId, string Secret)
{
    public string ClientId => AgentId.ToString();

    /// <summary>An agent no database knows, in the right format: enough for the bare signer, which checks no secret.</summary>
    public static SeededAgent Unregistered() => new(Guid.NewGuid(), ClientSecret.Generate(Guid.NewGuid()));

    /// <summary>Messages name the agent, never its secret.</summary>
    public override string ToString() => ClientId;
}
