using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentAdminApi.Tests;

/// <summary>
/// The OpenAPI document and the handlers describe the same request bodies. The handlers read their bodies
/// field by field and refuse any other field, naming the fields they take; the document's schemas come
/// from the request records. A field added to one side only fails here.
/// </summary>
public sealed class OpenApiRequestSchemaTests(AdminApiFixture fixture) : IClassFixture<AdminApiFixture>
{
    private const string NoSuchField = "notAFieldOfAnyBody";
    private const string UnknownFieldMessage = "Unknown field; this body's fields are: ";

    [Fact]
    public async Task Every_request_schema_lists_exactly_the_fields_its_body_reader_accepts()
    {
        var document = await DocumentAsync();
        var bodies = RequestBodies(document).ToList();

        Assert.Superset(
            new HashSet<string> { "POST /api/v1/agents", "PATCH /api/v1/agents/{agentId}", "POST /api/v1/agents/{agentId}/credentials" },
            bodies.Select(b => $"{b.Method} {b.Path}").ToHashSet());
        foreach (var (method, path, schema) in bodies)
        {
            var documented = Properties(document, schema);
            var accepted = await AcceptedFieldsAsync(method, path);

            Assert.True(documented.SetEquals(accepted),
                $"{method} {path}: the OpenAPI schema lists [{string.Join(", ", documented.Order())}], " +
                $"the body reader accepts [{string.Join(", ", accepted.Order())}].");
        }
    }

    [Fact]
    public async Task No_field_the_document_lists_is_refused_as_unknown()
    {
        var document = await DocumentAsync();

        foreach (var (method, path, schema) in RequestBodies(document))
        {
            // Every documented field, null (so that nothing is written), beside one the document does not list.
            var body = new JsonObject();
            foreach (var field in Properties(document, schema))
            {
                body[field] = null;
            }
            body[NoSuchField] = 0;
            var errors = await ValidationErrorsAsync(method, path, body);

            Assert.True(errors.TryGetValue(NoSuchField, out var unknown) && unknown.Single().StartsWith(UnknownFieldMessage, StringComparison.Ordinal),
                $"{method} {path} did not refuse '{NoSuchField}' as an unknown field.");
            var refused = errors.Where(e => e.Key != NoSuchField && e.Value.Any(m => m.StartsWith(UnknownFieldMessage, StringComparison.Ordinal)))
                .Select(e => e.Key).ToList();
            Assert.True(refused.Count == 0, $"{method} {path} refuses documented fields as unknown: {string.Join(", ", refused)}.");
        }
    }

    private async Task<JsonElement> DocumentAsync()
    {
        using var client = fixture.AdminApi.CreateClient();
        using var response = await client.GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.JsonAsync();
    }

    /// <summary>Every operation of the document that takes a JSON body, with the schema of that body.</summary>
    private static IEnumerable<(string Method, string Path, JsonElement Schema)> RequestBodies(JsonElement document)
    {
        foreach (var path in document.GetProperty("paths").EnumerateObject())
        {
            foreach (var operation in path.Value.EnumerateObject())
            {
                if (operation.Value.ValueKind == JsonValueKind.Object &&
                    operation.Value.TryGetProperty("requestBody", out var requestBody) &&
                    requestBody.GetProperty("content").TryGetProperty("application/json", out var json))
                {
                    yield return (operation.Name.ToUpperInvariant(), path.Name, json.GetProperty("schema"));
                }
            }
        }
    }

    /// <summary>The property names of a schema, following a <c>$ref</c> into the document's components.</summary>
    private static HashSet<string> Properties(JsonElement document, JsonElement schema)
    {
        if (schema.TryGetProperty("$ref", out var reference))
        {
            var name = reference.GetString()!.Split('/')[^1];
            schema = document.GetProperty("components").GetProperty("schemas").GetProperty(name);
        }
        return schema.TryGetProperty("properties", out var properties)
            ? properties.EnumerateObject().Select(p => p.Name).ToHashSet(StringComparer.Ordinal)
            : new HashSet<string>(StringComparer.Ordinal);
    }

    /// <summary>What the route's body reader takes, as it says when it refuses a field it does not know.</summary>
    private async Task<HashSet<string>> AcceptedFieldsAsync(string method, string path)
    {
        var errors = await ValidationErrorsAsync(method, path, new JsonObject { [NoSuchField] = 0 });

        Assert.True(errors.TryGetValue(NoSuchField, out var messages), $"{method} {path} did not refuse '{NoSuchField}'.");
        var message = Assert.Single(messages);
        Assert.StartsWith(UnknownFieldMessage, message);
        return message[UnknownFieldMessage.Length..].TrimEnd('.')
            .Split(", ", StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>
    /// Sends the body as the admin (who holds every capability) to the route, its path ids filled with ids of
    /// nothing: bodies are read before anything is looked up, so an invalid body is refused and nothing changes.
    /// </summary>
    private async Task<Dictionary<string, string[]>> ValidationErrorsAsync(string method, string path, JsonObject body)
    {
        var route = System.Text.RegularExpressions.Regex.Replace(path, @"\{[^}]+\}", _ => Guid.NewGuid().ToString());
        using var response = await fixture.Admin.SendJsonAsync(new HttpMethod(method), route, body.ToJsonString());
        var problem = await response.ProblemAsync(HttpStatusCode.BadRequest, "VALIDATION_ERROR");
        return problem.GetProperty("errors").EnumerateObject()
            .ToDictionary(e => e.Name, e => e.Value.EnumerateArray().Select(m => m.GetString()!).ToArray(), StringComparer.Ordinal);
    }
}
