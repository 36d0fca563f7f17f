using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Xunit;
using Xunit.Abstractions;
using AuthKind = Orchestrator.Master.Tests.Api.Auth;

namespace Orchestrator.Master.Tests.Api.Hostile;

/// <summary>
/// The hostile-input suite (issue 12's acceptance): every request of <see cref="HostileCatalogue"/> sent to a real
/// orchestrator-master process, with slow clients working on it at the same time, then patches under contention and
/// abandoned watches. Every catalogued request must get a 4xx or an explicit 503, the process must stay up with its
/// RSS under <see cref="RssBoundBytes"/>, and the baseline objects created first must read back byte for byte.
/// The table (class → requests → statuses → up → data intact) goes to the test output and to
/// hostile-input-report.md beside the test assembly.
/// </summary>
public sealed class HostileInputSuiteTests(ITestOutputHelper output)
{
    /// <summary>The bound on the master's resident memory during the whole suite. Measured on the 2-core test machine:
    /// about 180 MB idle after seeding and under 600 MB at the suite's peak (3 MiB bodies, the largest JSON trees).</summary>
    public const long RssBoundBytes = 1024L * 1024 * 1024;

    private sealed record Row(string Class, int Requests, string Statuses, bool Up, bool Intact, long MaxRssBytes, bool RefusalsOnly = true);

    private sealed record Outcome(HostileRequest Request, int Code, string Answer);

    [Fact]
    [Trait("Category", "Hostile")]
    public async Task Every_hostile_request_is_refused_and_the_master_stays_up_with_its_data_intact()
    {
        await using var master = await MasterProcess.StartAsync();
        using var client = master.Client();
        using var anonymous = new HttpClient(new SocketsHttpHandler { SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true } })
            { Timeout = TimeSpan.FromSeconds(100) };
        await SeedAsync(master, client);
        var baseline = await SnapshotAsync(client);
        using var sampler = new RssSampler(master);
        var idleRss = master.RssBytes();

        var rows = new List<Row>();
        var refused = new List<Outcome>();
        var heaviest = new List<(HostileRequest Request, long RssGrowth)>();
        var slowClients = SlowClientsAsync(master);
        var clock = Stopwatch.StartNew();
        foreach (var group in HostileCatalogue.All().GroupBy(r => r.Class))
        {
            var outcomes = new List<Outcome>();
            foreach (var request in group)
            {
                var before = master.RssBytes();
                outcomes.Add(await SendAsync(master, client, anonymous, request));
                if (master.IsRunning) heaviest.Add((request, master.RssBytes() - before));
            }
            refused.AddRange(outcomes.Where(o => !IsRefusal(o.Code)));
            rows.Add(new Row(group.Key, outcomes.Count, Statuses(outcomes.Select(o => o.Code)), await UpAsync(master, client),
                await SnapshotAsync(client) == baseline, sampler.Max));
        }
        var slow = await slowClients;
        var hostAccessStored = await HostAccessObjectsStoredAsync(client);
        refused.AddRange(slow.Where(o => !IsRefusal(o.Code)));
        rows.Add(new Row("slow clients (concurrent with the above)", slow.Count, Statuses(slow.Select(o => o.Code)),
            await UpAsync(master, client), await SnapshotAsync(client) == baseline, sampler.Max));

        var (contended, contentionCodes) = await ContentionAsync(client);
        rows.Add(new Row("100 parallel merge patches (must all apply)", contentionCodes.Count, Statuses(contentionCodes),
            await UpAsync(master, client), await SnapshotAsync(client) == baseline, sampler.Max, RefusalsOnly: false));
        var watchCodes = await AbandonedWatchesAsync(master, client);
        rows.Add(new Row("50 watches never read, then abandoned", watchCodes.Count, Statuses(watchCodes),
            await UpAsync(master, client), await SnapshotAsync(client) == baseline, sampler.Max, RefusalsOnly: false));

