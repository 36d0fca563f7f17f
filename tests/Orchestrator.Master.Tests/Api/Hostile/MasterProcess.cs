using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Orchestrator.Master.Api.Security;

namespace Orchestrator.Master.Tests.Api.Hostile;

/// <summary>
/// A real <c>orchestrator-master</c> process (the built dll, as deploy/up.sh runs it) on free loopback ports with a
/// temporary data directory: what the hostile-input suite attacks, watches (exit, RSS) and stops again.
/// </summary>
internal sealed class MasterProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log = new();

    private MasterProcess(Process process, string dataDirectory, int port)
    {
        _process = process;
        DataDirectory = dataDirectory;
        Port = port;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string DataDirectory { get; }
    public int Port { get; }
    public Uri Address => new($"https://127.0.0.1:{Port}/");
    /// <summary>The token the master wrote at its start (read, never created here: the master must make it).</summary>
    public string Token => File.ReadAllText(Path.Combine(DataDirectory, BearerToken.FileName)).Trim();
    public bool IsRunning => !_process.HasExited;
    public int Id => _process.Id;

    /// <summary>The last lines the process wrote (for a failure message).</summary>
    public string LogTail
    {
        get
        {
            lock (_log) return _log.Length > 4000 ? _log.ToString(_log.Length - 4000, 4000) : _log.ToString();
        }
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_log)
        {
            _log.AppendLine(line);
            if (_log.Length > 200_000) _log.Remove(0, 100_000);
        }
    }

    /// <summary>The resident set size of the process, from /proc (Linux).</summary>
    public long RssBytes()
    {
        foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        return 0;
    }

    public static async Task<MasterProcess> StartAsync()
    {
        var dataDirectory = Directory.CreateTempSubdirectory("hostile-master-").FullName;
        var apiPort = FreePort();
        var clusterPort = FreePort();
        var start = new ProcessStartInfo("dotnet",
        [
            Path.Combine(AppContext.BaseDirectory, "orchestrator-master.dll"),
            "--data-dir", dataDirectory, "--api-address", "127.0.0.1", "--api-port", apiPort.ToString(),
            "--cluster-address", "127.0.0.1", "--cluster-port", clusterPort.ToString(),
        ])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = dataDirectory,
        };
        var master = new MasterProcess(Process.Start(start)!, dataDirectory, apiPort);
        await master.WaitUntilServingAsync();
        return master;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Until the store answers a list (the API listens before the actor system is up).</summary>
    private async Task WaitUntilServingAsync()
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (true)
        {
            if (!IsRunning) throw new InvalidOperationException($"orchestrator-master exited with {_process.ExitCode}:\n{LogTail}");
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"orchestrator-master did not serve within 2 minutes:\n{LogTail}");
            try
            {
                var token = Path.Combine(DataDirectory, BearerToken.FileName);
                if (File.Exists(token) && File.ReadAllText(token).Trim().Length > 0)
                {
                    using var client = Client();
                    using var response = await client.GetAsync("api/v1/namespaces/default");
                    if (response.StatusCode == HttpStatusCode.OK) return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException) { }
            await Task.Delay(250);
        }
    }

    /// <summary>A client with the token that sends paths exactly as given.</summary>
    public HttpClient Client(TimeSpan? timeout = null) =>
        new(new SocketsHttpHandler
        {
            SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true },
            PooledConnectionLifetime = TimeSpan.FromMinutes(1),
        })
        {
            BaseAddress = Address,
            Timeout = timeout ?? TimeSpan.FromSeconds(100),
            DefaultRequestHeaders = { Authorization = new("Bearer", Token) },
        };

    public async ValueTask DisposeAsync()
    {
        if (IsRunning)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        try { Directory.Delete(DataDirectory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
