namespace AgentIdp.Core.Agents;

/// <summary>An AI agent: an OAuth 2.0 confidential client whose client_id is its <see cref="Id"/>.</summary>
public sealed class Agent
{
    public Guid Id { get; set; }
    public required string Email { get; set; }
    public required AgentType AgentType { get; set; }
    public required string Version { get; set; }
    /// <summary>The <c>resource:action</c> strings the agent may request as scopes.</summary>
    public required List<string> Capabilities { get; set; }
    public required string Owner { get; set; }
    public required DeploymentEnvironment DeploymentEnv { get; set; }
    public AgentStatus Status { get; set; } = AgentStatus.Active;

    /// <summary>
    /// Bumped when the agent is suspended or its capabilities change. Tokens carry it: a token issued
    /// before the bump stops standing, so neither reactivation nor a narrowed agent revives an older token.
    /// </summary>
    public int SecurityStamp { get; set; } = 1;
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    public List<Credentials.Credential> Credentials { get; set; } = [];
}

public enum AgentStatus { Active, Suspended, Decommissioned }

public enum AgentType { Screener, Classifier, Orchestrator, Extractor, Summarizer, Router, Monitor, Custom }

public enum DeploymentEnvironment { Development, Staging, Production }
