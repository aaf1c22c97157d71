using Microsoft.AspNetCore;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace AuthServer.Tokens.Revocation;

/// <summary>A successful revocation is 200 with an empty body (RFC 7009 §2.2), not OpenIddict's <c>{}</c>.</summary>
public sealed class AnswerRevocationWithEmptyBody : IOpenIddictServerHandler<ApplyRevocationResponseContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyRevocationResponseContext>()
            .UseSingletonHandler<AnswerRevocationWithEmptyBody>()
            .SetOrder(OpenIddictServerAspNetCoreHandlers.ProcessJsonResponse<ApplyRevocationResponseContext>.Descriptor.Order - 100)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ApplyRevocationResponseContext context)
    {
        if (string.IsNullOrEmpty(context.Response.Error) && context.Transaction.GetHttpRequest() is { } request)
        {
            request.HttpContext.Response.ContentLength = 0;
            context.HandleRequest();
        }
        return ValueTask.CompletedTask;
    }
}
