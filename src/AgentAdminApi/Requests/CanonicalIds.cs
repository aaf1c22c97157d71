using AgentAdminApi.Errors;

namespace AgentAdminApi.Requests;

public static class CanonicalIds
{
    /// <summary>
    /// A path id is found only as the API writes it: lower-case hex with hyphens. Another spelling of the
    /// same UUID (braces, parentheses, no hyphens, upper case) is not found, as an unknown client id is
    /// refused at the token endpoint, so every id has one URL.
    /// </summary>
    public static TBuilder RequireCanonicalIds<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            foreach (var (name, value) in context.HttpContext.Request.RouteValues)
            {
                if (value is string text && Guid.TryParse(text, out var id) && id.ToString("D") != text)
                {
                    return ApiProblems.NotFound(name, text);
                }
            }
            return await next(context);
        });
}
