namespace Orchestrator.Bench.Api;

public sealed record BenchOptions(int Objects, int Concurrency, int Lists, int Watchers, int WatchEvents, string? Server, string? Token)
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
            Int("--watch-events", 200), Value("--server"), Value("--token"));
    }
}
