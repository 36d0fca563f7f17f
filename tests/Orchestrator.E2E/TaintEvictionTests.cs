using System.Diagnostics;
using Xunit;
using Xunit.Abstractions;

namespace Orchestrator.E2E;

/// <summary>
/// Taint-based eviction on a real node with real kubectl: every pod gets the DefaultTolerationSeconds tolerations
/// (kubectl describe shows them), and a node tainted NoExecute has the pods that do not tolerate it evicted at once, a
/// pod with tolerationSeconds when they run out, and keeps a pod that tolerates it for ever. Tainting the node touches
/// every pod on it, so the class has a cluster of its own; its pods and its taint are removed at the end.
/// </summary>
[TestCaseOrderer(StepOrderer.TypeName, StepOrderer.AssemblyName)]
public sealed class TaintEvictionTests(ClusterFixture cluster, ITestOutputHelper output) : IClassFixture<ClusterFixture>
{
    private static readonly string Suffix = Guid.NewGuid().ToString("N")[..6];
    private static readonly string TaintKey = $"e2e.orchestrator.io/evict-{Suffix}";
    private static string Name(string what) => $"{what}-{Suffix}";

    [Fact, Step(1)]
    public async Task Pods_get_the_default_not_ready_and_unreachable_tolerations_that_describe_shows()
    {
        await PodLifecycleTests.EnsureImage();
        var pod = Name("defaults");
        await Apply(PodYaml(pod));
        var described = await Kubectl("describe", "pod", pod);
        output.WriteLine(described);
        Assert.Contains("node.kubernetes.io/not-ready:NoExecute op=Exists for 300s", described);
        Assert.Contains("node.kubernetes.io/unreachable:NoExecute op=Exists for 300s", described);
        await Kubectl("delete", "pod", pod, "--grace-period=0", "--force", "--wait=false");
    }

    [Fact, Step(2)]
    public async Task A_node_tainted_NoExecute_evicts_the_pods_that_do_not_tolerate_it_and_keeps_the_one_that_does()
    {
        await PodLifecycleTests.EnsureImage();
        string plain = Name("plain"), brief = Name("brief"), tolerant = Name("tolerant");
        await Apply(string.Join("\n---\n", PodYaml(plain),
            PodYaml(brief, $"{{ key: {TaintKey}, operator: Exists, effect: NoExecute, tolerationSeconds: 20 }}"),
            PodYaml(tolerant, $"{{ key: {TaintKey}, operator: Exists, effect: NoExecute }}")));
        foreach (var pod in new[] { plain, brief, tolerant })
            await Eventually(async () => Assert.Equal("Running", await Kubectl("get", "pod", pod, "-o", "jsonpath={.status.phase}")), $"{pod} Running");

        var clock = Stopwatch.StartNew();
        try
        {
            await Kubectl("taint", "nodes", ClusterFixture.NodeName, $"{TaintKey}=yes:NoExecute");
            await Eventually(async () => Assert.DoesNotContain(plain, await PodNames()), $"{plain} evicted", TimeSpan.FromSeconds(30));
            var plainGone = clock.Elapsed.TotalSeconds;
            Assert.Equal("", await Kubectl("get", "pod", brief, "-o", "jsonpath={.metadata.deletionTimestamp}")); // tolerated for 20 s
            await Eventually(async () => Assert.DoesNotContain(brief, await PodNames()), $"{brief} evicted", TimeSpan.FromSeconds(60));
            var briefGone = clock.Elapsed.TotalSeconds;
            output.WriteLine($"{plain} gone {plainGone:F1} s after the taint, {brief} (tolerationSeconds 20) {briefGone:F1} s");
            Assert.True(briefGone >= 20, $"{brief} went after {briefGone:F1} s, before its 20 s");

            var events = await Kubectl("get", "events", "--field-selector", "reason=TaintManagerEviction", "-o",
                "custom-columns=OBJ:.involvedObject.name,MSG:.message,SRC:.source.component", "--no-headers");
            output.WriteLine(events);
            Assert.Contains($"Marking for deletion Pod default/{plain}", events);
            Assert.Contains($"Marking for deletion Pod default/{brief}", events);
            Assert.Contains("taint-eviction-controller", events);
            Assert.DoesNotContain(tolerant, events);
            Assert.Equal("Running", await Kubectl("get", "pod", tolerant, "-o", "jsonpath={.status.phase}"));
            Assert.Equal("", await Kubectl("get", "pod", tolerant, "-o", "jsonpath={.metadata.deletionTimestamp}"));
        }
        finally
        {
            await cluster.Kubectl("taint", "nodes", ClusterFixture.NodeName, $"{TaintKey}:NoExecute-");
            await cluster.Kubectl("delete", "pod", plain, brief, tolerant, "--grace-period=0", "--force", "--wait=false", "--ignore-not-found");
        }
        Assert.DoesNotContain(TaintKey, await Kubectl("get", "node", ClusterFixture.NodeName, "-o", "jsonpath={.spec.taints}"));
    }

    private static string PodYaml(string name, string? toleration = null) => $$"""
        apiVersion: v1
        kind: Pod
        metadata:
          name: {{name}}
          labels: { test: taint-eviction }
        spec:
          terminationGracePeriodSeconds: 1
          {{(toleration is null ? "" : $"tolerations: [ {toleration} ]")}}
          containers:
            - name: main
              image: {{PodLifecycleTests.Image}}
              imagePullPolicy: Never
              command: [sh, -c, "trap 'exit 0' TERM; while :; do sleep 1; done"]
        """;

    private async Task<string> PodNames() => await Kubectl("get", "pods", "-o", "name");

    private async Task Apply(string yaml)
    {
        var result = await cluster.KubectlWithInput(yaml, "apply", "-f", "-");
        Assert.True(result.ExitCode == 0, result + "\n" + yaml);
    }

    private async Task<string> Kubectl(params string[] args)
    {
        var result = await cluster.Kubectl(args);
        Assert.True(result.ExitCode == 0, $"kubectl {string.Join(" ", args)}: {result}\n{cluster.Logs()}");
        return result.Output;
    }

    private Task Eventually(Func<Task> check, string what, TimeSpan? within = null) =>
        cluster.Eventually(check, what, within ?? TimeSpan.FromSeconds(60));
}
