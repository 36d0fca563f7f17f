using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Akka.Actor;
using Orchestrator.Shared.Protocol;
using Xunit.Abstractions;

namespace Orchestrator.Node.Tests;

/// <summary>The orchestrator-node process itself: its command line, and that it registers again with a restarted master.</summary>
public sealed class NodeProcessTests(ITestOutputHelper output) : IDisposable
{
    private readonly Channel<object> _received = Channel.CreateUnbounded<object>();
    private readonly List<string> _log = [];
    private Process? _node;

    private ActorSystem StartMaster(int port)
    {
        var system = TestCluster.StartMaster(port);
        system.ActorOf(Props.Create(() => new AckingGateway(_received.Writer)), NodeProtocolNames.GatewayActorName);
        return system;
    }

    /// <summary>A master that stops leaves the cluster (the agent rejoins at once); one that crashes just goes silent
    /// and the split brain resolver downs the node, whose process starts a new incarnation.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Registers_again_after_the_master_restarts(bool crash)
    {
        var port = TestNetwork.FreePort();
        var master = StartMaster(port);
        var name = $"proc-{Guid.NewGuid():N}"[..16];
        _node = Process.Start(new ProcessStartInfo("dotnet",
            [Path.Combine(AppContext.BaseDirectory, "orchestrator-node.dll"), "--name", name, "--master", $"127.0.0.1:{port}", "--healthz-port", TestNetwork.FreePort().ToString(),
                "--cluster-cert", TestCluster.CertificatePath])
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
        })!;
        _node.OutputDataReceived += (_, e) => { lock (_log) _log.Add(e.Data ?? ""); };
        _node.ErrorDataReceived += (_, e) => { lock (_log) _log.Add(e.Data ?? ""); };
        _node.BeginOutputReadLine();
        _node.BeginErrorReadLine();

        await Next<RegisterNode>(TimeSpan.FromSeconds(60));
        var stopwatch = Stopwatch.StartNew();
        if (crash) ((ExtendedActorSystem)master).Abort();
        else await master.Terminate();
        while (_received.Reader.TryRead(out _)) { }

        var restarted = StartMaster(port);
        try
        {
            var again = await Next<RegisterNode>(TimeSpan.FromSeconds(120));
            output.WriteLine($"master {(crash ? "crashed" : "stopped")}: registered again {stopwatch.Elapsed.TotalSeconds:0.0}s after the master stopped");
            Assert.Equal(name, again.Node.Metadata.Name);

            // and it becomes a member of the new master's cluster (a fresh actor system joins it)
            var cluster = Akka.Cluster.Cluster.Get(restarted);
            var deadline = DateTime.UtcNow.AddSeconds(120);
            while (!cluster.State.Members.Any(m => m.HasRole(NodeProtocolNames.NodeRole) && m.Status == Akka.Cluster.MemberStatus.Up))
            {
                if (DateTime.UtcNow > deadline)
                {
                    lock (_log) output.WriteLine(string.Join('\n', _log.TakeLast(60)));
                    throw new Xunit.Sdk.XunitException("the node did not join the restarted master's cluster");
                }
                await Task.Delay(500);
            }
            output.WriteLine($"member of the new cluster {stopwatch.Elapsed.TotalSeconds:0.0}s after the master stopped");
        }
        finally
        {
            await restarted.Terminate();
        }
    }

    [Theory]
    [InlineData(null, "orchestrator-node: --cluster-cert is required")]
    [InlineData("/nonexistent/cluster.pfx", "orchestrator-node: cluster certificate '/nonexistent/cluster.pfx' does not exist")]
    public async Task Refuses_to_start_without_a_readable_cluster_certificate(string? certificate, string error)
    {
        List<string> args = [Path.Combine(AppContext.BaseDirectory, "orchestrator-node.dll"), "--name", "no-cert", "--healthz-port", TestNetwork.FreePort().ToString()];
        if (certificate is not null) args.AddRange(["--cluster-cert", certificate]);
        using var process = Process.Start(new ProcessStartInfo("dotnet", args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);

        Assert.Equal(2, process.ExitCode);
        var line = Assert.Single((await stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith(error, line);
    }

    private async Task<T> Next<T>(TimeSpan within)
    {
        using var timeout = new CancellationTokenSource(within);
        try
        {
            while (true)
                if (await _received.Reader.ReadAsync(timeout.Token) is T t) return t;
        }
        catch (OperationCanceledException)
        {
            lock (_log) output.WriteLine(string.Join('\n', _log.TakeLast(60)));
            throw new Xunit.Sdk.XunitException($"no {typeof(T).Name} within {within}");
        }
    }

    public void Dispose()
    {
        if (_node is { HasExited: false })
        {
            _node.Kill(); // SIGKILL; the node would otherwise exit on SIGTERM
            _node.WaitForExit(10_000);
        }
        _node?.Dispose();
    }

    /// <summary>Acknowledges registrations as the master's NodeGateway does, with this incarnation's uid: the agent tells
    /// a restarted master at the same address by it (when the registration went out before the agent's join completed,
    /// the crashed master's cluster never downs the agent, so nothing else makes it register again).</summary>
    private sealed class AckingGateway : ReceiveActor
    {
        public AckingGateway(ChannelWriter<object> received) => ReceiveAny(message =>
        {
            if (message is RegisterNode register)
                Sender.Tell(new NodeRegistered(register.Node.Metadata.Name, MasterUid: Akka.Cluster.Cluster.Get(Context.System).SelfUniqueAddress.Uid));
            received.TryWrite(message);
        });
    }
}
