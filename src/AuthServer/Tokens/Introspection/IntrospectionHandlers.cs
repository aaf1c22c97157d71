using System.Collections.Immutable;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace AuthServer.Tokens.Introspection;

/// <summary>The introspection endpoint's handlers, in pipeline order, and the OpenIddict handler they replace.</summary>
public static class IntrospectionHandlers
{
    public static ImmutableArray<OpenIddictServerHandlerDescriptor> DefaultHandlers { get; } =
    [
        AttachIntrospectionClaims.Descriptor, // an active answer carries the scopes and AgentIdP's claims
        RecordIntrospection.Descriptor,       // token.introspected queued
        AnswerInsufficientScope.Descriptor,   // a caller without tokens:read: 403 insufficient_scope
        // An answer holds a token's claims: never cached, as OpenIddict already does for token and revocation answers.
        OpenIddictServerAspNetCoreHandlers.AttachCacheControlHeader<ApplyIntrospectionResponseContext>.Descriptor,
    ];

    /// <summary>
    /// OpenIddict's rule that only an audience or presenter of a token may introspect it: here any holder of
    /// <c>tokens:read</c> may (<see cref="ClientAuthentication.RequireAuthenticatedCaller"/>).
    /// </summary>
    public static ImmutableArray<OpenIddictServerHandlerDescriptor> RemovedHandlers { get; } =
    [
        OpenIddictServerHandlers.Introspection.ValidateAuthorizedParty.Descriptor,
    ];
}
