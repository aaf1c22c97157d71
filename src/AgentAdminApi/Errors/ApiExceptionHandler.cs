using System.Text.Json;
using AgentIdp.Core.Errors;
using AgentIdp.Core.Vault;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AgentAdminApi.Errors;

/// <summary>
/// Turns what escapes a handler into a problem document. A request the framework could not bind
/// (malformed JSON, a path id that is not a UUID, a body of the wrong type) is 400
/// VALIDATION_ERROR naming the field; anything else is 500 INTERNAL_ERROR with nothing of its cause
/// in the body (the log has it).
/// </summary>
public sealed partial class ApiExceptionHandler(ILogger<ApiExceptionHandler> logger) : IExceptionHandler
{
    private static readonly string[] MustBeUuid = ["Must be a UUID."];

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var context = httpContext;
        var problem = exception switch
        {
            BadHttpRequestException bad => ApiProblems.Validation(FieldErrors(context, bad)),
            VaultException vault => VaultWriteError(vault),
            _ => null,
        };
        if (problem is null)
        {
            LogUnexpected(exception, context.Request.Method, context.Request.Path);
            problem = ApiProblems.InternalError();
        }
        await problem.ExecuteAsync(context);
        return true;
    }

    private static Dictionary<string, string[]> FieldErrors(HttpContext context, BadHttpRequestException exception)
    {
        // The exception handler runs with the route cleared; the feature keeps the values the request had.
        var routeValues = context.Features.Get<IExceptionHandlerFeature>()?.RouteValues ?? context.Request.RouteValues;
        var ids = routeValues
            .Where(route => route.Key.EndsWith("Id", StringComparison.Ordinal) && !Guid.TryParse(route.Value as string, out _))
            .ToDictionary(route => route.Key, _ => MustBeUuid);
        if (ids.Count > 0)
        {
            return ids;
        }
        if (exception.InnerException is JsonException json)
        {
            var field = string.IsNullOrEmpty(json.Path) || json.Path == "$" ? "body" : json.Path.TrimStart('$', '.');
            return new() { [field] = [$"The body is not valid JSON here (line {json.LineNumber + 1}, position {json.BytePositionInLine + 1})."] };
        }
        if (exception.StatusCode == StatusCodes.Status415UnsupportedMediaType)
        {
            return new() { ["body"] = ["The request body must be JSON, sent with Content-Type: application/json."] };
        }
        return new() { ["body"] = ["A JSON body is required."] };
    }

    /// <summary>Every Vault call the admin API makes writes: a failed one is VAULT_WRITE_ERROR, and nothing was committed.</summary>
    private ProblemHttpResult VaultWriteError(VaultException exception)
    {
        LogVaultFailure(exception.Message);
        return ApiProblems.Create(StatusCodes.Status500InternalServerError, ErrorCodes.VaultWriteError, "Vault write failed",
            "The secret could not be written to Vault, so nothing was changed. Check that Vault is reachable, unsealed and that AgentIdP's token may write agentidp/*; then retry.");
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "A Vault write failed: {Reason}")]
    private partial void LogVaultFailure(string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Unexpected error answering {Method} {Path}.")]
    private partial void LogUnexpected(Exception exception, string method, PathString path);
}
