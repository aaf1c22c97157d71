namespace AgentIdp.Testing.Vault;

/// <summary>
/// Vault's ACL decision for one path: the rules of all the token's policies are merged by path (their
/// capabilities added up), the most specific matching rule decides, and <c>deny</c> on it wins over
/// everything. Specificity follows Vault's documented priority order.
/// </summary>
internal static class VaultAcl
{
    public static bool Allows(IEnumerable<VaultPolicyRule> rules, string path, string capability)
    {
        var merged = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var rule in rules)
        {
            if (!merged.TryGetValue(rule.Path, out var capabilities))
            {
                merged[rule.Path] = capabilities = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            }
            capabilities.UnionWith(rule.Capabilities);
        }

        string? best = null;
        foreach (var pattern in merged.Keys)
        {
            if (Matches(pattern, path) && (best is null || ComparePriority(pattern, best) > 0))
            {
                best = pattern;
            }
        }
        if (best is null)
        {
            return false;
        }
        var granted = merged[best];
        return !granted.Contains("deny") && granted.Contains(capability);
    }

    /// <summary>Whether a policy path (exact, <c>prefix*</c>, with <c>+</c> for one segment) covers a request path.</summary>
    public static bool Matches(string pattern, string path)
    {
        var glob = pattern.EndsWith('*');
        var patternSegments = (glob ? pattern[..^1] : pattern).Split('/');
        var pathSegments = path.Split('/');
        if (glob ? pathSegments.Length < patternSegments.Length : pathSegments.Length != patternSegments.Length)
        {
            return false;
        }
        var last = patternSegments.Length - 1;
        for (var i = 0; i < patternSegments.Length; i++)
        {
            var segment = patternSegments[i];
            if (segment == "+")
            {
                continue;
            }
            var matches = glob && i == last
                ? pathSegments[i].StartsWith(segment, StringComparison.Ordinal)
                : pathSegments[i] == segment;
            if (!matches)
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// Greater than zero when <paramref name="a"/> takes priority over <paramref name="b"/>: the later the first
    /// wildcard, then not ending in <c>*</c>, then fewer <c>+</c> segments, then longer, then lexicographically larger.
    /// </summary>
    public static int ComparePriority(string a, string b)
    {
        var result = FirstWildcard(a).CompareTo(FirstWildcard(b));
        if (result != 0)
        {
            return result;
        }
        var aGlob = a.EndsWith('*');
        if (aGlob != b.EndsWith('*'))
        {
            return aGlob ? -1 : 1;
        }
        result = PlusSegments(b).CompareTo(PlusSegments(a));
        if (result != 0)
        {
            return result;
        }
        result = a.Length.CompareTo(b.Length);
        return result != 0 ? result : string.CompareOrdinal(a, b);
    }

    private static int FirstWildcard(string pattern)
    {
        var index = pattern.AsSpan().IndexOfAny('+', '*');
        return index < 0 ? int.MaxValue : index;
    }

    private static int PlusSegments(string pattern) => pattern.Split('/').Count(s => s == "+");
}
