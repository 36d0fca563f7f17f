using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Xunit;
using Xunit.Abstractions;

namespace Orchestrator.Master.Tests.Store.Faults;

/// <summary>
/// The fault suite of issue 12, against real orchestrator-master processes: a full disk under writes and freed
/// again, a corrupt journal record at start, kill -9 under parallel writers. Acknowledged writes lost: 0; after a
/// fault clears the API writes again without a restart; /readyz is false exactly while the store cannot write.
/// </summary>
public sealed class MasterFaultTests(ITestOutputHelper output) : IDisposable
{
    private const string ConfigMaps = "/api/v1/namespaces/default/configmaps";
    private readonly string _root = Directory.CreateTempSubdirectory("master-fault-").FullName;
    private readonly List<MasterProcess> _masters = [];
    private string? _mounted;

    private MasterProcess Start(string dataDirectory, params string[] flags)
    {
        var master = MasterProcess.Start(dataDirectory, flags);
        _masters.Add(master);
        return master;
    }

    /// <summary>The test's ConfigMaps in default (the root CA publisher's kube-root-ca.crt left out).</summary>
    private static async Task<List<string>> Names(HttpClient client) =>
        JsonNode.Parse(await client.GetStringAsync(ConfigMaps))!["items"]!.AsArray()
            .Select(i => i!["metadata"]!["name"]!.ToString()).Where(name => name != "kube-root-ca.crt").ToList();

