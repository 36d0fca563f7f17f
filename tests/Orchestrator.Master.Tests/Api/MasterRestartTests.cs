using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Akka.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orchestrator.Master.Api;
using Orchestrator.Master.Api.Security;
using Orchestrator.Master.Registry;
using Orchestrator.Master.Store;
using Orchestrator.Master.Tests.Store.Support;
using Xunit;

namespace Orchestrator.Master.Tests.Api;

/// <summary>
/// The master's API and store as Program.cs hosts them (HTTPS, token, SQLite journal in a data directory), stopped
/// in the middle of a stream of writes and started again on the same data: every acknowledged write is there,
/// resourceVersions keep increasing, and a watch resumes from the last version it saw. On SQLite
/// (<see cref="MasterRestartOnSqlite"/>) and with the journal in PostgreSQL (<see cref="MasterRestartOnPostgres"/>).
/// </summary>
public abstract class MasterRestartTests : IDisposable
{
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("master-restart-").FullName;
    private readonly StoreBackend _backend;
    private readonly int _port = FreePort();

    private protected MasterRestartTests(PostgresServer? postgres) => _backend = new StoreBackend(_dataDirectory, postgres);
    private const string ConfigMaps = "/api/v1/namespaces/default/configmaps";

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private async Task<WebApplication> StartMaster()
    {
        var options = new ApiServerOptions(_dataDirectory, "127.0.0.1", _port);
        var store = _backend.Options();
        var builder = WebApplication.CreateBuilder();
        builder.Logging.ClearProviders();
        var catalog = builder.Services.AddResourceRegistry();
        builder.AddKubernetesApiServer(options);
        // the kubelet CA is the composition root's, as MasterProgram's (the API's kubelet relays and webhook tunnels use it)
        builder.Services.AddSingleton(new Orchestrator.Shared.Protocol.KubeletCertificateAuthority(
            Orchestrator.Shared.Protocol.KubeletCertificateAuthority.CreateCertificate()));
        builder.Services.AddSingleton(store.Health);
        builder.Services.AddAkka("restart-" + Guid.NewGuid().ToString("N")[..6], (akka, _) => akka
            .AddHocon("akka.loglevel = WARNING", HoconAddMode.Prepend)
            .WithObjectStore(store, catalog)
            .WithCustomResources(catalog));
        var app = builder.Build();
        app.UseKubernetesApiServer(options);
        await app.StartAsync();
        return app;
    }

    private HttpClient Client() => new(new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true })
    {
        BaseAddress = new Uri($"https://127.0.0.1:{_port}"),
        DefaultRequestHeaders = { Authorization = new("Bearer", BearerToken.LoadOrCreate(_dataDirectory)) },
        Timeout = TimeSpan.FromSeconds(10),
    };

    private static StringContent ConfigMap(string name) =>
        new("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"NAME"},"data":{"n":"NAME"}}""".Replace("NAME", name),
            Encoding.UTF8, "application/json");

    [SkippableFact]
    public async Task Acknowledged_writes_survive_a_restart_in_mid_stream_and_watches_resume()
    {
        var master = await StartMaster();
        using var client = Client();
        var acknowledged = new ConcurrentDictionary<string, long>();

        // A watcher follows the stream and remembers the last version it saw.
        long lastSeen = 0;
        var watcher = Task.Run(async () =>
        {
            try
            {
                using var watchClient = Client();
                watchClient.Timeout = Timeout.InfiniteTimeSpan;
                using var stream = await watchClient.GetStreamAsync(ConfigMaps + "?watch=1");
                using var reader = new StreamReader(stream);
                while (await reader.ReadLineAsync() is { } line)
                    if (JsonNode.Parse(line)?["object"]?["metadata"]?["resourceVersion"]?.ToString() is { } rv)
                        Interlocked.Exchange(ref lastSeen, long.Parse(rv));
            }
            catch (Exception e) when (e is IOException or HttpRequestException or OperationCanceledException) { }
        });

        // A stream of writes; the master stops under it once enough of them were acknowledged.
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var name = $"w{i:D5}";
                try
                {
                    using var response = await client.PostAsync(ConfigMaps, ConfigMap(name));
                    if (response.StatusCode != HttpStatusCode.Created) continue;
                    var rv = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["metadata"]!["resourceVersion"]!.ToString();
                    acknowledged[name] = long.Parse(rv);
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
                {
                    await Task.Delay(10);
                }
            }
        });
        // The stop must come after the watch is open (its first event seen), or the test would check nothing about it;
        // under load the watcher's request can lag the 60 writes.
        var watchDeadline = DateTime.UtcNow.AddMinutes(1);
        while (acknowledged.Count < 60 || (Interlocked.Read(ref lastSeen) == 0 && DateTime.UtcNow < watchDeadline))
            await Task.Delay(10);
        await master.StopAsync();
        await master.DisposeAsync();
        await watcher;
        var ackedBeforeRestart = acknowledged.ToDictionary();
        var seenBeforeRestart = Interlocked.Read(ref lastSeen);
        Assert.True(seenBeforeRestart > 0, "the watcher saw events before the restart");

        master = await StartMaster();
        try
        {
            // The writer keeps going against the restarted master for a moment.
            var target = acknowledged.Count + 20;
            while (acknowledged.Count < target) await Task.Delay(10);
            stop.Cancel();
            await writer;

            var list = JsonNode.Parse(await client.GetStringAsync(ConfigMaps))!;
            var stored = list["items"]!.AsArray().ToDictionary(
                i => i!["metadata"]!["name"]!.ToString(), i => long.Parse(i!["metadata"]!["resourceVersion"]!.ToString()));
            foreach (var (name, rv) in acknowledged)
            {
                Assert.True(stored.TryGetValue(name, out var storedRv), $"acknowledged write {name} (rv {rv}) lost");
                Assert.Equal(rv, storedRv);
            }
            var maxBefore = ackedBeforeRestart.Values.Max();
            var after = acknowledged.Where(a => !ackedBeforeRestart.ContainsKey(a.Key)).Select(a => a.Value).ToList();
            Assert.All(after, rv => Assert.True(rv > maxBefore, $"rv {rv} after the restart is not above {maxBefore}"));
            Assert.True(long.Parse(list["metadata"]!["resourceVersion"]!.ToString()) >= acknowledged.Values.Max());

            // The watch resumes from the last version it saw: exactly the later changes, in order, no 410.
            var expected = stored.Where(s => s.Value > seenBeforeRestart).OrderBy(s => s.Value).Select(s => s.Key).ToList();
            Assert.NotEmpty(expected);
            using var watchClient = Client();
            using var response = await watchClient.GetAsync($"{ConfigMaps}?watch=1&resourceVersion={seenBeforeRestart}&timeoutSeconds=2",
                HttpCompletionOption.ResponseHeadersRead);
            var lines = (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => JsonNode.Parse(l)!).ToList();
            Assert.DoesNotContain(lines, l => l["type"]!.ToString() == "ERROR");
            Assert.Equal(expected, lines.Select(l => l["object"]!["metadata"]!["name"]!.ToString()));
        }
        finally
        {
            stop.Cancel();
            await master.StopAsync();
            await master.DisposeAsync();
        }
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dataDirectory, recursive: true); } catch (IOException) { }
    }
}

public sealed class MasterRestartOnSqlite() : MasterRestartTests(null);

[Collection(PostgresCollection.Name)]
public sealed class MasterRestartOnPostgres(PostgresServer postgres) : MasterRestartTests(postgres);
