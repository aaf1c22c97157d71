using System.Net;
using System.Text.Json;
using AgentAdminApi.Audit;
using AgentAdminApi.Errors;
using AgentIdp.Core.Agents;
using AgentIdp.Core.Audit;
using AgentIdp.Core.Errors;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;

namespace AgentAdminApi.Security;

/// <summary>
/// The authorization policies of the admin API: a capability (scope), or, on the self-service routes, the
/// caller acting on itself with a token that carries <c>agents:self</c>.
/// </summary>
public static class Capabilities
{
    public const string AgentsRead = AdminCapabilities.AgentsRead;
    public const string AgentsWrite = AdminCapabilities.AgentsWrite;
    public const string AuditRead = AdminCapabilities.AuditRead;
    public const string AgentsReadOrSelf = AdminCapabilities.AgentsRead + OrSelf;
    public const string AgentsWriteOrSelf = AdminCapabilities.AgentsWrite + OrSelf;
    private const string OrSelf = "-or-self";

    /// <summary>What each policy requires; the OpenAPI document describes the routes from it too.</summary>
    public static IReadOnlyDictionary<string, CapabilityRequirement> Policies { get; } = new Dictionary<string, CapabilityRequirement>
    {
        [AgentsRead] = new(AdminCapabilities.AgentsRead, OrSelf: false),
        [AgentsWrite] = new(AdminCapabilities.AgentsWrite, OrSelf: false),
        [AuditRead] = new(AdminCapabilities.AuditRead, OrSelf: false),
        [AgentsReadOrSelf] = new(AdminCapabilities.AgentsRead, OrSelf: true),
        [AgentsWriteOrSelf] = new(AdminCapabilities.AgentsWrite, OrSelf: true),
    };

    public static IServiceCollection AddAgentCapabilities(this IServiceCollection services)
    {
        services.AddSingleton<IAuthorizationHandler, CapabilityHandler>();
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, ProblemAuthorizationResultHandler>();
        var authorization = services.AddAuthorizationBuilder()
            // Every endpoint needs a valid token unless it says otherwise (health, OpenAPI).
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build());
        foreach (var (name, requirement) in Policies)
        {
            authorization.AddPolicy(name, policy => policy.AddRequirements(requirement));
        }
        return services;
    }

    /// <summary>
    /// The token holds <see cref="Capability"/> as a scope; or, with <see cref="OrSelf"/>, the route's agent is the
    /// caller and the token holds <c>agents:self</c>, which an agent gets only by asking for it: a token it asked
    /// for other scopes cannot touch its own credentials.
    /// </summary>
    public sealed record CapabilityRequirement(string Capability, bool OrSelf) : IAuthorizationRequirement;

    private sealed class CapabilityHandler : AuthorizationHandler<CapabilityRequirement>
    {
        protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, CapabilityRequirement requirement)
        {
            if (context.User.Holds(requirement.Capability) ||
                (requirement.OrSelf && context.User.Holds(AdminCapabilities.AgentsSelf) && context.Resource is HttpContext http &&
                 Guid.TryParse(http.GetRouteValue("agentId") as string, out var agentId) && agentId == context.User.AgentId()))
            {
                context.Succeed(requirement);
            }
            return Task.CompletedTask;
        }
    }

    /// <summary>Refusals are problem documents; a refused action is recorded in the audit log as a failure.</summary>
    private sealed class ProblemAuthorizationResultHandler : IAuthorizationMiddlewareResultHandler
    {
        private readonly AuthorizationMiddlewareResultHandler _default = new();

        public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult result)
        {
            if (!result.Forbidden)
            {
                await _default.HandleAsync(next, context, policy, result);
                return;
            }
            var required = policy.Requirements.OfType<CapabilityRequirement>()
                .Select(r => r.OrSelf ? $"'{r.Capability}', or the scope '{AdminCapabilities.AgentsSelf}' when the agent acts on itself" : $"'{r.Capability}'");
            var detail = $"This request needs the capability {string.Join(" and ", required)}.";
            if (context.GetEndpoint()?.Metadata.GetMetadata<AuditedAction>() is { } audited)
            {
                var trail = context.RequestServices.GetRequiredService<AdminAudit>();
                await trail.RecordFailureAsync(audited.Action, Guid.TryParse(context.GetRouteValue("agentId") as string, out var subject) ? subject : null,
                    new { reason = ErrorCodes.Forbidden }, context.RequestAborted);
            }
            await ApiProblems.Forbidden(detail).ExecuteAsync(context);
        }
    }
}
