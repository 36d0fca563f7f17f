using System.Runtime.InteropServices;
using Orchestrator.Node;
using Orchestrator.Shared.Protocol.Serialization;

// The node agent (kubelet + kube-proxy). Runs until SIGTERM/SIGINT. When its actor system ends for another reason
// (the cluster downed this node, or the master restarted and formed a new cluster) a fresh incarnation starts:
// running containers are adopted by their labels and the proxy listeners are re-opened.
NodeOptions options;
try
{
    options = NodeOptions.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"orchestrator-node: {e.Message}\n{NodeOptions.Usage}");
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

var stopRequested = false;
using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, _ => stopRequested = true);
using var onInt = PosixSignalRegistration.Create(PosixSignal.SIGINT, _ => stopRequested = true);

while (true)
{
    try
    {
        await using var app = NodeHost.Build(options);
        Console.WriteLine($"orchestrator-node {options.Name}: address {options.Address}, master {options.Master}, docker {options.Docker}, network {options.Network}");
        await app.RunAsync();
    }
    catch (Exception e)
    {
        Console.Error.WriteLine($"orchestrator-node: {e.Message}");
        return 1;
    }
    if (stopRequested) return 0;
    Console.WriteLine("orchestrator-node: actor system ended (master lost?); starting a new incarnation in 2 s");
    await Task.Delay(TimeSpan.FromSeconds(2));
}
