using Orchestrator.Shared.Hosting;
using Orchestrator.Shared.Protocol.Serialization;

namespace Orchestrator.Node;

/// <summary>
/// The node agent (kubelet + kube-proxy). Runs until SIGTERM/SIGINT. When its actor system ends for another reason
/// (the cluster downed this node, or the master restarted and formed a new cluster) NodeIncarnations starts a fresh
/// one that adopts the running containers; the proxy, DNS and kubelet endpoint keep serving meanwhile.
/// Flags from the command line, ORCHESTRATOR_NODE_* variables and a --config file: NodeFlags (`orchestrator-node --help`).
/// </summary>
internal static class NodeProgram
{
    public static async Task<int> Main(string[] args)
    {
        if (args is ["api-server-proxy", .. var proxyArgs]) return await ApiServerProxyCommand.RunAsync(proxyArgs);
        var (options, exit) = Parse(args);
        if (options is null) return exit;
        AkkaAppConfigWarmup.Begin(); // beside the host build: the actor system's first step (issue 19)
        if (CheckClusterCertificate(options) is { } refused) return refused;
        return await RunAsync(options, embedding: null);
    }

    /// <summary>The node's flags resolved and checked: the options, or the exit code (0 after --help, 2 after an
    /// error, written as one line). Reads no file but the --config one.</summary>
    public static (NodeOptions? Options, int Exit) Parse(string[] args)
    {
        var flags = NodeFlags.Definition.Resolve(args);
        if (flags.Exit is { } exit) return (null, exit);
        try
        {
            return (NodeOptions.Parse(flags.ToArgs(except: "config")), 0);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"orchestrator-node: {e.Message}");
            return (null, 2);
        }
    }

    /// <summary>Null when --cluster-cert names a usable certificate, else 2 after one line: without it the node cannot
    /// talk to the master at all (checked once up front).</summary>
    public static int? CheckClusterCertificate(NodeOptions options)
    {
        try
        {
            if (options.ClusterCert is null) throw new ClusterCertificateException("--cluster-cert is required (a copy of the master's <data-dir>/cluster.pfx)");
            ClusterTls.Load(options.ClusterCert).Dispose();
            return null;
        }
        catch (ClusterCertificateException e)
        {
            Console.Error.WriteLine($"orchestrator-node: {e.Message}");
            return 2;
        }
    }

    /// <summary>The node until it stops: 0 after SIGTERM/SIGINT (or <see cref="Embedding.Stop"/>), 1 after an error
    /// (one line). With an <paramref name="embedding"/> it runs inside orchestrator-all-in-one beside its master.</summary>
    public static async Task<int> RunAsync(NodeOptions options, Embedding? embedding)
    {
        try
        {
            await using var app = NodeHost.Build(options, embedding);
            Console.WriteLine($"orchestrator-node {options.Name}: address {options.Address}, master {options.Master}, docker {options.Docker}, network {options.Network}");
            await ((IHost)app).RunAsync(embedding?.Stop ?? CancellationToken.None);
            return 0;
        }
        catch (OperationCanceledException) when (embedding?.Stop.IsCancellationRequested == true)
        {
            return 0; // stopped by orchestrator-all-in-one while its host started (its master failed, or a signal)
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"orchestrator-node: {e.Message}");
            embedding?.Failed?.Invoke(e.Message);
            return 1;
        }
    }
}
