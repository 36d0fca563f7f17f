using Orchestrator.Node;
using Orchestrator.Shared.Protocol.Serialization;

// The node agent (kubelet + kube-proxy). Runs until SIGTERM/SIGINT. When its actor system ends for another reason
// (the cluster downed this node, or the master restarted and formed a new cluster) NodeIncarnations starts a fresh
// one that adopts the running containers; the proxy, DNS and kubelet endpoint keep serving meanwhile.
// Flags from the command line, ORCHESTRATOR_NODE_* variables and a --config file: NodeFlags (`orchestrator-node --help`).
if (args is ["api-server-proxy", .. var proxyArgs]) return await ApiServerProxyCommand.RunAsync(proxyArgs);
var flags = NodeFlags.Definition.Resolve(args);
if (flags.Exit is { } exit) return exit;
NodeOptions options;
try
{
    options = NodeOptions.Parse(flags.ToArgs(except: "config"));
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"orchestrator-node: {e.Message}");
    return 2;
}
try
{
    // checked once up front: without it the node cannot talk to the master at all
    if (options.ClusterCert is null) throw new ClusterCertificateException("--cluster-cert is required (a copy of the master's <data-dir>/cluster.pfx)");
    ClusterTls.Load(options.ClusterCert).Dispose();
}
catch (ClusterCertificateException e)
{
    Console.Error.WriteLine($"orchestrator-node: {e.Message}");
    return 2;
}

try
{
    await using var app = NodeHost.Build(options);
    Console.WriteLine($"orchestrator-node {options.Name}: address {options.Address}, master {options.Master}, docker {options.Docker}, network {options.Network}");
    await app.RunAsync();
    return 0;
}
catch (Exception e)
{
    Console.Error.WriteLine($"orchestrator-node: {e.Message}");
    return 1;
}
