using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Orchestrator.Bench.Api;

/// <summary>The four measurements, each on its own namespace's configmaps: creates and gets (C concurrent clients),
/// lists of all N objects, and watch fan-out (W watchers, E creates, latency from send to each watcher's
/// receipt).</summary>
public sealed class ApiBench(Uri server, string token, BenchOptions options)
{
    private readonly HttpClient _client = NewClient(server, token);
    private readonly string _ns = options.Namespace ?? "bench-" + Guid.NewGuid().ToString("N")[..6];
    private string ConfigMaps => $"/api/v1/namespaces/{_ns}/configmaps";

    private static SocketsHttpHandler NewHandler() => new()
    {
        MaxConnectionsPerServer = 1000,
        SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true },
    };

    private static HttpClient NewClient(Uri server, string token) => new(NewHandler())
    {
        BaseAddress = server,
        DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Bearer", token) },
        Timeout = TimeSpan.FromMinutes(2),
    };

    private static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

    private static StringContent ConfigMap(string name) =>
        Json("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"NAME","labels":{"bench":"api"}},"data":{"key":"value"}}""".Replace("NAME", name));

    private static string NamespaceJson(string name) =>
        """{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"NAME"}}""".Replace("NAME", name);

    public async Task RunAsync()
    {
        var names = Enumerable.Range(0, options.Objects).Select(i => $"cm{i:D6}").ToList();
        (double Rate, double P50) created = (double.NaN, double.NaN);
        (List<double> Latencies, TimeSpan Wall) creates = ([], TimeSpan.Zero);
        using var existing = await _client.PostAsync("/api/v1/namespaces", Json(NamespaceJson(_ns)));
        if (existing.StatusCode == System.Net.HttpStatusCode.Conflict && options.Namespace is not null)
            Console.WriteLine($"{"create",-28} skipped: namespace {_ns} is there from an earlier run (--namespace)");
        else
        {
            await Ensure(existing);
            // Warm-up: JIT, TLS connections, the store's first writes.
            await Parallel.ForEachAsync(Enumerable.Range(0, 50), new ParallelOptions { MaxDegreeOfParallelism = options.Concurrency },
                async (i, _) => await Ensure(await _client.PostAsync(ConfigMaps, ConfigMap($"warm{i}"))));
            var journal = Orchestrator.Master.Diagnostics.MasterMetrics.StoreJournalWrites();
            creates = await Measure(names, options.Concurrency, n => _client.PostAsync(ConfigMaps, ConfigMap(n)));
            created = Report("create", creates, "goal ≥ 3000 req/s at 16 clients, p99 ≤ 50 ms");
            var (writes, records) = Orchestrator.Master.Diagnostics.MasterMetrics.StoreJournalWrites();
            // Only an in-process master counts here.
            if (writes > journal.Writes)
                Console.WriteLine($"{"  journal writes",-28} {writes - journal.Writes,9} transactions for the creates, " +
                                  $"{(records - journal.Records) / (writes - journal.Writes),5:F1} records each (group commit)");
        }
        if (options.Runs("etcd") && creates.Latencies.Count > 0) await AgainstEtcd(creates, names[0]);
        var got = (Rate: double.NaN, P50: double.NaN);
        if (options.Runs("get"))
        {
            var getToken = options.GetAs == "serviceaccount" ? await ServiceAccountTokenAsync() : token;
            using var getClient = options.GetAs == "serviceaccount" ? NewClient(server, getToken) : null;
            var get = GetClient(names, getClient ?? _client, getToken);
            for (var round = 1; round <= options.GetRounds; round++)
                got = Report(options.GetRounds == 1 ? "get" : $"get (round {round})",
                    await Measure(names, options.Concurrency, get), "goal ≥ 20000 req/s");
            if (options.SpreadOver.Count > 0) await SpreadGets(names, got);
        }
        // The client only reads each list's bytes (nothing is parsed): the figures are the server's. Four lists of each
        // kind first, so that neither pays for the JIT.
        var lists = Enumerable.Range(0, options.Lists).Select(i => i.ToString()).ToList();
        foreach (var accept in new[] { "application/json", "application/json;as=Table;v=v1;g=meta.k8s.io" })
            for (var i = 0; i < 4; i++)
            {
                using var warm = new HttpRequestMessage(HttpMethod.Get, ConfigMaps);
                warm.Headers.TryAddWithoutValidation("Accept", accept);
                await Ensure(await _client.SendAsync(warm));
            }
        if (options.Runs("list"))
            Report($"list ({options.Objects + 50} objects)",
                await Measure(lists, Math.Min(4, options.Concurrency), _ => _client.GetAsync(ConfigMaps, HttpCompletionOption.ResponseHeadersRead)),
                "goal ≥ 500 req/s");
        if (options.Runs("table"))
            Report($"list table ({options.Objects + 50} objects)",
                await Measure(lists, Math.Min(4, options.Concurrency), _ =>
                {
                    var request = new HttpRequestMessage(HttpMethod.Get, ConfigMaps);
                    request.Headers.TryAddWithoutValidation("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io");
                    return _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
                }), "goal ≥ 500 req/s");
        if (options.Runs("watch")) await WatchFanOut();
        if (options.Runs("custom")) await CustomResources(created, got);
        if (options.Runs("mixed"))
        {
            if (!options.Runs("custom")) await CreateWidgetDefinition();
            await MixedKinds(created, got);
        }
    }

    /// <summary>The same number of puts to an etcd on this disk, values the size of a stored configmap, same
    /// concurrency; the store's creates as a ratio of them; and the disk's fsync rate.</summary>
    private async Task AgainstEtcd((List<double> Latencies, TimeSpan Wall) creates, string sample)
    {
        using var stored = await _client.GetAsync($"{ConfigMaps}/{sample}");
        var valueBytes = (await stored.Content.ReadAsByteArrayAsync()).Length;
        var (etcd, skipped) = await EtcdBaseline.PutsAsync(options.Objects, options.Concurrency, valueBytes);
        if (etcd is not { } puts) Console.WriteLine($"{"etcd put",-28} skipped: {skipped}");
        else
        {
            var (rate, _) = Report($"etcd put ({valueBytes} B values)", puts, "the baseline: etcd 3.4 on the same disk");
            var createRate = creates.Latencies.Count / creates.Wall.TotalSeconds;
            Console.WriteLine($"{"create / etcd put",-28} throughput ×{createRate / rate:F2} (goal ≥ 1.0×), p99 " +
                              $"{Percentile(creates.Latencies, 99):F1} ms against {Percentile(puts.Latencies, 99):F1} ms");
        }
        Console.WriteLine($"{"disk fsync rate",-28} {EtcdBaseline.FsyncRate(),9:F0} fsyncs/s (4 KiB write + fsync, one after another)");
    }

    private const string WidgetGroup = "bench.orchestrator.io";
    private string Widgets => $"/apis/{WidgetGroup}/v1/namespaces/{_ns}/widgets";

    private static StringContent Widget(string name, int i) =>
        Json($$$"""{"apiVersion":"{{{WidgetGroup}}}/v1","kind":"Widget","metadata":{"name":"{{{name}}}","labels":{"bench":"api"}},"spec":{"size":{{{i % 100}}},"color":"blue"}}""");

    /// <summary>The same creates, gets and lists over a CustomResourceDefinition's resource (a structural schema with
    /// a default and an enum, validated and defaulted on every write), against the configmaps' figures of this run.</summary>
    private async Task CustomResources((double Rate, double P50) configMapCreate, (double Rate, double P50) configMapGet)
    {
        await CreateWidgetDefinition();
        var names = Enumerable.Range(0, options.Objects).Select(i => $"w{i:D6}").ToList();
        var created = Report("create (custom resource)",
            await Measure(names, options.Concurrency, n => _client.PostAsync(Widgets, Widget(n, n.Length))));
        var got = Report("get (custom resource)", await Measure(names, options.Concurrency, n => _client.GetAsync($"{Widgets}/{n}")));
        Report($"list ({options.Objects} custom)",
            await Measure(Enumerable.Range(0, options.Lists).Select(i => i.ToString()).ToList(), Math.Min(4, options.Concurrency),
                _ => _client.GetAsync(Widgets)));
        Ratio("custom resource / configmap", created, configMapCreate, got, configMapGet);
    }

    /// <summary>The widgets' CustomResourceDefinition, created and waited for until its resource is served.</summary>
    private async Task CreateWidgetDefinition()
    {
        await Ensure(await _client.PostAsync("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", Json("""
            {"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
             "metadata":{"name":"widgets.GROUP"},
             "spec":{"group":"GROUP","scope":"Namespaced",
               "names":{"plural":"widgets","singular":"widget","kind":"Widget"},
               "versions":[{"name":"v1","served":true,"storage":true,
                 "additionalPrinterColumns":[{"name":"Size","type":"integer","jsonPath":".spec.size"}],
                 "schema":{"openAPIV3Schema":{"type":"object","properties":{"spec":{"type":"object","required":["size"],
                   "properties":{"size":{"type":"integer","minimum":0},"color":{"type":"string","enum":["blue","red"]},
                                 "shape":{"type":"string","default":"round"}}}}}}}]}}
            """.Replace("GROUP", WidgetGroup))));
        var served = Stopwatch.StartNew();
        while (true)
        {
            using var probe = await _client.GetAsync(Widgets);
            if (probe.IsSuccessStatusCode) break;
            if (served.Elapsed > TimeSpan.FromSeconds(30)) throw new TimeoutException("the CRD's resource was not served within 30 s");
            await Task.Delay(50);
        }
        Console.WriteLine($"{"CRD served after",-28} {served.Elapsed.TotalMilliseconds,6:F0} ms");
    }

    /// <summary>Creates and gets spread evenly over four kinds — configmaps, secrets, deployments (no controllers run
    /// here: stored and validated only) and the CRD's widgets — against the configmaps' figures of this run.</summary>
    private async Task MixedKinds((double Rate, double P50) configMapCreate, (double Rate, double P50) configMapGet)
    {
        string PathOf(int i) => (i % 4) switch
        {
            0 => ConfigMaps,
            1 => $"/api/v1/namespaces/{_ns}/secrets",
            2 => $"/apis/apps/v1/namespaces/{_ns}/deployments",
            _ => Widgets,
        };
        StringContent Body(int i, string name) => (i % 4) switch
        {
            0 => ConfigMap(name),
            1 => Json("""{"apiVersion":"v1","kind":"Secret","metadata":{"name":"NAME"},"stringData":{"password":"s3cret"}}""".Replace("NAME", name)),
            2 => Json("""{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"NAME"},"spec":{"replicas":1,"selector":{"matchLabels":{"app":"NAME"}},"template":{"metadata":{"labels":{"app":"NAME"}},"spec":{"containers":[{"name":"web","image":"nginx:1.27"}]}}}}""".Replace("NAME", name)),
            _ => Widget(name, i),
        };
        var items = Enumerable.Range(0, options.Objects).Select(i => $"{i}").ToList();
        var created = Report("create (mixed kinds)",
            await Measure(items, options.Concurrency, i => _client.PostAsync(PathOf(int.Parse(i)), Body(int.Parse(i), $"mixed{i}"))));
        var got = Report("get (mixed kinds)",
            await Measure(items, options.Concurrency, i => _client.GetAsync($"{PathOf(int.Parse(i))}/mixed{i}")));
        Ratio("mixed kinds / configmap", created, configMapCreate, got, configMapGet);
    }

    private static void Ratio(string what, (double Rate, double P50) create, (double Rate, double P50) baseCreate,
        (double Rate, double P50) get, (double Rate, double P50) baseGet) =>
        Console.WriteLine($"{what,-28} create throughput ×{create.Rate / baseCreate.Rate:F2}, p50 ×{create.P50 / baseCreate.P50:F2}; " +
                          $"get throughput ×{get.Rate / baseGet.Rate:F2}, p50 ×{get.P50 / baseGet.P50:F2}");

    /// <summary>The same gets, spread evenly over --server and the --spread-over masters (each answers from its own
    /// replica); its ratio to the gets through --server alone.</summary>
    private async Task SpreadGets(IReadOnlyList<string> names, (double Rate, double P50) single)
    {
        var clients = new[] { _client }.Concat(options.SpreadOver.Select(u => NewClient(u, token))).ToArray();
        // warm-up, as for the single master: each new client's TLS connections (one per concurrent request)
        foreach (var client in clients.Skip(1))
            await Parallel.ForEachAsync(names.Take(options.Concurrency * 4), new ParallelOptions { MaxDegreeOfParallelism = options.Concurrency },
                async (n, _) => await Ensure(await client.GetAsync($"{ConfigMaps}/{n}")));
        var next = -1;
        var spread = Report($"get over {clients.Length} masters",
            await Measure(names, options.Concurrency, n => clients[(uint)Interlocked.Increment(ref next) % clients.Length].GetAsync($"{ConfigMaps}/{n}")));
        Console.WriteLine($"{"  spread / one master",-28} throughput ×{spread.Rate / single.Rate:F2}, p50 ×{spread.P50 / single.P50:F2}");
        foreach (var client in clients.Skip(1)) client.Dispose();
    }

    /// <summary>The gets' client: HttpClient.GetAsync by default (--get-client httpclient). --get-client invoker sends them
    /// through the same kind of SocketsHttpHandler — TLS connections kept alive, the bearer token on every request, the
    /// whole body read and its status checked by <see cref="Measure"/> — by HttpMessageInvoker with each object's URI made
    /// once, without HttpClient's per-request extras (a timeout timer, the base address combined with a path parsed anew,
    /// the body copied into a buffer before it is read): to see what those cost the cores the server shares. On the loaded
    /// machine of 2026-12-06 the difference was within the noise (README).</summary>
    private Func<string, Task<HttpResponseMessage>> GetClient(IReadOnlyList<string> names, HttpClient client, string token)
    {
        if (options.GetClient == "httpclient") return n => client.GetAsync($"{ConfigMaps}/{n}");
        var uris = names.ToDictionary(n => n, n => new Uri(server, $"{ConfigMaps}/{n}"));
        var invoker = new HttpMessageInvoker(NewHandler());
        var authorization = "Bearer " + token;
        return n =>
        {
            var request = new HttpRequestMessage(HttpMethod.Get, uris[n]);
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
            return invoker.SendAsync(request, CancellationToken.None);
        };
    }

    /// <summary>--get-as serviceaccount: the account "bench-reader" of the namespace, bound to a Role that gets configmaps
    /// there (each made unless there from an earlier run), and a token of it from TokenRequest (an hour).</summary>
    private async Task<string> ServiceAccountTokenAsync()
    {
        async Task Make(string path, string json)
        {
            using var response = await _client.PostAsync(path, Json(json));
            if (response.StatusCode != System.Net.HttpStatusCode.Conflict) await Ensure(response);
        }
        await Make($"/api/v1/namespaces/{_ns}/serviceaccounts",
            """{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"bench-reader"}}""");
        await Make($"/apis/rbac.authorization.k8s.io/v1/namespaces/{_ns}/roles",
            """{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"bench-reader"},"rules":[""" +
            """{"apiGroups":[""],"resources":["configmaps"],"verbs":["get"]}]}""");
        await Make($"/apis/rbac.authorization.k8s.io/v1/namespaces/{_ns}/rolebindings",
            """{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"bench-reader"},"roleRef":""" +
            """{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"bench-reader"},"subjects":[""" +
            """{"kind":"ServiceAccount","name":"bench-reader"}]}""");
        using var response = await _client.PostAsync($"/api/v1/namespaces/{_ns}/serviceaccounts/bench-reader/token",
            Json("""{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{"expirationSeconds":3600}}"""));
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{(int)response.StatusCode}: {body}");
        var reader = JsonDocument.Parse(body).RootElement.GetProperty("status").GetProperty("token").GetString()!;
        // RBAC's informer publishes the binding shortly after its create: wait until the account may get
        using var probe = NewClient(server, reader);
        for (var i = 0; i < 100; i++)
        {
            using var answer = await probe.GetAsync($"{ConfigMaps}/cm000000");
            if (answer.IsSuccessStatusCode) return reader;
            await Task.Delay(50);
        }
        throw new InvalidOperationException("the bench's ServiceAccount was not allowed to get configmaps within 5 s");
    }

    private static async Task Ensure(HttpResponseMessage response)
    {
        using (response)
            if (!response.IsSuccessStatusCode)
                throw new InvalidOperationException($"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    private static async Task<(List<double> Latencies, TimeSpan Wall)> Measure(IReadOnlyList<string> items, int concurrency,
        Func<string, Task<HttpResponseMessage>> call)
    {
        var latencies = new ConcurrentBag<double>();
        var wall = Stopwatch.StartNew();
        await Parallel.ForEachAsync(items, new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (item, _) =>
        {
            var started = Stopwatch.GetTimestamp();
            using var response = await call(item);
            await Drain(response);
            if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{item}: {(int)response.StatusCode}");
            latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        });
        return (latencies.ToList(), wall.Elapsed);
    }

    /// <summary>Reads the body to its end into a pooled buffer: a list's half megabyte is not copied into a new array (a
    /// large-object allocation per list, and gen-2 collections) on the cores the server shares.</summary>
    private static async Task Drain(HttpResponseMessage response)
    {
        await using var body = await response.Content.ReadAsStreamAsync();
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            long read = 0;
            for (int n; (n = await body.ReadAsync(buffer)) > 0;) read += n;
            if (response.Content.Headers.ContentLength is { } length && read != length)
                throw new InvalidOperationException($"read {read} of {length} bytes");
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Prints one measurement; returns its throughput (req/s) and median latency (ms).</summary>
    private static (double Rate, double P50) Report(string what, (List<double> Latencies, TimeSpan Wall) result, string? goal = null)
    {
        var rate = result.Latencies.Count / result.Wall.TotalSeconds;
        var p50 = Percentile(result.Latencies, 50);
        Console.WriteLine($"{what,-28} n={result.Latencies.Count,6}  {rate,9:F0} req/s  " +
                          $"p50 {p50,7:F2} ms  p99 {Percentile(result.Latencies, 99),7:F2} ms{(goal is null ? "" : $"  ({goal})")}");
        return (rate, p50);
    }

    private static double Percentile(List<double> values, double p)
    {
        if (values.Count == 0) return double.NaN;
        var sorted = values.Order().ToList();
        return sorted[(int)Math.Clamp(Math.Ceiling(p / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];
    }

    /// <summary>W watchers from the current version; then E creates, C at a time (--concurrency), so that the event rate is
    /// the server's fan-out and not one create's round trip; each watcher's receipt of each event is timed against the
    /// create's send time, and against the first receipt of the same event by any watcher (the fan-out's own delay:
    /// the create's journal write is not in it).</summary>
    private async Task WatchFanOut()
    {
        var ns = $"{_ns}-w{Guid.NewGuid().ToString("N")[..4]}";
        await Ensure(await _client.PostAsync("/api/v1/namespaces",
            Json(NamespaceJson(ns))));
        var path = $"/api/v1/namespaces/{ns}/configmaps";
        using var watchClient = NewClient(server, token);
        watchClient.Timeout = Timeout.InfiniteTimeSpan;
        var names = Enumerable.Range(0, options.WatchEvents).Select(i => $"ev{i:D6}").ToList();
        var sent = new long[names.Count];
        var answered = new long[names.Count];
        var firstReceipt = new long[names.Count];
        var remaining = new CountdownEvent(options.Watchers * options.WatchEvents);
        using var cts = new CancellationTokenSource();
        var ready = new CountdownEvent(options.Watchers);
        var watched = $"{path}?watch=1&resourceVersion=0&allowWatchBookmarks=false";
        var receipts = Enumerable.Range(0, options.Watchers)
            .Select(_ => new WatchReceipts(names.Count, firstReceipt, remaining)).ToList();
        // --watch-client threads (the default): each watcher its own connection read with blocking calls on its own thread;
        // httpclient: HttpClient's response streams read asynchronously (the client of the figures before 2026-12-07)
        var watchers = options.WatchClient == "threads"
            ? receipts.Select(mine => Task.Run(async () =>
            {
                var reading = ThreadWatcher.Start(server, token, watched, mine, cts.Token);
                ready.Signal();
                await reading;
            })).ToList()
            : receipts.Select(mine => Task.Run(async () =>
            {
                try
                {
                    using var response = await watchClient.GetAsync(watched, HttpCompletionOption.ResponseHeadersRead, cts.Token);
                    ready.Signal();
                    await using var body = await response.Content.ReadAsStreamAsync(cts.Token);
                    var buffer = new byte[64 * 1024];
                    int read;
                    while ((read = await body.ReadAsync(buffer, cts.Token)) > 0) mine.Take(buffer.AsSpan(0, read), Stopwatch.GetTimestamp());
                }
                catch (OperationCanceledException) { }
            })).ToList();
        // a watcher that could not start says why, rather than the wait's timeout
        var started = Task.Run(() => ready.Wait(TimeSpan.FromSeconds(30)));
        if (await Task.WhenAny(started, Task.WhenAll(watchers)) != started) await Task.WhenAll(watchers);
        if (!await started) throw new TimeoutException("watchers did not start");

        var wall = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, names.Count), new ParallelOptions { MaxDegreeOfParallelism = options.Concurrency },
            async (i, _) =>
            {
                sent[i] = Stopwatch.GetTimestamp();
                await Ensure(await _client.PostAsync(path, ConfigMap(names[i])));
                answered[i] = Stopwatch.GetTimestamp();
            });
        var created = wall.Elapsed;
        var complete = remaining.Wait(TimeSpan.FromSeconds(60));
        var elapsed = wall.Elapsed;
        await cts.CancelAsync();
        await Task.WhenAll(watchers);
        var all = receipts.SelectMany(r => r.Receipts).ToList();
        var reads = receipts.Sum(r => r.Reads);
        var fromSend = all.Select(r => Stopwatch.GetElapsedTime(sent[r.Event], r.At).TotalMilliseconds).ToList();
        var fromFirst = all.Select(r => Stopwatch.GetElapsedTime(firstReceipt[r.Event], r.At).TotalMilliseconds).ToList();
        Console.WriteLine($"{$"watch fan-out ({options.Watchers} watchers)",-28} n={all.Count,6}  " +
                          $"{all.Count / elapsed.TotalSeconds,9:F0} events/s delivered  p50 {Percentile(fromSend, 50),7:F2} ms  " +
                          $"p99 {Percentile(fromSend, 99),7:F2} ms (send → receipt){(complete ? "" : "  INCOMPLETE")}" +
                          "  (goal at 100 watchers ≥ 100000 events/s, p99 ≤ 10 ms)");
        Console.WriteLine($"{"  fan-out delay",-28} p50 {Percentile(fromFirst, 50),7:F2} ms  p99 {Percentile(fromFirst, 99),7:F2} ms " +
                          $"(first watcher's receipt → each receipt); {names.Count} creates, {options.Concurrency} at a time, " +
                          $"took {created.TotalMilliseconds:F0} ms ({names.Count / created.TotalSeconds:F0}/s)");
        // What the send → receipt latency is made of: the create's own round trip (its commit; the watchers get the
        // change before the writer's answer), the first watcher's receipt, and the fan-out delay above.
        var answers = names.Select((_, i) => Stopwatch.GetElapsedTime(sent[i], answered[i]).TotalMilliseconds).ToList();
        var toFirst = names.Select((_, i) => i).Where(i => firstReceipt[i] != 0)
            .Select(i => Stopwatch.GetElapsedTime(sent[i], firstReceipt[i]).TotalMilliseconds).ToList();
        Console.WriteLine($"{"  creates while watched",-28} p50 {Percentile(answers, 50),7:F2} ms  p99 {Percentile(answers, 99),7:F2} ms " +
                          $"(send → answer); send → first watcher's receipt p50 {Percentile(toFirst, 50):F2} ms, " +
                          $"p99 {Percentile(toFirst, 99):F2} ms; {all.Count / (double)Math.Max(1, reads):F1} events per read");
    }
}
