namespace Orchestrator.Bench.Api;

/// <param name="SpreadOver">More masters of the same cluster (--spread-over URL,URL): the gets are measured once more, spread
/// evenly over --server and these.</param>
/// <param name="Only">--only get,list,table,watch,etcd,custom,mixed: those measurements alone (the creates always run: they
/// make the objects the others read; --only create is the creates alone); null is all of them.</param>
/// <param name="Namespace">--namespace NAME: the configmaps' namespace; when it is there already (an earlier run against the same
/// --server made it), its objects are read and no creates are made — for profiling the reads alone (get, list, table, watch).</param>
/// <param name="GetRounds">--get-rounds N: the gets of all objects are measured N times, each round printed: the first
/// round of a process also pays for the JIT of the get path (2,000 gets last a fraction of a second), the later ones do not.</param>
/// <param name="GetClient">--get-client invoker|httpclient: how the gets are sent (see ApiBench.GetClient).</param>
/// <param name="GetAs">--get-as admin|serviceaccount: whose token the gets carry. admin (the default, every figure before
/// 2026-12-07) is the token of system:masters: no token check beyond a compare, no RBAC. serviceaccount is a ServiceAccount
/// of the bench's namespace with a Role that lets it get configmaps there, and a token from its TokenRequest: each get is
/// authenticated as kube's workloads are (the JWT, the account's lookup) and authorized by RBAC.</param>
/// <param name="WatchClient">--watch-client threads|httpclient: how the watchers read their streams (see ThreadWatcher).</param>
/// <param name="Serve">--serve PORT: no measurement; the in-process master is started on that port and kept until stdin ends
/// or Ctrl-C, so that a bench in another process (--server) measures it and a profiler sees the server alone.</param>
public sealed record BenchOptions(int Objects, int Concurrency, int Lists, int Watchers, int WatchEvents, string? Server, string? Token,
    IReadOnlyList<Uri> SpreadOver, IReadOnlySet<string>? Only = null, int? Serve = null,
    string? Namespace = null, int GetRounds = 1, string GetClient = "httpclient", string WatchClient = "threads",
    string GetAs = "admin")
{
    public static readonly IReadOnlySet<string> Measurements =
        new HashSet<string> { "create", "get", "list", "table", "watch", "etcd", "custom", "mixed" };

    public bool Runs(string measurement) => Only is null || Only.Contains(measurement);

    public static BenchOptions Parse(string[] args)
    {
        string? Value(string name)
        {
            var i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        }
        int Int(string name, int fallback) => int.TryParse(Value(name), out var v) ? v : fallback;
        var only = Value("--only")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet();
        if (only?.FirstOrDefault(m => !Measurements.Contains(m)) is { } unknown)
            throw new ArgumentException($"--only {unknown}: one of {string.Join(',', Measurements)}");
        return new BenchOptions(Int("--objects", 2000), Int("--concurrency", 16), Int("--lists", 50), Int("--watchers", 100),
            Int("--watch-events", 200), Value("--server"), Value("--token"),
            (Value("--spread-over") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(u => new Uri(u)).ToList(),
            only, Value("--serve") is { } port ? int.Parse(port) : null, Value("--namespace"), Math.Max(1, Int("--get-rounds", 1)),
            Value("--get-client") is { } client
                ? client is "invoker" or "httpclient" ? client : throw new ArgumentException($"--get-client {client}: invoker or httpclient")
                : "httpclient",
            Value("--watch-client") is { } watchClient
                ? watchClient is "threads" or "httpclient" ? watchClient : throw new ArgumentException($"--watch-client {watchClient}: threads or httpclient")
                : "threads",
            Value("--get-as") is { } getAs
                ? getAs is "admin" or "serviceaccount" ? getAs : throw new ArgumentException($"--get-as {getAs}: admin or serviceaccount")
                : "admin");
    }
}
