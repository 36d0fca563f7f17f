using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Orchestrator.Master.Tests.Store.Faults;

/// <summary>An orchestrator-master process on its own ports and data directory, as deploy/up.sh starts it.</summary>
internal sealed class MasterProcess : IDisposable
{
    private readonly List<string> _stdout = [];
    private readonly List<string> _stderr = [];

    private MasterProcess(Process process, string dataDirectory, int apiPort)
    {
        Process = process;
        DataDirectory = dataDirectory;
        ApiPort = apiPort;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_stdout) _stdout.Add(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_stderr) _stderr.Add(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public Process Process { get; }
    public string DataDirectory { get; }
    public int ApiPort { get; }

    public string StandardError
    {
        get { lock (_stderr) return string.Join('\n', _stderr); }
    }

    public string Output
    {
        get { lock (_stdout) return string.Join('\n', _stdout.TakeLast(80)); }
    }

    public static MasterProcess Start(string dataDirectory, params string[] flags)
    {
        var apiPort = FreePort();
        var process = Process.Start(new ProcessStartInfo("dotnet",
            [Path.Combine(AppContext.BaseDirectory, "orchestrator-master.dll"), "--data-dir", dataDirectory,
                "--api-port", apiPort.ToString(), "--cluster-port", FreePort().ToString(), .. flags])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = AppContext.BaseDirectory,
        })!;
        return new MasterProcess(process, dataDirectory, apiPort);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A client with the master's token that accepts its self-made certificate.</summary>
    public HttpClient Client(TimeSpan? timeout = null) => new(new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true })
    {
        BaseAddress = new Uri($"https://127.0.0.1:{ApiPort}"),
        DefaultRequestHeaders = { Authorization = new("Bearer", File.ReadAllText(Path.Combine(DataDirectory, "token")).Trim()) },
        Timeout = timeout ?? TimeSpan.FromSeconds(15),
    };

    /// <summary>/readyz's status, or null when nothing answers.</summary>
    public async Task<HttpStatusCode?> ReadyzAsync()
    {
        using var client = new HttpClient(new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true })
            { Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            using var response = await client.GetAsync($"https://127.0.0.1:{ApiPort}/readyz");
            return response.StatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    public async Task WaitReadyAsync(TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(90));
        while (await ReadyzAsync() != HttpStatusCode.OK)
        {
            if (Process.HasExited) throw new Xunit.Sdk.XunitException($"the master exited ({Process.ExitCode}): {StandardError}\n{Output}");
            if (DateTime.UtcNow > deadline) throw new Xunit.Sdk.XunitException($"the master was not ready in time\n{Output}");
            await Task.Delay(100);
        }
    }

    public async Task<int> WaitExitAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(90));
        await Process.WaitForExitAsync(cts.Token);
        return Process.ExitCode;
    }

    /// <summary>SIGKILL: no shutdown, no flush, as a crash or the OOM killer ends it.</summary>
    public void Kill9()
    {
        Process.Kill();
        Process.WaitForExit();
    }

    public static StringContent ConfigMap(string name, int bytes = 16) =>
        new($$$"""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"{{{name}}}"},"data":{"v":"{{{new string('x', bytes)}}}"}}""",
            Encoding.UTF8, "application/json");

    public void Dispose()
    {
        if (!Process.HasExited) Kill9();
        Process.Dispose();
    }
}
