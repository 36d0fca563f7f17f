using System.Diagnostics;
using Xunit;
using Xunit.Abstractions;

namespace Orchestrator.E2E;

/// <summary>
/// Nodes authenticate as system:node:NAME on the node protocol (issue #15), on a real cluster started by deploy/up.sh:
/// the node bootstraps its client certificate at first start and keeps it under its --root-dir, and a second node
/// process holding the cluster certificate (the join credential) but not that node's certificate cannot register
/// under its name. That certificate and key, written into a kubeconfig, are also the node's API credential: kubectl is
/// system:node:NAME and may read and label its own Node, but not read or patch another Node, scale or delete a Deployment, or
/// read a Secret no pod of the node uses (the Node authorizer and NodeRestriction, with Kubernetes' messages).
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
            var master = await File.ReadAllTextAsync(cluster.MasterLog); // logs/all-in-one.log: the master and the node in one process
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
    [Fact, Step(3)]
    public async Task The_nodes_certificate_and_key_are_a_kubeconfig_credential_confined_to_the_node()
    {
        var suffix = Guid.NewGuid().ToString("N")[..6];
        var other = $"nodecred-other-{suffix}";
        var deployment = $"nodecred-{suffix}";
        var secret = $"nodecred-{suffix}";
        var dir = Path.Combine(cluster.StateDir, "nodecred-" + suffix);
        var kubeconfig = Path.Combine(dir, "kubeconfig");
        var self = ClusterFixture.NodeName;
        Directory.CreateDirectory(dir);
        try
        {
            // the node's own files, as they are in its pki directory
            await Run("kubectl", "config", "--kubeconfig", kubeconfig, "set-cluster", "node", $"--server=https://127.0.0.1:{cluster.Environment["ORCH_API_PORT"]}",
                "--certificate-authority=" + Path.Combine(cluster.StateDir, "master", "ca.crt"), "--embed-certs=true");
            await Run("kubectl", "config", "--kubeconfig", kubeconfig, "set-credentials", "node",
                "--client-certificate=" + Path.Combine(Pki, $"node-client-{self}.crt"),
                "--client-key=" + Path.Combine(Pki, $"node-client-{self}.key"), "--embed-certs=true");
            await Run("kubectl", "config", "--kubeconfig", kubeconfig, "set-context", "node", "--cluster=node", "--user=node");
            await Run("kubectl", "config", "--kubeconfig", kubeconfig, "use-context", "node");
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(Pki, $"node-client-{self}.key")));

            var whoami = await AsNode(kubeconfig, "auth", "whoami");
            Assert.True(whoami.ExitCode == 0, whoami + await WhoamiRefusedBecause(self));
            Assert.Matches(@"Username\s+system:node:" + self, whoami.Output);
            Assert.Matches(@"Groups\s+\[system:nodes system:authenticated\]", whoami.Output);

            // its own Node: read it, label it (an unprefixed label NodeRestriction allows), and back
            var get = await AsNode(kubeconfig, "get", "node", self);
            Assert.True(get.ExitCode == 0, get.ToString());
            Assert.Contains(self, get.Output);
            var label = await AsNode(kubeconfig, "label", "node", self, "e2e-nodecred=yes");
            Assert.True(label.ExitCode == 0, label.ToString());
            Assert.Contains($"node/{self} labeled", label.Output);
            var kubeletOnly = await AsNode(kubeconfig, "label", "node", self, "node-role.kubernetes.io/control-plane=");
            Assert.Contains($"Error from server (Forbidden): nodes \"{self}\" is forbidden: is not allowed to modify labels: node-role.kubernetes.io/control-plane", kubeletOnly.Error);
            Assert.True((await AsNode(kubeconfig, "label", "node", self, "e2e-nodecred-")).ExitCode == 0);

            // another Node, a Deployment, a Secret none of its pods uses: 403, with Kubernetes' words
            var created = await cluster.KubectlWithInput($$"""
                apiVersion: v1
                kind: Node
                metadata: {name: {{other}}}
                """, "create", "-f", "-");
            Assert.True(created.ExitCode == 0, created.ToString());
            // kubectl label reads the Node first, which the Node authorizer refuses (1.32: a node reads only its own Node)
            var otherLabel = await AsNode(kubeconfig, "label", "node", other, "foo=bar");
            Assert.NotEqual(0, otherLabel.ExitCode);
            Assert.Contains($"Error from server (Forbidden): nodes \"{other}\" is forbidden: User \"system:node:{self}\" cannot get resource \"nodes\" " +
                            $"in API group \"\" at the cluster scope: node '{self}' cannot read '{other}', only its own Node object", otherLabel.Error);
            // kubectl patch reads it first too; the write itself NodeRestriction refuses ("node \"n1\" is not allowed to
            // modify node \"n2\"", NodeCertificateApiTests sends that PATCH directly)
            var otherPatch = await AsNode(kubeconfig, "patch", "node", other, "--type=merge", "-p", """{"metadata":{"labels":{"foo":"bar"}}}""");
            Assert.NotEqual(0, otherPatch.ExitCode);
            Assert.Contains($"Error from server (Forbidden): nodes \"{other}\" is forbidden: User \"system:node:{self}\" cannot get resource \"nodes\"", otherPatch.Error);
            Assert.Equal("", (await cluster.Kubectl("get", "node", other, "-o", "jsonpath={.metadata.labels.foo}")).Output.Trim());

            Assert.Equal(0, (await cluster.Kubectl("create", "deployment", deployment, "--image=orchestrator/pause", "--replicas=0")).ExitCode);
            foreach (var args in new[] { new[] { "scale", "deployment", deployment, "--replicas=3" }, ["delete", "deployment", deployment] })
            {
                var refused = await AsNode(kubeconfig, args);
                Assert.NotEqual(0, refused.ExitCode);
                // kubectl reads the object first: the node may not even get it (kubectl scale words it as "error: no objects
                // passed to scale …", kubectl delete as "Error from server (Forbidden): …")
                Assert.Matches($"deployments.apps \"{deployment}\" is forbidden: User \"system:node:{self}\" " +
                               "cannot (get|patch|delete) resource \"deployments(/scale)?\" in API group \"apps\" in the namespace \"default\"", refused.Error);
            }
            Assert.Equal("0", (await cluster.Kubectl("get", "deployment", deployment, "-o", "jsonpath={.spec.replicas}")).Output.Trim());

            Assert.Equal(0, (await cluster.Kubectl("create", "secret", "generic", secret, "--from-literal=k=v")).ExitCode);
            var read = await AsNode(kubeconfig, "get", "secret", secret);
            Assert.NotEqual(0, read.ExitCode);
            Assert.Contains($"Error from server (Forbidden): secrets \"{secret}\" is forbidden: User \"system:node:{self}\" cannot get resource \"secrets\" " +
                            $"in API group \"\" in the namespace \"default\": no relationship found between node '{self}' and this object", read.Error);
        }
        finally
        {
            await cluster.Kubectl("delete", "deployment", deployment, "--ignore-not-found");
            await cluster.Kubectl("delete", "secret", secret, "--ignore-not-found");
            await cluster.Kubectl("delete", "node", other, "--ignore-not-found");
            await cluster.Kubectl("label", "node", self, "e2e-nodecred-");
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>What the admin sees when the node's whoami is refused (every authenticated user may create a
    /// SelfSubjectReview through system:basic-user): the binding, the role, what RBAC answers for the node, the master's
    /// log lines about RBAC and its last lines.</summary>
    private async Task<string> WhoamiRefusedBecause(string self)
    {
        var text = "\n--- the admin's view";
        foreach (var args in new[]
                 {
                     new[] { "get", "clusterrolebinding", "system:basic-user", "-o", "yaml" },
                     ["get", "clusterrole", "system:basic-user", "-o", "yaml"],
                     ["auth", "can-i", "create", "selfsubjectreviews.authentication.k8s.io", $"--as=system:node:{self}", "--as-group=system:nodes"],
                 })
            text += $"\n$ kubectl {string.Join(' ', args)}\n{await cluster.Kubectl(args)}";
        var log = File.Exists(cluster.MasterLog) ? await File.ReadAllLinesAsync(cluster.MasterLog) : [];
        text += "\n--- RBAC lines of the master's log\n" + string.Join("\n", log.Where(l => l.Contains("rbac", StringComparison.OrdinalIgnoreCase)).TakeLast(20));
        return text + "\n" + cluster.Logs();
    }

    private async Task Run(string file, params string[] args)
    {
        var result = await Command.Run(file, args, cluster.Environment, TimeSpan.FromMinutes(1));
        Assert.True(result.ExitCode == 0, $"{file} {string.Join(" ", args)}: {result}");
    }

    private async Task<CommandResult> AsNode(string kubeconfig, params string[] args)
    {
        var result = await Command.Run("kubectl", ["--kubeconfig", kubeconfig, .. args], cluster.Environment, TimeSpan.FromMinutes(2));
        output.WriteLine($"kubectl {string.Join(" ", args)}: {result}");
        return result;
    }
}