        await Task.Delay(TimeSpan.FromSeconds(10)); // the load is gone: how much does the master keep?
        var report = Report(rows, idleRss, sampler.Max, clock.Elapsed) + $"RSS 10 s after the load: {master.RssBytes() / 1024 / 1024} MB.\n" + "\nRSS growth over the heaviest requests: " + string.Join("; ",
            heaviest.OrderByDescending(h => h.RssGrowth).Take(6).Select(h => $"{h.Request.Name} +{h.RssGrowth / 1024 / 1024} MB")) + "\n";
        output.WriteLine(report);
        await File.WriteAllTextAsync(Path.Combine(AppContext.BaseDirectory, "hostile-input-report.md"), report);

        Assert.True(refused.Count == 0, "answered with neither a 4xx nor a 503:\n" + string.Join("\n",
            refused.Select(o => $"  [{o.Request.Class}] {o.Request.Name}: {o.Code} {Trim(o.Answer, 300)}")) + "\n" + report);
        Assert.True(rows.All(r => r.Up), "the master stopped serving:\n" + master.LogTail);
        Assert.True(rows.All(r => r.Intact), "the baseline changed:\n" + report);
        Assert.True(hostAccessStored.Count == 0, "host-access objects were stored: " + string.Join(", ", hostAccessStored));
        Assert.True(contended, "not every contended merge patch applied");
        Assert.True(sampler.Max < RssBoundBytes, $"RSS reached {sampler.Max / 1024 / 1024} MB");
        Assert.True(HostileCatalogue.All().Count + slow.Count >= 300);
    }

    /// <summary>The pods and deployments of the host-access class (named h1, h2, …) that were stored after all.</summary>
    private static async Task<List<string>> HostAccessObjectsStoredAsync(HttpClient client)
    {
        var stored = new List<string>();
        foreach (var collection in new[] { HostileCatalogue.Ns + "/pods", HostileCatalogue.Deployments })
        {
            var list = JsonNode.Parse(await client.GetStringAsync(collection.TrimStart('/')))!;
            stored.AddRange(list["items"]!.AsArray().Select(i => (string)i!["metadata"]!["name"]!)
                .Where(n => System.Text.RegularExpressions.Regex.IsMatch(n, "^h[0-9]+$")).Select(n => collection + "/" + n));
        }
        // and the pod that was patched keeps its spec
        var pod = JsonNode.Parse(await client.GetStringAsync((HostileCatalogue.Ns + "/pods/p").TrimStart('/')))!;
        if (pod["spec"]!["volumes"] is JsonArray volumes && volumes.Any(v => v?["hostPath"] is not null)) stored.Add("pod p's hostPath volume");
        if (pod["spec"]!["containers"]![0]!["securityContext"]?["privileged"] is not null) stored.Add("pod p's privileged container");
        return stored;
    }

    private static bool IsRefusal(int code) => code is >= 400 and < 500 or 503;

    private static string Statuses(IEnumerable<int> codes) =>
        string.Join(", ", codes.GroupBy(c => c).OrderBy(g => g.Key).Select(g => $"{(g.Key < 0 ? "no answer" : g.Key.ToString())}×{g.Count()}"));

    private static string Trim(string text, int length) => text.Length > length ? text[..length] + "…" : text;

    private static string Report(List<Row> rows, long idleRss, long maxRss, TimeSpan elapsed)
    {
        var table = new StringBuilder();
        table.AppendLine("| class | requests | statuses | up | data intact | max RSS |");
        table.AppendLine("|---|---:|---|---|---|---:|");
        foreach (var row in rows)
            table.AppendLine($"| {row.Class} | {row.Requests} | {row.Statuses} | {(row.Up ? "yes" : "NO")} | {(row.Intact ? "yes" : "NO")} | {row.MaxRssBytes / 1024 / 1024} MB |");
        var refusals = rows.Where(r => r.RefusalsOnly).Sum(r => r.Requests);
        table.AppendLine($"| **refusals in all** | **{refusals}** | | | | |");
        table.AppendLine();
        table.AppendLine($"RSS: {idleRss / 1024 / 1024} MB after seeding, at most {maxRss / 1024 / 1024} MB during the suite " +
                         $"(bound {RssBoundBytes / 1024 / 1024} MB); {elapsed.TotalSeconds:0} s.");
        return table.ToString();
    }

    private static async Task<bool> UpAsync(MasterProcess master, HttpClient client)
    {
        if (!master.IsRunning) return false;
        try
        {
            using var response = await client.GetAsync("healthz");
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    private static async Task<Outcome> SendAsync(MasterProcess master, HttpClient client, HttpClient anonymous, HostileRequest request)
    {
        var token = master.Token;
        var path = request.Path.Replace("TOKEN", token);
        var uri = new Uri($"https://127.0.0.1:{master.Port}{path}", new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
        using var message = new HttpRequestMessage(new HttpMethod(request.Method), uri);
        if (request.Body is not null)
        {
            message.Content = new ByteArrayContent(request.Body);
            if (request.ContentType is not null) message.Content.Headers.TryAddWithoutValidation("Content-Type", request.ContentType);
        }
        var sender = client;
        if (request.Authorization is not null)
        {
            sender = anonymous;
            message.Headers.TryAddWithoutValidation("Authorization",
                request.Authorization.Replace("TOKEN[..10]", token[..10]).Replace("TOKEN", token));
        }
        else if (request.Auth != AuthKind.Token)
        {
            sender = anonymous;
            message.Headers.Authorization = request.Auth switch
            {
                AuthKind.WrongToken => new AuthenticationHeaderValue("Bearer", "not-the-token"),
                AuthKind.Basic => new AuthenticationHeaderValue("Basic", Convert.ToBase64String("admin:admin"u8.ToArray())),
                _ => null,
            };
        }
        try
        {
            using var response = await sender.SendAsync(message, HttpCompletionOption.ResponseHeadersRead);
            var code = (int)response.StatusCode;
            // a watch that was (wrongly) accepted streams: read what came, never wait for the end
            using var read = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            string answer;
            try { answer = await response.Content.ReadAsStringAsync(read.Token); }
            catch (OperationCanceledException) { answer = "(a stream that did not end)"; }
            return new Outcome(request, code, answer);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
        {
            return new Outcome(request, -1, e.Message);
        }
    }

    // ---- the baseline ----

    private static readonly string[] BaselineObjects =
    [
        "/api/v1/namespaces/baseline", "/api/v1/namespaces/sibling",
        HostileCatalogue.Cms + "/cm1", HostileCatalogue.Cms + "/cm2", HostileCatalogue.Cms + "/c",
        "/api/v1/namespaces/sibling/configmaps/x1", "/api/v1/namespaces/sibling/configmaps/x2",
        HostileCatalogue.Ns + "/secrets/s1", HostileCatalogue.Ns + "/secrets/s2", HostileCatalogue.Ns + "/services/svc",
    ];

    private static readonly string[] BaselineCollections =
    [
        "/api/v1/namespaces", HostileCatalogue.Cms, "/api/v1/namespaces/sibling/configmaps", HostileCatalogue.Ns + "/secrets",
        HostileCatalogue.Ns + "/services",
    ];

    private static async Task SeedAsync(MasterProcess master, HttpClient client)
    {
        async Task Post(string path, string body)
        {
            using var response = await client.PostAsync(path.TrimStart('/'), new StringContent(body, Encoding.UTF8, "application/json"));
            Assert.True(response.StatusCode == HttpStatusCode.Created, $"{path}: {await response.Content.ReadAsStringAsync()}");
        }
        await Post("/api/v1/namespaces", """{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"baseline"}}""");
        await Post("/api/v1/namespaces", """{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"sibling"}}""");
        foreach (var name in new[] { "cm1", "cm2" })
            await Post(HostileCatalogue.Cms, $$$"""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"{{{name}}}","labels":{"app":"base"}},"data":{"k":"{{{name}}}"}}""");
        await Post(HostileCatalogue.Cms, """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"a":"b"}}""");
        foreach (var name in new[] { "x1", "x2" })
            await Post("/api/v1/namespaces/sibling/configmaps", $$$"""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"{{{name}}}"},"data":{"k":"v"}}""");
        foreach (var name in new[] { "s1", "s2" })
            await Post(HostileCatalogue.Ns + "/secrets", $$$"""{"apiVersion":"v1","kind":"Secret","metadata":{"name":"{{{name}}}"},"stringData":{"password":"p-{{{name}}}"}}""");
        await Post(HostileCatalogue.Ns + "/services",
            """{"apiVersion":"v1","kind":"Service","metadata":{"name":"svc"},"spec":{"selector":{"app":"web"},"ports":[{"port":80}]}}""");
        await Post(HostileCatalogue.Deployments,
            """{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":1,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"nginx"}]}}}}""");
        // a node whose kubelet port is closed, and a pod bound to it: the relays' target
        await Post("/api/v1/nodes", """{"apiVersion":"v1","kind":"Node","metadata":{"name":"ghost"}}""");
        // the node lifecycle controller may write the new Node meanwhile (it takes off the not-ready:NoSchedule taint
        // TaintNodesByCondition gave it, the Node having no Ready condition): read again on a conflict, as a client does
        var closedPort = ClosedPort();
        for (var attempt = 1; ; attempt++)
        {
            var node = JsonNode.Parse(await client.GetStringAsync("api/v1/nodes/ghost"))!;
            node["status"] = new JsonObject
            {
                ["addresses"] = new JsonArray(new JsonObject { ["type"] = "InternalIP", ["address"] = "127.0.0.1" }),
                ["daemonEndpoints"] = new JsonObject { ["kubeletEndpoint"] = new JsonObject { ["Port"] = closedPort } },
            };
            using var put = await client.PutAsync("api/v1/nodes/ghost/status", new StringContent(node.ToJsonString(), Encoding.UTF8, "application/json"));
            if (put.StatusCode == HttpStatusCode.Conflict && attempt < 5) continue;
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
            break;
        }
        await Post(HostileCatalogue.Ns + "/pods",
            """{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"nodeName":"ghost","containers":[{"name":"c","image":"i"}]}}""");
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Every baseline object as the API answers it, and the names in each baseline collection.</summary>
    private static async Task<string> SnapshotAsync(HttpClient client)
    {
        var snapshot = new StringBuilder();
        foreach (var path in BaselineObjects)
            snapshot.Append(path).Append(" = ").AppendLine(await client.GetStringAsync(path.TrimStart('/')));
        foreach (var path in BaselineCollections)
        {
            var list = JsonNode.Parse(await client.GetStringAsync(path.TrimStart('/')))!;
            var names = list["items"]!.AsArray().Select(i => i!["metadata"]!["name"]!.ToString()).Order(StringComparer.Ordinal);
            snapshot.Append(path).Append(" names = ").AppendLine(string.Join(",", names));
        }
        return snapshot.ToString();
    }

    // ---- slow clients, contention, abandoned watches ----

    /// <summary>Bodies trickling in, bodies that never come, headers that never end: each must end with 408 (or the
    /// connection closed by the server), never hold the server.</summary>
    private static async Task<List<Outcome>> SlowClientsAsync(MasterProcess master)
    {
        var token = master.Token;
        string Post(int length) =>
            $"POST {HostileCatalogue.Cms} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n" +
            $"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n";
        var clients = new List<Task<Outcome>>();
        for (var i = 0; i < 6; i++)
            clients.Add(SlowAsync(master.Port, $"body at one byte a second #{i}", Post(100_000), trickle: true));
        for (var i = 0; i < 3; i++)
            clients.Add(SlowAsync(master.Port, $"body that never comes #{i}", Post(1_000), trickle: false));
        for (var i = 0; i < 3; i++)
            clients.Add(SlowAsync(master.Port, $"headers that never end #{i}", $"GET {HostileCatalogue.Cms} HTTP/1.1\r\nHost: 127.0.0.1\r\n", trickle: true,
                header: true));
        return [.. await Task.WhenAll(clients)];
    }

    private static async Task<Outcome> SlowAsync(int port, string name, string head, bool trickle, bool header = false)
    {
        var request = new HostileRequest("slow clients", name, header ? "GET" : "POST", HostileCatalogue.Cms);
        try
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(IPAddress.Loopback, port);
            await using var tls = new SslStream(tcp.GetStream(), false, (_, _, _, _) => true);
            await tls.AuthenticateAsClientAsync("127.0.0.1");
            await tls.WriteAsync(Encoding.ASCII.GetBytes(head + (header ? "" : "{")));
            await tls.FlushAsync();
            var buffer = new byte[8192];
            var reading = tls.ReadAsync(buffer).AsTask();
            using var giveUp = new CancellationTokenSource(TimeSpan.FromSeconds(120));
            while (!reading.IsCompleted && !giveUp.IsCancellationRequested)
            {
                if (trickle)
                {
                    try { await tls.WriteAsync(Encoding.ASCII.GetBytes(header ? "X" : " "), giveUp.Token); }
                    catch (IOException) { break; }
                }
                await Task.WhenAny(reading, Task.Delay(1000, giveUp.Token).ContinueWith(_ => { }));
            }
            var read = await reading.WaitAsync(giveUp.Token);
            var answer = Encoding.UTF8.GetString(buffer, 0, read);
            return new Outcome(request, answer.StartsWith("HTTP/1.1 ") ? int.Parse(answer[9..12]) : -1, answer);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException)
        {
            return new Outcome(request, -1, e.Message);
        }
    }

    private static async Task<(bool AllApplied, List<int> Codes)> ContentionAsync(HttpClient client)
    {
        using (var created = await client.PostAsync("api/v1/namespaces/default/configmaps",
                   new StringContent("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"contended"},"data":{}}""", Encoding.UTF8, "application/json")))
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var codes = await Task.WhenAll(Enumerable.Range(0, 100).Select(async i =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Patch, "api/v1/namespaces/default/configmaps/contended")
            {
                Content = new StringContent($$$"""{"data":{"k{{{i}}}":"{{{i}}}"}}""", Encoding.UTF8, "application/merge-patch+json"),
            };
            using var response = await client.SendAsync(request);
            return (int)response.StatusCode;
        }));
        var data = JsonNode.Parse(await client.GetStringAsync("api/v1/namespaces/default/configmaps/contended"))!["data"]!.AsObject();
        return (codes.All(c => c == 200) && Enumerable.Range(0, 100).All(i => data[$"k{i}"]?.ToString() == i.ToString()), [.. codes]);
    }

    /// <summary>Watches whose clients never read while 200 writes of a 100 KB ConfigMap go by, then go away.</summary>
    private static async Task<List<int>> AbandonedWatchesAsync(MasterProcess master, HttpClient client)
    {
        var watchers = new List<(HttpClient Client, HttpResponseMessage Response)>();
        var codes = new List<int>();
        for (var i = 0; i < 50; i++)
        {
            var watcher = master.Client(Timeout.InfiniteTimeSpan);
            var response = await watcher.GetAsync("api/v1/namespaces/default/configmaps?watch=1", HttpCompletionOption.ResponseHeadersRead);
            codes.Add((int)response.StatusCode);
            watchers.Add((watcher, response));
        }
        var payload = new string('x', 100_000);
        using (var created = await client.PostAsync("api/v1/namespaces/default/configmaps",
                   new StringContent($$$"""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"churn"},"data":{"v":"0"}}""", Encoding.UTF8, "application/json")))
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        for (var i = 0; i < 200; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Patch, "api/v1/namespaces/default/configmaps/churn")
            {
                Content = new StringContent($$$"""{"data":{"v":"{{{i}}}{{{payload}}}"}}""", Encoding.UTF8, "application/merge-patch+json"),
            };
            using var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        foreach (var (watcher, response) in watchers)
        {
            response.Dispose();
            watcher.Dispose();
        }
        return codes;
    }

    /// <summary>Samples the master's RSS in the background; <see cref="Max"/> is the highest seen.</summary>
    private sealed class RssSampler : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private long _max;

        public RssSampler(MasterProcess master)
        {
            _ = Task.Run(async () =>
            {
                while (!_stop.IsCancellationRequested && master.IsRunning)
                {
                    try { Interlocked.Exchange(ref _max, Math.Max(Interlocked.Read(ref _max), master.RssBytes())); }
                    catch (IOException) { }
                    await Task.Delay(100).ConfigureAwait(false);
                }
            });
        }

        public long Max => Interlocked.Read(ref _max);

        public void Dispose() => _stop.Cancel();
    }
}
