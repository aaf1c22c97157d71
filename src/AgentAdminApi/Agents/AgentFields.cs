using AgentAdminApi.Requests;
using AgentIdp.Core.Agents;

namespace AgentAdminApi.Agents;

/// <summary>An agent's writable fields as a request gives them; null where a PATCH leaves one out.</summary>
public sealed record AgentFields(
    string? Email, AgentType? AgentType, string? Version, List<string>? Capabilities, string? Owner,
    DeploymentEnvironment? DeploymentEnv, AgentStatus? Status)
{
    private static readonly AgentStatus[] SettableStatuses = [AgentStatus.Active, AgentStatus.Suspended];

    /// <summary>Reads the fields with every rule of the contract. A registration needs them all; a patch any of them, and may set the status.</summary>
    public static AgentFields Read(BodyFields body, bool registration)
    {
        var required = registration;
        var fields = new AgentFields(
            body.Text("email", required, AgentRules.MaxEmailLength, AgentRules.IsValidEmail, "Must be an e-mail address."),
            body.Enum<AgentType>("agentType", required),
            body.Text("version", required, AgentRules.MaxVersionLength, AgentRules.IsValidVersion,
                "Must be a Semantic Versioning 2.0.0 version, for example 2.3.1 or 2.3.1-beta."),
            body.Capabilities("capabilities", required),
            body.Text("owner", required, AgentRules.MaxOwnerLength, AgentRules.IsValidOwner, $"Must be 1 to {AgentRules.MaxOwnerLength} characters, not only spaces."),
            body.Enum<DeploymentEnvironment>("deploymentEnv", required),
            registration ? null : body.Enum("status", required: false, SettableStatuses));
        body.RejectUnknownFields();
        return fields;
    }
}
