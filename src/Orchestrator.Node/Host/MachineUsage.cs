namespace Orchestrator.Node.Host;

/// <summary>The machine's own CPU and memory counters from /proc, as the kubelet reads its root cgroup: CPU time of all
/// cores (user, nice, system, irq, softirq, steal; not idle or iowait) and the memory working set (used memory less the
/// inactive file cache).</summary>
internal static class MachineUsage
{
    private const long NanosecondsPerTick = 10_000_000; // USER_HZ is 100 on Linux

    /// <summary>Cumulative CPU nanoseconds of the machine, or null where /proc/stat is absent.</summary>
    public static ulong? CpuUsageNanoSeconds(string stat = "/proc/stat")
    {
        if (!File.Exists(stat)) return null;
        var line = File.ReadLines(stat).FirstOrDefault(l => l.StartsWith("cpu ", StringComparison.Ordinal));
        return line is null ? null : ParseCpuLine(line);
    }

    internal static ulong? ParseCpuLine(string line)
    {
        var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 9) return null;
        ulong ticks = 0;
        foreach (var i in new[] { 1, 2, 3, 6, 7, 8 }) // user nice system (idle iowait) irq softirq steal
            ticks += ulong.TryParse(fields[i], out var v) ? v : 0;
        return ticks * NanosecondsPerTick;
    }

    /// <summary>The machine's memory working set in bytes, or null where /proc/meminfo is absent.</summary>
    public static ulong? MemoryWorkingSetBytes(string meminfo = "/proc/meminfo") =>
        File.Exists(meminfo) ? ParseWorkingSet(File.ReadAllLines(meminfo)) : null;

    internal static ulong? ParseWorkingSet(IEnumerable<string> lines)
    {
        var values = new Dictionary<string, ulong>();
        foreach (var line in lines)
        {
            var colon = line.IndexOf(':');
            if (colon < 0) continue;
            var parts = line[(colon + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length > 0 && ulong.TryParse(parts[0], out var kb)) values[line[..colon]] = kb * 1024;
        }
        if (!values.TryGetValue("MemTotal", out var total) || !values.TryGetValue("MemFree", out var free)) return null;
        var used = total > free ? total - free : 0;
        var inactive = values.GetValueOrDefault("Inactive(file)");
        return inactive < used ? used - inactive : 0;
    }
}
