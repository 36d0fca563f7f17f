using System.Diagnostics;
using Xunit;
using Xunit.Abstractions;

namespace Orchestrator.E2E;

/// <summary>
/// Kubernetes' non-graceful node shutdown (docs: "Node Shutdowns"), on the lab's three nodes: a StatefulSet's pod on a
/// node that is lost stays Terminating after its eviction (only its node could confirm it stopped, and a StatefulSet
/// makes no second pod of the same identity meanwhile); once the administrator taints the node
/// node.kubernetes.io/out-of-service=nodeshutdown:NoExecute the pod garbage collector force-deletes it and the
/// StatefulSet recreates it on another node. Every new Node also starts with node.kubernetes.io/not-ready:NoSchedule
/// (TaintNodesByCondition), which is off by the time the lab says it is Ready. Its own lab, taken down at the end.
/// </summary>
[Collection(LabFixtureBase.Collection)]
[TestCaseOrderer(StepOrderer.TypeName, StepOrderer.AssemblyName)]
public sealed class NonGracefulNodeShutdownTests(LabFixture lab, ITestOutputHelper output) : IClassFixture<LabFixture>
{
    private const string App = "oos-db";
    private const string OutOfService = "node.kubernetes.io/out-of-service";

    [Fact, Step(1)]
    public async Task Ready_lab_nodes_have_lost_the_not_ready_taint_they_were_created_with()
    {
        for (var i = 1; i <= LabFixture.NodeCount; i++)
            Assert.DoesNotContain("node.kubernetes.io/not-ready",
                await lab.Kubectl("get", "node", LabFixture.NodeName(i), "-o", "jsonpath={.spec.taints}"));
    }

    [Fact, Step(2)]
    public async Task A_StatefulSet_pod_on_a_lost_node_comes_back_elsewhere_once_the_node_is_tainted_out_of_service()
    {
        var yaml = $$"""
            apiVersion: v1
            kind: Service
            metadata: { name: {{App}} }
            spec:
              clusterIP: None
              selector: { app: {{App}} }
              ports: [{ port: 80 }]
            ---
            apiVersion: apps/v1
            kind: StatefulSet
            metadata: { name: {{App}} }
            spec:
              serviceName: {{App}}
              replicas: 1
              selector: { matchLabels: { app: {{App}} } }
              template:
                metadata: { labels: { app: {{App}} } }
                spec:
                  terminationGracePeriodSeconds: 30
                  containers:
                  - name: web
                    image: katacoda/docker-http-server:latest
            """;
        var applied = await Command.Run("kubectl", ["--context", LabFixture.Context, "apply", "-f", "-"], lab.Environment, TimeSpan.FromMinutes(2), yaml);
        Assert.True(applied.ExitCode == 0, applied.ToString());
        string victim = "";
        string? tainted = null;
        try
        {
            await lab.Eventually(async () => Assert.Single(await lab.Pods(App), p => p.Ready), $"{App}-0 Ready");
            var first = (await lab.Pods(App)).Single();
            victim = first.Node;
            output.WriteLine($"{first.Name} ({first.Uid}) runs on {victim}");

            var clock = Stopwatch.StartNew();
            var killed = await lab.Lab("kill-node", victim);
            Assert.True(killed.ExitCode == 0, killed.ToString());
            await lab.Eventually(async () => Assert.Equal("Unknown", await lab.NodeReady(victim)), $"{victim} NotReady", TimeSpan.FromSeconds(60));
            // evicted at once (the lab's pods tolerate unreachable for 0 s), but it stays: nobody can confirm it stopped
            await lab.Eventually(async () => Assert.True((await lab.Pods(App)).Single().Terminating), $"{first.Name} Terminating", TimeSpan.FromSeconds(60));
            var stuck = clock.Elapsed.TotalSeconds;
            await Task.Delay(TimeSpan.FromSeconds(10));
            var meanwhile = await lab.Pods(App);
            Assert.Equal([(first.Uid, victim, true)], meanwhile.Select(p => (p.Uid, p.Node, p.Terminating)));

            tainted = victim;
            clock.Restart();
            await lab.Kubectl("taint", "nodes", victim, $"{OutOfService}=nodeshutdown:NoExecute");
            await lab.Eventually(async () =>
            {
                var pod = Assert.Single(await lab.Pods(App));
                Assert.NotEqual(first.Uid, pod.Uid);
                Assert.NotEqual(victim, pod.Node);
                Assert.True(pod.Ready);
            }, $"{App}-0 recreated and Ready on another node", TimeSpan.FromSeconds(90));
            var back = clock.Elapsed.TotalSeconds;
            var replacement = (await lab.Pods(App)).Single();
            output.WriteLine($"{first.Name} Terminating {stuck:F1} s after kill-node, still there 10 s later; after the out-of-service taint " +
                $"{replacement.Name} ({replacement.Uid}) Ready on {replacement.Node} in {back:F1} s");
        }
        finally
        {
            if (tainted is not null) await lab.Kubectl("taint", "nodes", tainted, $"{OutOfService}:NoExecute-");
            await lab.Kubectl("delete", "statefulset,service", App, "--ignore-not-found", "--wait=false");
        }
    }
}
