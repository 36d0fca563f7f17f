using System.Diagnostics;
using Xunit;
using Xunit.Abstractions;

namespace Orchestrator.E2E;

/// <summary>
/// Nodes authenticate as system:node:NAME on the node protocol (issue #15), on a real cluster started by deploy/up.sh:
/// the node bootstraps its client certificate at first start and keeps it under its --root-dir, and a second node
/// process holding the cluster certificate (the join credential) but not that node's certificate cannot register
/// under its name.
/// </summary>
[TestCaseOrderer(StepOrderer.TypeName, StepOrderer.AssemblyName)]
public sealed class NodeIdentityTests(ClusterFixture cluster, ITestOutputHelper output) : IClassFixture<ClusterFixture>
{
    private string Pki => Path.Combine(cluster.StateDir, "node", "pki");

    [Fact, Step(1)]
    public async Task The_node_bootstrapped_its_certificate_and_keeps_it_under_its_root_dir()
    {
        await cluster.Eventually(async () =>
        {
            var annotations = (await cluster.Kubectl("get", "node", ClusterFixture.NodeName, "-o", "jsonpath={.metadata.annotations}")).Output;
            Assert.Contains("orchestrator.dev/node-certificate-issued", annotations);
        }, "the Node records that its name has a certificate");
        var key = Path.Combine(Pki, $"node-client-{ClusterFixture.NodeName}.key");
        var certificate = Path.Combine(Pki, $"node-client-{ClusterFixture.NodeName}.crt");
        Assert.True(File.Exists(key) && File.Exists(certificate), $"{key} and {certificate}");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key));
        using var issued = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(File.ReadAllText(certificate));
        Assert.Equal($"CN=system:node:{ClusterFixture.NodeName}, O=system:nodes", issued.Subject);
    }

    [Fact, Step(2)]
    public async Task A_member_with_the_join_credential_but_not_the_nodes_certificate_cannot_register_as_it()
    {
        var root = Path.Combine(cluster.StateDir, "impostor");
        if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        // the cluster's own certificate, the node's name, an address, pod range and ports of its own
        foreach (var arg in new[]
                 {
                     Path.Combine(cluster.StateDir, "bin", "node", "orchestrator-node.dll"), "--name", ClusterFixture.NodeName,
                     "--address", "127.0.0.73", "--master", "127.0.0.1:" + cluster.Environment["ORCH_CLUSTER_PORT"],
                     "--cluster-cert", Path.Combine(cluster.StateDir, "master", "cluster.pfx"),
                     "--pod-cidr", "172.28.120.0/24", "--healthz-port", "10349", "--resolv-conf", cluster.ResolvConf,
                     "--ingress-http-port", "10390", "--ingress-https-port", "10753", "--root-dir", root,
                 })
            start.ArgumentList.Add(arg);
        using var impostor = Process.Start(start)!;
        var lines = new System.Collections.Concurrent.ConcurrentQueue<string>();
        impostor.OutputDataReceived += (_, e) => { if (e.Data is not null) lines.Enqueue(e.Data); };
        impostor.ErrorDataReceived += (_, e) => { if (e.Data is not null) lines.Enqueue(e.Data); };
        impostor.BeginOutputReadLine();
        impostor.BeginErrorReadLine();
        try
        {
            await cluster.Eventually(() =>
            {
                Assert.Contains(lines, l => l.Contains($"the master refused to register it as system:node:{ClusterFixture.NodeName}: node \"{ClusterFixture.NodeName}\" has a node certificate"));
                return Task.CompletedTask;
            }, "the impostor is refused with one clear line", TimeSpan.FromSeconds(90));
            var master = await File.ReadAllTextAsync(Path.Combine(cluster.StateDir, "logs", "master.log"));
            Assert.Contains($"refused RegisterNode for node {ClusterFixture.NodeName} from akka.ssl.tcp://orchestrator@127.0.0.73:", master);
            // the real node stays registered and Ready
            var ready = await cluster.Kubectl("get", "node", ClusterFixture.NodeName, "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}");
            Assert.Equal("True", ready.Output.Trim());
        }
        finally
        {
            impostor.Kill(entireProcessTree: true);
            await impostor.WaitForExitAsync();
            foreach (var line in lines.TakeLast(30)) output.WriteLine(line);
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }
}
