using AgentAdminApi.Errors;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AgentAdminApi.Requests;

/// <summary>Field → messages, collected while a request is read, answered as one VALIDATION_ERROR.</summary>
public sealed class ValidationErrors
{
    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

    public bool Any => _errors.Count > 0;

    public void Add(string field, string message)
    {
        if (!_errors.TryGetValue(field, out var messages))
        {
            _errors[field] = messages = [];
        }
        messages.Add(message);
    }

    public ProblemHttpResult ToProblem() => ApiProblems.Validation(_errors.ToDictionary(e => e.Key, e => e.Value.ToArray()));
}
