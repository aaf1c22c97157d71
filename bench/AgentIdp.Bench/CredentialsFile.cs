namespace AgentIdp.Bench;

/// <summary>What token.lua reads: one <c>client_id,client_secret</c> line per agent.</summary>
internal static class CredentialsFile
{
    public static void Write(string path, IEnumerable<SeededAgent> agents) =>
        File.WriteAllLines(path, agents.Select(agent => $"{agent.ClientId},{agent.Secret}"));
}
