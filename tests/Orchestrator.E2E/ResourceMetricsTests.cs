using System.Text.RegularExpressions;
using Xunit;
using Xunit.Abstractions;

namespace Orchestrator.E2E;

/// <summary>
/// The metrics API and the autoscaler on real Docker with unmodified kubectl: <c>kubectl top pods</c> and
/// <c>kubectl top nodes</c> show a CPU-burning pod near its 200m limit; <c>kubectl autoscale</c> makes an autoscaler
/// that scales a burning Deployment up, <c>kubectl get hpa</c> shows its CPU against the target, and it scales back
/// down once the load is switched off (a ConfigMap the pods read; a short scale-down window). Bounded polling only;
/// every object is in a namespace of its own (the cluster is SharedClusterCollection's), deleted at the end.
/// </summary>
[Collection(SharedClusterCollection.Name)]
[TestCaseOrderer(StepOrderer.TypeName, StepOrderer.AssemblyName)]
public sealed class ResourceMetricsTests(ClusterFixture cluster, ITestOutputHelper output)
{
    private static readonly string Suffix = Guid.NewGuid().ToString("N")[..6];
    private static readonly string Namespace = $"metrics-{Suffix}";
    private static readonly string Burn = $"burn-{Suffix}";
    private static readonly string Load = $"load-{Suffix}";
    private const string Image = "orchestrator-test/e2e-metrics-busybox:1";

    [Fact, Step(1)]
    public async Task Kubectl_top_pods_shows_a_cpu_burning_pod_near_its_limit()
    {
        await EnsureImage();
        await Kubectl("create", "namespace", Namespace);
        await Apply(Deployment(Burn, "while true; do :; done", null));
        await Eventually(async () =>
        {
            var top = await Kubectl("top", "pods", "-l", $"app={Burn}", "--no-headers");
            output.WriteLine(top);
            var match = Regex.Match(top, $@"^{Burn}-\S+\s+(\d+)m\s+(\d+)Mi", RegexOptions.Multiline);
            Assert.True(match.Success, top);
            var millicores = int.Parse(match.Groups[1].Value);
            Assert.InRange(millicores, 150, 230); // limited to 200m
        }, "kubectl top pods shows the burning pod near 200m", TimeSpan.FromMinutes(3));

        var containers = await Kubectl("top", "pods", "-A", "--containers");
        Assert.Matches($@"{Namespace}\s+{Burn}-\S+\s+app\s+\d+m\s+\d+Mi", containers);
        var raw = await Kubectl("get", "--raw", $"/apis/metrics.k8s.io/v1beta1/namespaces/{Namespace}/pods");
        Assert.Contains("\"kind\":\"PodMetricsList\"", raw);
    }

    [Fact, Step(2)]
    public async Task Kubectl_top_nodes_shows_the_node()
    {
        await Eventually(async () =>
        {
            var top = await Kubectl("top", "nodes");
            output.WriteLine(top);
            Assert.Matches(@"(?m)^\S+\s+\d+m\s+\d+%\s+\d+Mi\s+\d+%", top);
        }, "kubectl top nodes shows the node");
        Assert.Contains("metrics.k8s.io/v1beta1", await Kubectl("api-versions"));
    }

    [Fact, Step(3)]
    public async Task An_autoscaler_scales_a_burning_deployment_up_and_back_down_when_the_load_stops()
    {
        await Apply($"""
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: {Load}
            data:
              burn: "on"
            """);
        await Apply(Deployment(Load,
            "while true; do if [ \"$(cat /etc/load/burn)\" = on ]; then i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; else sleep 1; fi; done", Load));
        await Kubectl("autoscale", "deployment", Load, "--cpu-percent=50", "--min=1", "--max=3");
        await Kubectl("patch", "hpa", Load, "--type=merge", "-p", """{"spec":{"behavior":{"scaleDown":{"stabilizationWindowSeconds":15}}}}""");

        await Eventually(async () =>
        {
            Assert.True(int.Parse(await Kubectl("get", "deployment", Load, "-o", "jsonpath={.spec.replicas}")) >= 2);
        }, "the autoscaler scales the deployment up", TimeSpan.FromMinutes(4));
        var hpa = await Kubectl("get", "hpa", Load);
        output.WriteLine(hpa);
        Assert.Matches(@"cpu: \d+%/50%", hpa);
        var events = await Kubectl("get", "events", "--field-selector", $"involvedObject.name={Load},reason=SuccessfulRescale", "-o",
            "jsonpath={.items[*].message}");
        Assert.Matches(@"New size: [23]; reason: cpu resource utilization \(percentage of request\) above target", events);
        var conditions = await Kubectl("get", "hpa", Load, "-o", "jsonpath={range .status.conditions[*]}{.type}={.status} {end}");
        Assert.Contains("AbleToScale=True", conditions);
        Assert.Contains("ScalingActive=True", conditions);

        await Kubectl("patch", "configmap", Load, "--type=merge", "-p", """{"data":{"burn":"off"}}""");
        await Eventually(async () =>
        {
            Assert.Equal("1", await Kubectl("get", "deployment", Load, "-o", "jsonpath={.spec.replicas}"));
        }, "the autoscaler scales the deployment back down", TimeSpan.FromMinutes(5));
        Assert.Contains("All metrics below target", await Kubectl("get", "events", "--field-selector",
            $"involvedObject.name={Load},reason=SuccessfulRescale", "-o", "jsonpath={.items[*].message}"));
    }

