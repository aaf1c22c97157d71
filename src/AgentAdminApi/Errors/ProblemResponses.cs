using System.Text.Json.Serialization;
using AgentIdp.Core.Http;
using Microsoft.AspNetCore.Http.Json;

namespace AgentAdminApi.Errors;

/// <summary>
/// Every error is a problem document (<see cref="ApiProblems"/>): a failed binding, an unexpected exception,
/// a body of the wrong media type or over the size limit. Request and response JSON use camelCase enums,
/// and a property given twice is refused.
/// </summary>
public static class ProblemResponses
{
    public const int MaxBodyBytes = 64 * 1024;

    public static IServiceCollection AddProblemResponses(this IServiceCollection services)
    {
        services.Configure<JsonOptions>(json =>
        {
            json.SerializerOptions.Converters.Add(new JsonStringEnumConverter(System.Text.Json.JsonNamingPolicy.CamelCase, allowIntegerValues: false));
            json.SerializerOptions.AllowDuplicateProperties = false;
        });
        // Binding failures reach ApiExceptionHandler, which names the field, instead of an empty 400.
        services.Configure<RouteHandlerOptions>(routes => routes.ThrowOnBadRequest = true);
        services.AddExceptionHandler<ApiExceptionHandler>();
        services.AddProblemDetails();
        return services;
    }

    /// <summary>First in the pipeline: errors, then the body limit.</summary>
    public static WebApplication UseProblemResponses(this WebApplication app)
    {
        app.UseExceptionHandler();
        // The framework answers a body of the wrong media type with an empty 415; the contract calls it a malformed body.
        app.UseStatusCodePages(async status =>
        {
            if (status.HttpContext.Response.StatusCode == StatusCodes.Status415UnsupportedMediaType)
            {
                status.HttpContext.Response.StatusCode = StatusCodes.Status400BadRequest;
                await ApiProblems.Validation("body", "The request body must be JSON, sent with Content-Type: application/json.").ExecuteAsync(status.HttpContext);
            }
        });
        app.Use(async (context, next) =>
        {
            if (await RequestBodyLimit.ExceedsAsync(context, MaxBodyBytes))
            {
                await ApiProblems.Validation("body", RequestBodyLimit.TooLarge(MaxBodyBytes)).ExecuteAsync(context);
                return;
            }
            await next(context);
        });
        return app;
    }
}
