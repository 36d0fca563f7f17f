using System.Text.Json.Nodes;
using Xunit;

namespace Orchestrator.E2E;

/// <summary>
/// ResourceQuota and LimitRange on a real cluster, driven by kubectl: a quota refuses the pod that exceeds it with
/// Kubernetes' message (<c>kubectl create quota</c>, <c>kubectl get|describe quota</c>); a Deployment scaled beyond a quota
/// stops at the limit and its ReplicaSet records FailedCreate with the quota's message; a LimitRange's defaults show on a
/// new pod (<c>kubectl describe limitrange</c>). Each test uses its own namespace, deleted at the end. The pods need not
/// run: a quota counts every pod not finished.
/// </summary>
[TestCaseOrderer(StepOrderer.TypeName, StepOrderer.AssemblyName)]
[Collection(SharedClusterCollection.Name)]
public sealed class ResourceQuotaTests(ClusterFixture cluster)
{
    private const string Image = "orchestrator-test/quota-never-pulled:1";
    private static readonly string Suffix = Guid.NewGuid().ToString("N")[..6];

    private static string Pod(string name, string cpu) =>
        "apiVersion: v1\nkind: Pod\nmetadata: {name: " + name + "}\nspec:\n  containers:\n  - name: " + name + "\n    image: " + Image +
        "\n    resources:\n      requests: {cpu: " + cpu + "}\n";

    [Fact, Step(1)]
    public async Task A_quota_refuses_the_pod_that_exceeds_it()
    {
        var ns = $"quota-{Suffix}";
        await Kubectl("create", "namespace", ns);
        try
        {
            Assert.Contains("resourcequota/q created", await Kubectl("create", "quota", "q", "--hard=pods=2,cpu=1", "-n", ns));
            await Kubectl("create", "-n", ns, "-f", "-", Pod("p1", "100m"));
            await Kubectl("create", "-n", ns, "-f", "-", Pod("p2", "250m"));

            var refused = await cluster.KubectlWithInput(Pod("p3", "100m"), "create", "-n", ns, "-f", "-");
            Assert.NotEqual(0, refused.ExitCode);
            Assert.Contains("Error from server (Forbidden): error when creating \"STDIN\": pods \"p3\" is forbidden: " +
                "exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2", refused.Error);

            var bare = await cluster.Kubectl("run", "bare", $"--image={Image}", "-n", ns);
            Assert.NotEqual(0, bare.ExitCode);
            Assert.Contains("pods \"bare\" is forbidden: failed quota: q: must specify cpu for: bare", bare.Error);

            Assert.Matches(@"(?m)^q\s+\S+\s+cpu: 350m/1, pods: 2/2[ \t]*$", await Kubectl("get", "quota", "-n", ns));
            var described = await Kubectl("describe", "quota", "q", "-n", ns);
            Assert.Matches(@"(?m)^cpu\s+350m\s+1[ \t]*$", described);
            Assert.Matches(@"(?m)^pods\s+2\s+2[ \t]*$", described);

            // Deleting a pod gives its share back (the quota controller recounts).
            await Kubectl("delete", "pod", "p1", "-n", ns, "--grace-period=0", "--force");
            await cluster.Eventually(async () =>
                Assert.Equal("1", await Kubectl("get", "quota", "q", "-n", ns, "-o", "jsonpath={.status.used.pods}")), "the quota to release p1");
            await Kubectl("create", "-n", ns, "-f", "-", Pod("p3", "100m"));
        }
        finally
        {
            await cluster.Kubectl("delete", "namespace", ns, "--wait=false");
        }
    }

    [Fact, Step(2)]
    public async Task A_deployment_beyond_its_quota_stops_at_the_limit_with_FailedCreate()
    {
        var ns = $"quota-deploy-{Suffix}";
        await Kubectl("create", "namespace", ns);
        try
        {
            await Kubectl("create", "quota", "q", "--hard=pods=2", "-n", ns);
            await Kubectl("create", "deployment", "web", $"--image={Image}", "--replicas=4", "-n", ns);

            await cluster.Eventually(async () =>
            {
                var events = await Kubectl("get", "events", "-n", ns, "--field-selector", "reason=FailedCreate", "-o", "json");
                var messages = JsonNode.Parse(events)!["items"]!.AsArray().Select(e => e!["message"]!.GetValue<string>()).ToList();
                Assert.Contains(messages, m => m.StartsWith("Error creating: pods \"web-", StringComparison.Ordinal)
                    && m.EndsWith("is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2", StringComparison.Ordinal));
            }, "the ReplicaSet's FailedCreate event");
            var pods = JsonNode.Parse(await Kubectl("get", "pods", "-n", ns, "-o", "json"))!["items"]!.AsArray();
            Assert.Equal(2, pods.Count);
            Assert.Equal("2", await Kubectl("get", "quota", "q", "-n", ns, "-o", "jsonpath={.status.used.pods}"));
        }
        finally
        {
            await cluster.Kubectl("delete", "namespace", ns, "--wait=false");
        }
    }

    [Fact, Step(3)]
    public async Task A_limit_range_default_shows_on_a_created_pod()
    {
        var ns = $"limits-{Suffix}";
        await Kubectl("create", "namespace", ns);
        try
        {
            await Kubectl("create", "-n", ns, "-f", "-", """
                apiVersion: v1
                kind: LimitRange
                metadata: {name: defaults}
                spec:
                  limits:
                  - type: Container
                    default: {cpu: 300m, memory: 128Mi}
                    defaultRequest: {cpu: 100m, memory: 64Mi}
                    max: {cpu: "1"}
                """);
            await Kubectl("run", "p", $"--image={Image}", "-n", ns);

            var pod = JsonNode.Parse(await Kubectl("get", "pod", "p", "-n", ns, "-o", "json"))!;
            var resources = pod["spec"]!["containers"]![0]!["resources"]!;
            Assert.Equal("300m", resources["limits"]!["cpu"]!.GetValue<string>());
            Assert.Equal("64Mi", resources["requests"]!["memory"]!.GetValue<string>());
            Assert.Equal("LimitRanger plugin set: cpu, memory request for container p; cpu, memory limit for container p",
                pod["metadata"]!["annotations"]!["kubernetes.io/limit-ranger"]!.GetValue<string>());

            Assert.Matches(@"(?m)^ ?Container\s+cpu\s+-\s+1\s+100m\s+300m\s+-[ \t]*$", await Kubectl("describe", "limitrange", "defaults", "-n", ns));

            var big = await cluster.Kubectl("run", "big", $"--image={Image}", "-n", ns, "--overrides",
                """{"spec":{"containers":[{"name":"big","image":"IMAGE","resources":{"limits":{"cpu":"2"}}}]}}""".Replace("IMAGE", Image));
            Assert.NotEqual(0, big.ExitCode);
            Assert.Contains("pods \"big\" is forbidden: maximum cpu usage per Container is 1, but limit is 2", big.Error);
        }
        finally
        {
            await cluster.Kubectl("delete", "namespace", ns, "--wait=false");
        }
    }

    private async Task<string> Kubectl(params string[] args)
    {
        // "-f -" takes the last argument as the document.
        var stdin = args.Length > 2 && args[^2] == "-" ? args[^1] : null;
        var result = stdin is null ? await cluster.Kubectl(args) : await cluster.KubectlWithInput(stdin, args[..^1]);
        Assert.True(result.ExitCode == 0, $"kubectl {string.Join(" ", args)}: {result}\n{cluster.Logs()}");
        return result.Output;
    }
}
