using System.Text.Json;
using AgentAdminApi.Security;
using AgentIdp.Core.Agents;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace AgentAdminApi.OpenApi;

/// <summary>
/// The OpenAPI document at <c>/openapi/v1.json</c>, with the bearer scheme declared, and in Development a
/// browsable reference at <c>/scalar</c> where an admin pastes a token from the AuthServer and tries the API.
/// </summary>
public static class ApiDocument
{
    private const string Bearer = "bearer";

    public static IServiceCollection AddAdminApiDocument(this IServiceCollection services) =>
        services.AddOpenApi(options => options.AddOperationTransformer(DescribeRequestBodyAsync).AddOperationTransformer(DescribeRequiredScopes).AddDocumentTransformer((document, _, _) =>
        {
            document.Info = new OpenApiInfo
            {
                Title = "AgentIdP admin API",
                Version = "v1",
                Description = "Agents, their credentials and the audit log. Every route needs `Authorization: Bearer <token>` " +
                    "with a token from the AuthServer (client credentials grant) whose `aud` holds the admin API's audience " +
                    "(ADMIN_AUDIENCE, default `agentidp-admin`), as every token carrying one of the admin API's scopes does. " +
                    "The scope each route needs is in its description and its security requirement.",
            };
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[Bearer] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                BearerFormat = "JWT",
                Description = "An access token from the AuthServer's POST /api/v1/token (client_credentials).",
            };
            document.Security ??= [];
            document.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(Bearer, document)] = [] });
            return Task.CompletedTask;
        }));

    /// <summary>
    /// The handlers take their bodies as a <c>JsonElement</c> and read them field by field, so the generator alone
    /// would describe every body as any JSON: the type an endpoint names with <c>Accepts&lt;T&gt;</c> is what it reads.
    /// </summary>
    private static async Task DescribeRequestBodyAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var accepts = context.Description.ActionDescriptor.EndpointMetadata.OfType<IAcceptsMetadata>().LastOrDefault();
        if (accepts?.RequestType is not { } type || type == typeof(JsonElement) || type == typeof(JsonElement?) ||
            operation.RequestBody?.Content is not { } content)
        {
            return;
        }
        var schema = await context.GetOrCreateSchemaAsync(type, null, cancellationToken);
        foreach (var mediaType in content.Values)
        {
            mediaType.Schema = schema;
        }
    }

    /// <summary>
    /// Each route names the scope its policy requires, in its description and as the role list of its bearer
    /// security requirement; a self-service route lists <c>agents:self</c> as the alternative.
    /// </summary>
    private static Task DescribeRequiredScopes(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var requirement = context.Description.ActionDescriptor.EndpointMetadata.OfType<IAuthorizeData>()
            .Select(authorize => authorize.Policy is { } policy ? Capabilities.Policies.GetValueOrDefault(policy) : null)
            .LastOrDefault(requirement => requirement is not null);
        if (requirement is null)
        {
            return Task.CompletedTask;
        }
        var scheme = new OpenApiSecuritySchemeReference(Bearer, context.Document);
        operation.Security = [new OpenApiSecurityRequirement { [scheme] = [requirement.Capability] }];
        operation.Description = $"Needs a token whose scope holds `{requirement.Capability}`.";
        if (requirement.OrSelf)
        {
            operation.Security.Add(new OpenApiSecurityRequirement { [scheme] = [AdminCapabilities.AgentsSelf] });
            operation.Description = $"Needs a token whose scope holds `{requirement.Capability}`, or, when `agentId` is the caller's own id " +
                $"(self-service), `{AdminCapabilities.AgentsSelf}`, which every agent may request for itself.";
        }
        return Task.CompletedTask;
    }

    public static WebApplication MapAdminApiDocument(this WebApplication app)
    {
        app.MapOpenApi().AllowAnonymous();
        if (app.Environment.IsDevelopment())
        {
            app.MapScalarApiReference(options => options.WithTitle("AgentIdP admin API")).AllowAnonymous();
        }
        return app;
    }
}
