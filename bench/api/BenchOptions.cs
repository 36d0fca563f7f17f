namespace Orchestrator.Bench.Api;

/// <param name="SpreadOver">More masters of the same cluster (--spread-over URL,URL): the gets are measured once more, spread
/// evenly over --server and these.</param>
public sealed record BenchOptions(int Objects, int Concurrency, int Lists, int Watchers, int WatchEvents, string? Server, string? Token,
    IReadOnlyList<Uri> SpreadOver)
{
    public static BenchOptions Parse(string[] args)
    {
        string? Value(string name)
        {
            var i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        }
        int Int(string name, int fallback) => int.TryParse(Value(name), out var v) ? v : fallback;
        return new BenchOptions(Int("--objects", 2000), Int("--concurrency", 16), Int("--lists", 50), Int("--watchers", 100),
            Int("--watch-events", 200), Value("--server"), Value("--token"),
            (Value("--spread-over") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(u => new Uri(u)).ToList());
    }
}
