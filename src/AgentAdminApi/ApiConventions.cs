using AgentIdp.Core.Http;
using AgentIdp.Core.RateLimiting;
using System.Text.Json.Serialization;
using System.Threading.RateLimiting;
using AgentAdminApi.Agents;
using AgentAdminApi.Audit;
using AgentAdminApi.Credentials;
using AgentAdminApi.Errors;
using AgentAdminApi.Paging;
using AgentAdminApi.Security;
using AgentIdp.Core.Configuration;
using AgentIdp.Core.Persistence;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace AgentAdminApi;

/// <summary>What every route of the admin API shares: JSON, errors, body limit, rate limit, paging, audit.</summary>
public static class ApiConventions
{
    public const string PerCallerRateLimit = "per-caller";

    public static IServiceCollection AddAdminApiConventions(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AdminApiOptions>().Bind(configuration).ValidateSettings().ValidateOnStart();
        services.Configure<JsonOptions>(json =>
        {
            json.SerializerOptions.Converters.Add(new JsonStringEnumConverter(System.Text.Json.JsonNamingPolicy.CamelCase, allowIntegerValues: false));
            json.SerializerOptions.AllowDuplicateProperties = false;
        });
        // Binding failures reach ApiExceptionHandler, which names the field, instead of an empty 400.
        services.Configure<RouteHandlerOptions>(routes => routes.ThrowOnBadRequest = true);
        services.AddExceptionHandler<ApiExceptionHandler>();
        services.AddProblemDetails();
        services.AddHttpContextAccessor();
        services.AddScoped<AdminAudit>();
        services.AddDataProtection().SetApplicationName("AgentIdP.AdminApi").PersistKeysToDbContext<AgentIdpDbContext>();
        services.AddSingleton<PageCursors>();
        services.AddRateLimiter(limiter =>
        {
            limiter.OnRejected = async (rejected, cancellationToken) =>
            {
                if (rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter))
                {
                    rejected.HttpContext.Response.Headers.RetryAfter = RetryAfter.Seconds(retryAfter);
                }
                await ApiProblems.RateLimitExceeded().ExecuteAsync(rejected.HttpContext);
            };
            limiter.AddPolicy(PerCallerRateLimit, context =>
            {
                var perMinute = context.RequestServices.GetRequiredService<IOptions<AdminApiOptions>>().Value.RequestsPerMinutePerCaller;
                var caller = context.User.AgentId()?.ToString() ?? context.Connection.RemoteIpAddress?.ToString() ?? "anonymous";
                return perMinute == 0
                    ? RateLimitPartition.GetNoLimiter(caller)
                    : RateLimitPartition.GetTokenBucketLimiter(caller, _ => TokenBuckets.PerMinute(perMinute));
            });
        });
        return services;
    }

    /// <summary>Errors first, then the body limit, who the caller is, how often it calls, and what it may do.</summary>
    public static WebApplication UseAdminApiPipeline(this WebApplication app)
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
            if (RequestBodyLimit.Exceeds(context, ApiExceptionHandler.MaxBodyBytes))
            {
                await ApiProblems.Validation("body", RequestBodyLimit.TooLarge(ApiExceptionHandler.MaxBodyBytes)).ExecuteAsync(context);
                return;
            }
            await next(context);
        });
        app.UseAuthentication();
        app.UseRateLimiter();
        app.UseAuthorization();
        return app;
    }

    /// <summary>The API's routes: agents, their credentials, the audit log; all rate limited per caller.</summary>
    public static WebApplication MapAdminApi(this WebApplication app)
    {
        var api = app.MapGroup("").RequireRateLimiting(PerCallerRateLimit);
        api.MapAgents();
        api.MapCredentials();
        api.MapAudit();
        return app;
    }
}