    [Fact, Step(4)]
    public async Task Cleanup()
    {
        await cluster.Kubectl("-n", Namespace, "delete", "hpa", Load, "--ignore-not-found");
        await cluster.Kubectl("-n", Namespace, "delete", "deployment", Burn, Load, "--ignore-not-found");
        await cluster.Kubectl("-n", Namespace, "delete", "configmap", Load, "--ignore-not-found");
        await cluster.Kubectl("delete", "namespace", Namespace, "--ignore-not-found", "--wait=false");
        await cluster.Eventually(async () => Assert.DoesNotContain(await ClusterFixture.PodNamesOnNode(), n => n.StartsWith(Burn) || n.StartsWith(Load)),
            "the pods' containers removed");
    }

    /// <summary>A Deployment of one busybox pod running <paramref name="script"/>, 100m requested and 200m allowed, with
    /// the ConfigMap <paramref name="switchMap"/> at /etc/load when given.</summary>
    private static string Deployment(string name, string script, string? switchMap)
    {
        var volumes = switchMap is null ? "" :
            "        volumeMounts: [{name: switch, mountPath: /etc/load}]\n" +
            $"      volumes: [{{name: switch, configMap: {{name: {switchMap}}}}}]\n";
        return $$"""
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: {{name}}
            spec:
              replicas: 1
              selector:
                matchLabels:
                  app: {{name}}
              template:
                metadata:
                  labels:
                    app: {{name}}
                spec:
                  terminationGracePeriodSeconds: 1
                  containers:
                  - name: app
                    image: {{Image}}
                    imagePullPolicy: IfNotPresent
                    command: ["sh", "-c", {{System.Text.Json.JsonSerializer.Serialize(script)}}]
                    resources:
                      requests: {cpu: 100m, memory: 16Mi}
                      limits: {cpu: 200m, memory: 64Mi}

            """ + volumes;
    }

    private async Task Apply(string yaml)
    {
        var result = await cluster.KubectlWithInput(yaml, "-n", Namespace, "apply", "-f", "-");
        Assert.True(result.ExitCode == 0, $"{result}\n{yaml}");
    }

    /// <summary>kubectl in the class's namespace (-n is a global flag: kubectl top nodes and api-versions ignore it).</summary>
    private async Task<string> Kubectl(params string[] args)
    {
        var result = await cluster.Kubectl(["-n", Namespace, .. args]);
        Assert.True(result.ExitCode == 0, $"kubectl {string.Join(" ", args)}: {result}");
        return result.Output;
    }

    /// <summary>A busybox image with every applet, made from the machine's busybox-static.</summary>
    private static async Task EnsureImage()
    {
        var script = $$"""
            set -e
            docker image inspect {{Image}} >/dev/null 2>&1 && exit 0
            bb=$(command -v busybox || true); [ -n "$bb" ] || { echo "busybox-static is required"; exit 1; }
            d=$(mktemp -d); trap 'rm -rf "$d"' EXIT
            mkdir -p "$d/bin" "$d/tmp" "$d/etc"; cp "$bb" "$d/bin/busybox"
            for a in $("$bb" --list); do [ "$a" = busybox ] || ln -s busybox "$d/bin/$a"; done
            echo "root:x:0:0:root:/:/bin/sh" > "$d/etc/passwd"
            tar -C "$d" -c . | docker import --change 'ENV PATH=/bin' --change 'CMD ["/bin/sh"]' --change 'LABEL io.orchestrator.test=e2e' - {{Image}} >/dev/null
            """;
        var result = await Command.Run("bash", ["-c", script], new Dictionary<string, string>(), TimeSpan.FromMinutes(2));
        Assert.True(result.ExitCode == 0, result.ToString());
    }

    private Task Eventually(Func<Task> check, string what, TimeSpan? within = null) => cluster.Eventually(check, what, within);
}
