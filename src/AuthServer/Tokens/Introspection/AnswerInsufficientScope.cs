using AgentIdp.Core.Agents;
using AuthServer.Tokens.ClientAuthentication;
using Microsoft.AspNetCore;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace AuthServer.Tokens.Introspection;

/// <summary>
/// A caller without <c>tokens:read</c> is refused with 403 <c>insufficient_scope</c>, not OpenIddict's 400;
/// a bearer caller also gets the RFC 6750 §3.1 challenge naming the scope it lacks.
/// </summary>
public sealed class AnswerInsufficientScope : IOpenIddictServerHandler<ApplyIntrospectionResponseContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyIntrospectionResponseContext>()
            .UseSingletonHandler<AnswerInsufficientScope>()
            .SetOrder(OpenIddictServerAspNetCoreHandlers.AttachWwwAuthenticateHeader<ApplyIntrospectionResponseContext>.Descriptor.Order + 100)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ApplyIntrospectionResponseContext context)
    {
        if (context.Transaction.Response?.Error != Errors.InsufficientScope || context.Transaction.GetHttpRequest() is not { } request)
        {
            return ValueTask.CompletedTask;
        }
        var response = request.HttpContext.Response;
        response.StatusCode = StatusCodes.Status403Forbidden;
        if (context.Transaction.FindCaller() is { Credential: null })
        {
            response.Headers.WWWAuthenticate = $"Bearer error=\"{Errors.InsufficientScope}\", scope=\"{AdminCapabilities.TokensRead}\"";
        }
        return ValueTask.CompletedTask;
    }
}
