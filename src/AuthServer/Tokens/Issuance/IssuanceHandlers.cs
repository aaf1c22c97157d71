using System.Collections.Immutable;
using OpenIddict.Server;

namespace AuthServer.Tokens.Issuance;

/// <summary>The token endpoint's handlers (client_credentials), in pipeline order.</summary>
public static class IssuanceHandlers
{
    public static ImmutableArray<OpenIddictServerHandlerDescriptor> DefaultHandlers { get; } =
    [
        RequireClientCredentials.Descriptor,
        LimitTokenRequests.Descriptor,
        ValidateRequestedScopes.Descriptor,
        IssueAgentAccessToken.Descriptor,
        OmitInternalClaims.Descriptor,
        AttachNotBefore.Descriptor,
        RecordIssuedToken.Descriptor,
        AttachGrantedScope.Descriptor,
    ];
}
