namespace AgentIdp.Bench;

/// <summary>The machine a run's figures belong to, as Linux describes it.</summary>
internal sealed record MachineInfo(int Cores, string CpuModel, long MemoryBytes)
{
    public static MachineInfo Read() => new(
        Environment.ProcessorCount, // what nproc prints: the cores this process may use
        ProcFile("/proc/cpuinfo", "model name") ?? "unknown CPU",
        long.TryParse(ProcFile("/proc/meminfo", "MemTotal")?.Split(' ')[0], out var kilobytes) ? kilobytes * 1024 : 0);

    /// <summary>The value of the first <c>key: value</c> line with this key, or null.</summary>
    private static string? ProcFile(string path, string key)
    {
        if (!File.Exists(path))
        {
            return null;
        }
        return File.ReadLines(path)
            .Select(line => line.Split(':', 2))
            .Where(parts => parts.Length == 2 && parts[0].Trim() == key)
            .Select(parts => parts[1].Trim())
            .FirstOrDefault();
    }
}