    private static void Run(string command, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(command, args) { RedirectStandardError = true })!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new Xunit.Sdk.XunitException($"{command} {string.Join(' ', args)}: {error}");
    }

    [Fact]
    public async Task A_full_disk_refuses_writes_at_once_keeps_reads_and_writes_resume_when_space_returns()
    {
        Assert.True(Environment.UserName == "root", "this test mounts a tmpfs and needs root");
        _mounted = Path.Combine(_root, "disk");
        Directory.CreateDirectory(_mounted);
        Run("mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", _mounted);
        var master = Start(Path.Combine(_mounted, "data"));
        await master.WaitReadyAsync();
        var pid = master.Process.Id;
        using var client = master.Client();
        for (var i = 0; i < 5; i++) Assert.Equal(HttpStatusCode.Created, (await client.PostAsync(ConfigMaps, MasterProcess.ConfigMap($"before-{i}"))).StatusCode);

        // One watch for the whole test: it must outlive the fault.
        using var watchClient = master.Client(Timeout.InfiniteTimeSpan);
        var watched = new ConcurrentQueue<string>();
        var watchStream = await watchClient.GetStreamAsync(ConfigMaps + "?watch=1");
        var watch = Task.Run(async () =>
        {
            using var reader = new StreamReader(watchStream);
            try
            {
                while (await reader.ReadLineAsync() is { } line)
                    watched.Enqueue($"{JsonNode.Parse(line)!["type"]} {JsonNode.Parse(line)!["object"]!["metadata"]!["name"]}");
            }
            catch (IOException) { }
        });

        // /readyz sampled all along.
        var samples = new ConcurrentQueue<(DateTime At, HttpStatusCode? Status)>();
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                samples.Enqueue((DateTime.UtcNow, await master.ReadyzAsync()));
                await Task.Delay(100);
            }
        });
        while (samples.Count < 3) await Task.Delay(50);

        // The disk fills: the WAL is emptied into the database first, so the next write needs new blocks.
        using (var connection = new SqliteConnection($"Data Source={Path.Combine(_mounted, "data", "store.db")};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA wal_checkpoint(TRUNCATE);";
            command.ExecuteNonQuery();
        }
        var fillingAt = DateTime.UtcNow;
        Fill(Path.Combine(_mounted, "filler"));

        var stopwatch = Stopwatch.StartNew();
        using var first = await client.PostAsync(ConfigMaps, MasterProcess.ConfigMap("during-0", 4096));
        var firstBody = JsonNode.Parse(await first.Content.ReadAsStringAsync())!;
        output.WriteLine($"first write on the full disk: {(int)first.StatusCode} {firstBody["message"]} after {stopwatch.ElapsedMilliseconds} ms");
        Assert.Equal(HttpStatusCode.InternalServerError, first.StatusCode);
        Assert.Equal("InternalError", firstBody["reason"]!.ToString());
        var failedAt = DateTime.UtcNow;

        var codes = new List<HttpStatusCode>();
        for (var i = 1; i <= 10; i++)
        {
            stopwatch.Restart();
            using var response = await client.PostAsync(ConfigMaps, MasterProcess.ConfigMap($"during-{i}", 4096));
            Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(2), $"a refused write took {stopwatch.Elapsed}");
            codes.Add(response.StatusCode);
            await Task.Delay(300);
        }
        output.WriteLine($"writes while full: {string.Join(" ", codes.Select(c => (int)c))}");
        Assert.All(codes, c => Assert.True(c is HttpStatusCode.ServiceUnavailable or HttpStatusCode.InternalServerError, $"{c}"));

        // Reads are served from memory the whole time.
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"before-{i}"), await Names(client));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"{ConfigMaps}/before-3")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, await ReadyzOf(master, "/livez"));
        var freedAt = DateTime.UtcNow;
        File.Delete(Path.Combine(_mounted, "filler"));

        // Without a restart, writes come back; the first write after /readyz turns ok succeeds.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (await master.ReadyzAsync() != HttpStatusCode.OK)
        {
            Assert.True(DateTime.UtcNow < deadline, "the store did not become ready after space was freed");
            await Task.Delay(50);
        }
        var readyAgainAt = DateTime.UtcNow;
        using (var after = await client.PostAsync(ConfigMaps, MasterProcess.ConfigMap("after", 4096)))
            Assert.Equal(HttpStatusCode.Created, after.StatusCode);
        Assert.Equal(pid, master.Process.Id);
        Assert.False(master.Process.HasExited);
        await sampling.CancelAsync();
        await sampler;

        // /readyz was false from the failed write until space returned, and true before and after.
        var before = samples.Where(s => s.At < fillingAt).ToList();
        var whileFull = samples.Where(s => s.At > failedAt + TimeSpan.FromMilliseconds(200) && s.At < freedAt).ToList();
        output.WriteLine($"/readyz samples: {before.Count} before the fault (ok {before.Count(s => s.Status == HttpStatusCode.OK)}), " +
                         $"{whileFull.Count} while full (not ok {whileFull.Count(s => s.Status == HttpStatusCode.InternalServerError)}); " +
                         $"ready again {(readyAgainAt - freedAt).TotalSeconds:0.0} s after space was freed");
        Assert.NotEmpty(before);
        Assert.All(before, s => Assert.Equal(HttpStatusCode.OK, s.Status));
        Assert.NotEmpty(whileFull);
        Assert.All(whileFull, s => Assert.Equal(HttpStatusCode.InternalServerError, s.Status));

        // The watch opened before the fault is still open, and saw the later write and none of the refused ones.
        var names = await Names(client);
        Assert.Equal(["after", .. Enumerable.Range(0, 5).Select(i => $"before-{i}")], names);
        deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!watched.Contains("ADDED after") && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.Contains("ADDED after", watched);
        Assert.DoesNotContain(watched, w => w.Contains("during"));
        watchClient.CancelPendingRequests();
    }

    private static async Task<HttpStatusCode?> ReadyzOf(MasterProcess master, string path)
    {
        using var client = new HttpClient(new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true });
        return (await client.GetAsync($"https://127.0.0.1:{master.ApiPort}{path}")).StatusCode;
    }

    private static void Fill(string path)
    {
        using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.WriteThrough);
        var block = new byte[64 * 1024];
        try
        {
            while (true) stream.Write(block);
        }
        catch (IOException) { }
        block = new byte[4096];
        try
        {
            while (true) stream.Write(block);
        }
        catch (IOException) { }
    }

    [Fact]
    public async Task A_corrupt_journal_record_stops_the_master_with_one_line_and_skip_corrupt_starts_it_without_the_record()
    {
        var data = Path.Combine(_root, "data");
        var master = Start(data);
        await master.WaitReadyAsync();
        var versions = new Dictionary<string, long>();
        using (var client = master.Client())
            for (var i = 0; i < 5; i++)
            {
                using var response = await client.PostAsync(ConfigMaps, MasterProcess.ConfigMap($"c{i}"));
                versions[$"c{i}"] = long.Parse(JsonNode.Parse(await response.Content.ReadAsStringAsync())!["metadata"]!["resourceVersion"]!.ToString());
            }
        master.Kill9();
        var database = Path.Combine(data, "store.db");
        using (var connection = new SqliteConnection($"Data Source={database};Pooling=False"))
        {
            connection.Open();
            using var read = connection.CreateCommand();
            read.CommandText = $"SELECT message FROM journal WHERE sequence_number = {versions["c2"]}";
            var bytes = (byte[])read.ExecuteScalar()!;
            bytes[bytes.Length / 2] ^= 0x01;
            using var write = connection.CreateCommand();
            write.CommandText = $"UPDATE journal SET message = $m WHERE sequence_number = {versions["c2"]}";
            write.Parameters.AddWithValue("$m", bytes);
            write.ExecuteNonQuery();
        }

        var refused = Start(data);
        Assert.Equal(1, await refused.WaitExitAsync());
        var line = refused.StandardError.Trim();
        output.WriteLine(line);
        Assert.DoesNotContain('\n', line);
        Assert.StartsWith($"orchestrator-master: {database}: journal record {versions["c2"]} is corrupt: checksum mismatch", line);

        var recovered = Start(data, "--store-recovery", "skip-corrupt");
        await recovered.WaitReadyAsync();
        output.WriteLine(recovered.StandardError.Trim());
        Assert.Contains($"dropped the corrupt journal record {versions["c2"]}", recovered.StandardError);
        using (var client = recovered.Client())
            Assert.Equal(["c0", "c1", "c3", "c4"], await Names(client));
    }

    [Fact]
    public async Task Kill_9_under_sixteen_parallel_writers_three_times_loses_no_acknowledged_write()
    {
        var data = Path.Combine(_root, "data");
        var acknowledged = new ConcurrentDictionary<string, long>();
        var unanswered = 0;
        for (var round = 1; round <= 3; round++)
        {
            var master = Start(data);
            await master.WaitReadyAsync();
            var ackedBefore = acknowledged.Count;
            var maxBefore = acknowledged.IsEmpty ? 0 : acknowledged.Values.Max();
            using var stop = new CancellationTokenSource();
            // Sixteen, so that writes are committed in groups (group commit) when the process dies.
            var writers = Enumerable.Range(0, 16).Select(w => Task.Run(async () =>
            {
                using var client = master.Client(TimeSpan.FromSeconds(10));
                for (var i = 0; !stop.IsCancellationRequested; i++)
                {
                    var name = $"r{round}-w{w}-{i:D5}";
                    try
                    {
                        using var response = await client.PostAsync(ConfigMaps, MasterProcess.ConfigMap(name, 256));
                        if (response.StatusCode != HttpStatusCode.Created) continue;
                        var rv = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["metadata"]!["resourceVersion"]!.ToString();
                        acknowledged[name] = long.Parse(rv);
                    }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
                    {
                        // The answer was lost with the process: the write may or may not be stored.
                        Interlocked.Increment(ref unanswered);
                        await Task.Delay(20);
                    }
                }
            })).ToList();
            while (acknowledged.Count < ackedBefore + 150) await Task.Delay(5);
            master.Kill9();
            await Task.Delay(300);
            await stop.CancelAsync();
            await Task.WhenAll(writers);
            var roundAcks = acknowledged.Where(a => a.Key.StartsWith($"r{round}-")).Select(a => a.Value).ToList();
            Assert.All(roundAcks, rv => Assert.True(rv > maxBefore, $"rv {rv} in round {round} is not above {maxBefore}"));
            output.WriteLine($"round {round}: {roundAcks.Count} writes acknowledged before kill -9");
        }

        var last = Start(data);
        await last.WaitReadyAsync();
        using var reader = last.Client();
        var list = JsonNode.Parse(await reader.GetStringAsync(ConfigMaps))!["items"]!.AsArray()
            .ToDictionary(i => i!["metadata"]!["name"]!.ToString(), i => long.Parse(i!["metadata"]!["resourceVersion"]!.ToString()));
        var lost = acknowledged.Where(a => !list.TryGetValue(a.Key, out var rv) || rv != a.Value).Select(a => a.Key).ToList();
        output.WriteLine($"acknowledged {acknowledged.Count}, answers lost with the process {unanswered}, stored {list.Count}, " +
                         $"acknowledged writes lost {lost.Count}");
        Assert.Empty(lost);
        Assert.Equal(acknowledged.Count, acknowledged.Values.Distinct().Count());
    }

    public void Dispose()
    {
        foreach (var master in _masters) master.Dispose();
        SqliteConnection.ClearAllPools();
        if (_mounted is not null)
            try { Run("umount", _mounted); } catch (Xunit.Sdk.XunitException) { }
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }
}
