using System.Collections.Immutable;
using OpenIddict.Server;

namespace AuthServer.Tokens.Issuance;

/// <summary>The token endpoint's handlers (client_credentials), in pipeline order.</summary>
public static class IssuanceHandlers
{
    public static ImmutableArray<OpenIddictServerHandlerDescriptor> DefaultHandlers { get; } =
    [
        RequireClientCredentials.Descriptor, // no client id or secret: 401 invalid_client
        LimitTokenRequests.Descriptor,       // over TOKEN_RATE_LIMIT_PER_MINUTE for this agent: 429 with Retry-After
        ValidateRequestedScopes.Descriptor,  // a scope beyond the agent's capabilities: invalid_scope
        IssueAgentAccessToken.Descriptor,    // the token's subject, scopes, audiences and claims; never outlives its credential
        OmitInternalClaims.Descriptor,       // no OpenIddict-internal claim in the JWT
        AttachNotBefore.Descriptor,          // nbf = iat; the jti kept for the audit event
        RecordIssuedToken.Descriptor,        // token.issued queued, the credential's last use noted
        AttachGrantedScope.Descriptor,       // the response always names the granted scope
    ];
}
