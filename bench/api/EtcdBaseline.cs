using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Orchestrator.Bench.Api;

/// <summary>
/// Kubernetes' own store on the same disk, as a baseline for the creates: an etcd (Debian's etcd-server package) on
/// loopback ports, its data directory in a fresh temporary directory (the disk the in-process master's journal is on),
/// takes the same number of puts of values the size of a stored object, with the same concurrency, over its HTTP/JSON
/// gateway (/v3/kv/put); then it is stopped and its directory removed. Also the disk's fsync rate, the physical limit
/// of one-write-per-fsync stores.
/// </summary>
internal static class EtcdBaseline
{
    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string? Binary() =>
        new[] { "/usr/bin/etcd", "/usr/local/bin/etcd" }.FirstOrDefault(File.Exists);

    /// <summary>Puts of <paramref name="valueBytes"/>-byte values; the latencies and the wall time, or null (and why)
    /// when there is no etcd.</summary>
    public static async Task<((List<double> Latencies, TimeSpan Wall)? Result, string? Skipped)> PutsAsync(int count, int concurrency, int valueBytes)
    {
        if (Binary() is not { } etcd) return (null, "etcd is not installed (apt-get install etcd-server)");
        var directory = Directory.CreateTempSubdirectory("bench-etcd-").FullName;
        var (client, peer) = (FreePort(), FreePort());
        var start = new ProcessStartInfo(etcd)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            ArgumentList =
            {
                "--name", "bench", "--data-dir", Path.Combine(directory, "data"),
                "--listen-client-urls", $"http://127.0.0.1:{client}", "--advertise-client-urls", $"http://127.0.0.1:{client}",
                "--listen-peer-urls", $"http://127.0.0.1:{peer}", "--initial-advertise-peer-urls", $"http://127.0.0.1:{peer}",
                "--initial-cluster", $"bench=http://127.0.0.1:{peer}", "--log-level", "error",
            },
        };
        using var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1000 })
            {
                BaseAddress = new Uri($"http://127.0.0.1:{client}"),
                Timeout = TimeSpan.FromMinutes(2),
            };
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (true)
            {
                try
                {
                    using var health = await http.GetAsync("/health");
                    if (health.IsSuccessStatusCode) break;
                }
                catch (HttpRequestException) { }
                if (process.HasExited) return (null, $"etcd exited ({process.ExitCode})");
                if (DateTime.UtcNow > deadline) return (null, "etcd was not healthy within 30 s");
                await Task.Delay(50);
            }
            var value = Convert.ToBase64String(Encoding.UTF8.GetBytes(new string('x', valueBytes)));
            StringContent Put(string key) => new(JsonSerializer.Serialize(new
            {
                key = Convert.ToBase64String(Encoding.UTF8.GetBytes($"/registry/configmaps/bench/{key}")),
                value,
            }), Encoding.UTF8, "application/json");
            async Task<HttpResponseMessage> Call(string key)
            {
                var response = await http.PostAsync("/v3/kv/put", Put(key));
                if (!response.IsSuccessStatusCode)
                    throw new InvalidOperationException($"etcd put {key}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                return response;
            }
            // Warm-up as for the store: connections and etcd's first writes.
            await Parallel.ForEachAsync(Enumerable.Range(0, 50), new ParallelOptions { MaxDegreeOfParallelism = concurrency },
                async (i, _) => (await Call($"warm{i}")).Dispose());
            var latencies = new ConcurrentBag<double>();
            var wall = Stopwatch.StartNew();
            await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (i, _) =>
            {
                var started = Stopwatch.GetTimestamp();
                using var response = await Call($"cm{i:D6}");
                await response.Content.ReadAsByteArrayAsync();
                latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            });
            return ((latencies.ToList(), wall.Elapsed), null);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            try { Directory.Delete(directory, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>Writes of 4 KiB each followed by an fsync, in the temporary directory, for about a second: fsyncs/s.</summary>
    public static double FsyncRate()
    {
        var path = Path.Combine(Path.GetTempPath(), "bench-fsync-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1);
            var block = new byte[4096];
            var count = 0;
            var wall = Stopwatch.StartNew();
            while (wall.Elapsed < TimeSpan.FromSeconds(1))
            {
                file.Write(block);
                file.Flush(flushToDisk: true);
                count++;
            }
            return count / wall.Elapsed.TotalSeconds;
        }
        finally
        {
            File.Delete(path);
        }
    }
}
