using System.Text.Json;
using AgentIdp.Core.Audit;
using AuthServer.Audit;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace AuthServer.Tokens.Introspection;

/// <summary>Queues <c>token.introspected</c> for every answered introspection, active or not.</summary>
public sealed class RecordIntrospection(AuditTrail audit, TimeProvider time) : IOpenIddictServerHandler<ApplyIntrospectionResponseContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyIntrospectionResponseContext>()
            .UseSingletonHandler<RecordIntrospection>()
            .SetOrder(OpenIddictServerHandlers.Introspection.NormalizeErrorResponse.Descriptor.Order + 100)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ApplyIntrospectionResponseContext context)
    {
        if (!string.IsNullOrEmpty(context.Response.Error) || context.Transaction.FindCaller() is not { } caller)
        {
            return ValueTask.CompletedTask; // failed authentication is recorded as auth.failed
        }
        var active = (bool?)context.Response[Claims.Active] ?? false;
        var subject = (string?)context.Response[Claims.Subject];
        audit.Record(AuditEvent.Create(
            AuditActions.TokenIntrospected, AuditOutcome.Success, time.GetUtcNow(),
            agentId: active && Guid.TryParse(subject, out var agentId) ? agentId : null,
            actor: caller.AgentId.ToString(),
            ip: context.Transaction.CallerIp(),
            details: JsonSerializer.Serialize(new { active, jti = active ? (string?)context.Response[Claims.JwtId] : null })));
        return ValueTask.CompletedTask;
    }
}
