using AgentIdp.Core.Credentials;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

using AgentIdp.Core.Errors;

namespace AgentAdminApi.Errors;

/// <summary>
/// RFC 9457 problem documents (<c>application/problem+json</c>) with the <c>code</c> member and, for
/// validation errors, <c>errors</c>: field → messages.
/// </summary>
public static class ApiProblems
{
    public static ProblemHttpResult Validation(IReadOnlyDictionary<string, string[]> errors) =>
        Create(StatusCodes.Status400BadRequest, ErrorCodes.ValidationError, "The request is not valid",
            "One or more fields are missing or invalid; see errors.", new() { ["errors"] = errors });

    public static ProblemHttpResult Validation(string field, string message) =>
        Validation(new Dictionary<string, string[]> { [field] = [message] });

    public static ProblemHttpResult Unauthorized(string detail) =>
        Create(StatusCodes.Status401Unauthorized, ErrorCodes.Unauthorized, "Authentication required", detail);

    public static ProblemHttpResult Forbidden(string detail) =>
        Create(StatusCodes.Status403Forbidden, ErrorCodes.Forbidden, "Not allowed", detail);

    public static ProblemHttpResult AgentNotFound(Guid agentId) => AgentNotFound(agentId.ToString());

    private static ProblemHttpResult AgentNotFound(string agentId) =>
        Create(StatusCodes.Status404NotFound, ErrorCodes.AgentNotFound, "Agent not found", $"No agent has the id {agentId}.");

    public static ProblemHttpResult CredentialNotFound(Guid agentId, Guid credentialId) =>
        Create(StatusCodes.Status404NotFound, ErrorCodes.CredentialNotFound, "Credential not found",
            $"Agent {agentId} has no credential with the id {credentialId}.");

    public static ProblemHttpResult AuditEventNotFound(Guid eventId) => AuditEventNotFound(eventId.ToString());

    private static ProblemHttpResult AuditEventNotFound(string eventId) =>
        Create(StatusCodes.Status404NotFound, ErrorCodes.AuditEventNotFound, "Audit event not found", $"No audit event has the id {eventId}.");

    /// <summary>The not-found answer for the path id <paramref name="routeName"/> (agentId, credentialId, eventId), as written.</summary>
    public static ProblemHttpResult NotFound(string routeName, string id) => routeName switch
    {
        "credentialId" => Create(StatusCodes.Status404NotFound, ErrorCodes.CredentialNotFound, "Credential not found", $"No credential has the id {id}."),
        "eventId" => AuditEventNotFound(id),
        _ => AgentNotFound(id),
    };

    public static ProblemHttpResult AgentAlreadyExists() =>
        Create(StatusCodes.Status409Conflict, ErrorCodes.AgentAlreadyExists, "Agent already exists",
            "An agent with this e-mail address already exists (addresses are compared ignoring case).");

    public static ProblemHttpResult AgentAlreadyDecommissioned(Guid agentId) =>
        Create(StatusCodes.Status409Conflict, ErrorCodes.AgentAlreadyDecommissioned, "Agent already decommissioned",
            $"Agent {agentId} is decommissioned: it cannot be changed and gets no new credentials.");

    public static ProblemHttpResult CredentialAlreadyRevoked(Guid credentialId) =>
        Create(StatusCodes.Status409Conflict, ErrorCodes.CredentialAlreadyRevoked, "Credential already revoked",
            $"Credential {credentialId} is already revoked.");

    /// <summary>The answer to a credential lifecycle step that was refused.</summary>
    public static ProblemHttpResult Refused(CredentialRefusal refusal, Guid agentId, Guid credentialId = default) => refusal switch
    {
        CredentialRefusal.AgentNotFound => AgentNotFound(agentId),
        CredentialRefusal.AgentDecommissioned => AgentAlreadyDecommissioned(agentId),
        CredentialRefusal.CredentialNotFound => CredentialNotFound(agentId, credentialId),
        CredentialRefusal.CredentialRevoked => CredentialAlreadyRevoked(credentialId),
        CredentialRefusal.CredentialLimitReached => Create(StatusCodes.Status409Conflict, ErrorCodes.CredentialLimitReached, "Credential limit reached",
            $"Agent {agentId} already holds the most active credentials allowed (MAX_ACTIVE_CREDENTIALS_PER_AGENT): revoke one first."),
        CredentialRefusal.CredentialExpired => Validation("credentialId", "This credential has expired: generate a new credential instead of rotating it."),
        _ => throw new ArgumentOutOfRangeException(nameof(refusal), refusal, null),
    };

    public static ProblemHttpResult RateLimitExceeded() =>
        Create(StatusCodes.Status429TooManyRequests, ErrorCodes.RateLimitExceeded, "Too many requests",
            "This caller has made too many requests; retry after the number of seconds in Retry-After.");

    public static ProblemHttpResult InternalError() =>
        Create(StatusCodes.Status500InternalServerError, ErrorCodes.InternalError, "Internal error",
            "The server encountered an unexpected error. It has been logged.");

    public static ProblemHttpResult Create(int status, string code, string title, string detail, Dictionary<string, object?>? extensions = null)
    {
        var problem = new ProblemDetails
        {
            Type = "urn:agentidp:problem:" + code.ToLowerInvariant().Replace('_', '-'),
            Title = title,
            Status = status,
            Detail = detail,
        };
        problem.Extensions["code"] = code;
        foreach (var (key, value) in extensions ?? [])
        {
            problem.Extensions[key] = value;
        }
        return TypedResults.Problem(problem);
    }
}
