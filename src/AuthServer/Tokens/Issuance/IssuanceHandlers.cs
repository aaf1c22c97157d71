using System.Collections.Immutable;
using OpenIddict.Server;

namespace AuthServer.Tokens.Issuance;

/// <summary>The token endpoint's handlers (client_credentials), in pipeline order, and the OpenIddict handler they replace.</summary>
public static class IssuanceHandlers
{
    public static ImmutableArray<OpenIddictServerHandlerDescriptor> DefaultHandlers { get; } =
    [
        RequireClientCredentials.Descriptor,    // no client id or secret: 401 invalid_client
        ValidateRequestedResources.Descriptor,  // each resource an absolute URI, or AUDIENCE or ADMIN_AUDIENCE by name
        LimitTokenRequests.Descriptor,          // over TOKEN_RATE_LIMIT_PER_MINUTE for this agent: 429 with Retry-After
        ValidateRequestedScopes.Descriptor,     // a scope beyond the agent's capabilities: invalid_scope
        IssueAgentAccessToken.Descriptor,       // the token's subject, scopes, audiences and claims; never outlives its credential
        OmitInternalClaims.Descriptor,          // no OpenIddict-internal claim in the JWT
        AttachNotBefore.Descriptor,             // nbf = iat; the jti kept for the audit event
        RecordIssuedToken.Descriptor,           // token.issued queued, the credential's last use noted
        AttachGrantedScope.Descriptor,          // the response always names the granted scope
    ];

    /// <summary>OpenIddict's resource check, which refuses every resource that is not a URI: replaced by <see cref="ValidateRequestedResources"/>.</summary>
    public static ImmutableArray<OpenIddictServerHandlerDescriptor> RemovedHandlers { get; } =
    [
        OpenIddictServerHandlers.Exchange.ValidateResourceParameter.Descriptor,
    ];
}
