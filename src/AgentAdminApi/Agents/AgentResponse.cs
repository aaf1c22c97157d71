using AgentIdp.Core.Agents;

namespace AgentAdminApi.Agents;

public sealed record AgentResponse(
    Guid AgentId,
    string Email,
    AgentType AgentType,
    string Version,
    IReadOnlyList<string> Capabilities,
    string Owner,
    DeploymentEnvironment DeploymentEnv,
    AgentStatus Status,
    DateTime CreatedAt,
    DateTime UpdatedAt)
{
    public static AgentResponse From(Agent agent) => new(
        agent.Id, agent.Email, agent.AgentType, agent.Version, agent.Capabilities, agent.Owner, agent.DeploymentEnv,
        agent.Status, ApiTime.Utc(agent.CreatedAt), ApiTime.Utc(agent.UpdatedAt));
}

/// <summary>The body of <c>POST /api/v1/agents</c> (documented for OpenAPI; read field by field by <see cref="AgentFields"/>).</summary>
public sealed record RegisterAgentRequest(
    string Email, AgentType AgentType, string Version, IReadOnlyList<string> Capabilities, string Owner, DeploymentEnvironment DeploymentEnv);

/// <summary>The body of <c>PATCH /api/v1/agents/{agentId}</c>: any subset of the fields.</summary>
public sealed record UpdateAgentRequest(
    string? Email, AgentType? AgentType, string? Version, IReadOnlyList<string>? Capabilities, string? Owner,
    DeploymentEnvironment? DeploymentEnv, AgentStatus? Status);
