using Xunit;

namespace Orchestrator.E2E;

/// <summary>
/// NetworkPolicies enforced on a real cluster, checked from inside busybox pods with <c>kubectl exec</c> (wget and nc, with
/// the options the Kubernetes docs use): a web pod (busybox httpd on a named port) behind a ClusterIP Service is
/// reachable by its IP and through the Service, and the NetworkPolicy tutorial's <c>wget --spider --timeout=1 web</c>
/// succeeds; a default-deny ingress policy cuts both paths, and that wget fails within seconds (a dropped connection
/// would otherwise wait minutes), as for a Service that does not exist; an allow rule by podSelector and named port
/// opens them for the client pod only; an egress default-deny on the client cuts its outbound connections while DNS
/// still answers; deleting the policies opens everything and leaves no rule behind. Everything lives in one namespace
/// deleted at the end.
/// </summary>
[TestCaseOrderer(StepOrderer.TypeName, StepOrderer.AssemblyName)]
[Collection(SharedClusterCollection.Name)]
public sealed class NetworkPolicyTests(ClusterFixture cluster)
{
    private const string Image = "busybox:latest"; // deploy/images/build.sh: BusyBox built from source (httpd, wget, nc, nslookup)
    private static readonly string Ns = $"netpol-{Guid.NewGuid().ToString("N")[..6]}";

    private static string Pods => $$"""
        apiVersion: v1
        kind: Namespace
        metadata: { name: {{Ns}} }
        ---
        apiVersion: v1
        kind: Pod
        metadata: { name: web, namespace: {{Ns}}, labels: { app: web } }
        spec:
          terminationGracePeriodSeconds: 1
          containers:
            - name: main
              image: {{Image}}
              imagePullPolicy: Never
              command: [sh, -c, 'mkdir -p /www && echo hello-from-web > /www/index.html && exec httpd -f -p 8080 -h /www']
              ports: [ { name: http, containerPort: 8080 } ]
        ---
        apiVersion: v1
        kind: Service
        metadata: { name: web, namespace: {{Ns}} }
        spec:
          selector: { app: web }
          ports: [ { port: 80, targetPort: http } ]
        ---
        apiVersion: v1
        kind: Pod
        metadata: { name: client, namespace: {{Ns}}, labels: { role: client } }
        spec:
          terminationGracePeriodSeconds: 1
          containers: [ { name: main, image: {{Image}}, imagePullPolicy: Never, command: [sh, -c, 'exec sleep 3600'] } ]
        ---
        apiVersion: v1
        kind: Pod
        metadata: { name: other, namespace: {{Ns}}, labels: { role: other } }
        spec:
          terminationGracePeriodSeconds: 1
          containers: [ { name: main, image: {{Image}}, imagePullPolicy: Never, command: [sh, -c, 'exec sleep 3600'] } ]
        """;

    private const string DenyIngress = """
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: { name: default-deny-ingress }
        spec:
          podSelector: {}
          policyTypes: [Ingress]
        """;

    private const string AllowClient = """
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: { name: web-from-client }
        spec:
          podSelector: { matchLabels: { app: web } }
          ingress:
            - from: [ { podSelector: { matchLabels: { role: client } } } ]
              ports: [ { port: http } ]
        """;

    private const string DenyClientEgress = """
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: { name: client-deny-egress }
        spec:
          podSelector: { matchLabels: { role: client } }
          policyTypes: [Egress]
        """;

    [Fact, Step(1)]
    public async Task Without_policies_a_pod_reaches_another_by_IP_and_through_its_service()
    {
        await Apply(Pods, all: true);
        foreach (var pod in new[] { "web", "client", "other" })
            await Kubectl("wait", "-n", Ns, "--for=condition=Ready", $"pod/{pod}", "--timeout=120s");
        await Eventually(async () => Assert.NotEmpty(await Kubectl("get", "endpoints", "-n", Ns, "web", "-o", "jsonpath={.subsets[0].addresses[0].ip}")),
            "the service has its endpoint");
        await Eventually(async () =>
        {
            Assert.True(await Reaches("client", $"{await WebIp()}:8080"), "client to the web pod's IP");
            Assert.True(await Reaches("client", $"{await ServiceIp()}:80"), "client to the web service's ClusterIP");
            Assert.True(await Reaches("other", $"{await WebIp()}:8080"), "other to the web pod's IP");
            var spider = await Spider("client", "web");
            Assert.True(spider.ExitCode == 0, $"wget --spider --timeout=1 web: {spider}");
        }, "open traffic");
    }

    [Fact, Step(2)]
    public async Task A_default_deny_ingress_policy_blocks_the_pod_IP_and_the_cluster_IP()
    {
        await Apply(DenyIngress);
        await Eventually(async () =>
        {
            Assert.False(await Reaches("client", $"{await WebIp()}:8080"), "client to the web pod's IP");
            Assert.False(await Reaches("client", $"{await ServiceIp()}:80"), "client to the web service's ClusterIP");
            Assert.False(await NcConnects("client", await WebIp(), 8080), "nc to the web pod");
        }, "default deny");
        // the tutorial's check, by the Service's name and at the pod's IP (where the policy drops the connection: without
        // the timeout wget would wait for TCP to give up, minutes), and at a Service that does not exist (a name of the
        // cluster's zone: this cluster's DNS has no upstream to ask for a bare name)
        foreach (var target in new[] { "web", $"http://{await WebIp()}:8080/", $"absent.{Ns}.svc.cluster.local" })
        {
            var started = System.Diagnostics.Stopwatch.StartNew();
            var spider = await Spider("client", target);
            Assert.True(spider.ExitCode != 0, $"wget --spider --timeout=1 {target} succeeded: {spider}");
            Assert.True(started.Elapsed < TimeSpan.FromSeconds(15), $"wget --spider --timeout=1 {target} took {started.Elapsed}: {spider}");
            if (target.StartsWith("http://")) Assert.Contains("download timed out", spider.Error);
        }
    }

    [Fact, Step(3)]
    public async Task An_allow_rule_by_pod_selector_opens_the_way_for_the_selected_pods_only()
    {
        await Apply(AllowClient);
        await Eventually(async () =>
        {
            Assert.True(await Reaches("client", $"{await WebIp()}:8080"), "client to the web pod's IP");
            Assert.True(await Reaches("client", $"{await ServiceIp()}:80"), "client to the web service's ClusterIP");
            Assert.True(await NcConnects("client", await WebIp(), 8080), "nc to the web pod");
        }, "allowed from the client");
        Assert.False(await Reaches("other", $"{await WebIp()}:8080"), "other to the web pod's IP");
        Assert.False(await Reaches("other", $"{await ServiceIp()}:80"), "other to the web service's ClusterIP");
    }

    [Fact, Step(4)]
    public async Task An_egress_default_deny_blocks_outbound_connections_but_not_DNS()
    {
        await Apply(DenyClientEgress);
        await Eventually(async () =>
        {
            Assert.False(await Reaches("client", $"{await WebIp()}:8080"), "client to the web pod's IP");
            Assert.False(await Reaches("client", $"{await ServiceIp()}:80"), "client to the web service's ClusterIP");
        }, "egress denied");
        var lookup = await cluster.Kubectl("exec", "-n", Ns, "client", "--", "nslookup", $"web.{Ns}.svc.cluster.local");
        Assert.True(lookup.ExitCode == 0 && lookup.Output.Contains(await ServiceIp()), lookup.ToString());
    }

    [Fact, Step(5)]
    public async Task Deleting_the_policies_opens_everything_and_leaves_no_rule_for_the_pods()
    {
        await Kubectl("delete", "networkpolicy", "-n", Ns, "--all");
        var webIp = await WebIp();
        await Eventually(async () =>
        {
            Assert.True(await Reaches("client", $"{webIp}:8080"), "client to the web pod's IP");
            Assert.True(await Reaches("other", $"{await ServiceIp()}:80"), "other to the web service's ClusterIP");
        }, "open again");
        var rules = await Command.Run("iptables", ["-w", "5", "-S"], new Dictionary<string, string>(), TimeSpan.FromSeconds(30));
        // only the policy chains: Docker's own rules (its DOCKER chain) may name the pod too
        var policyRules = rules.Output.Split('\n').Where(l => l.Contains("ORCH-NP")).ToList();
        Assert.DoesNotContain(policyRules, l => l.Contains($"{webIp}/32"));
        await cluster.Kubectl("delete", "namespace", Ns, "--wait=false");
    }

    private async Task<bool> Reaches(string from, string target)
    {
        var result = await cluster.Kubectl("exec", "-n", Ns, from, "--", "wget", "-q", "-O", "-", "-T", "3", $"http://{target}/");
        return result.ExitCode == 0 && result.Output.Contains("hello-from-web");
    }

    /// <summary>The NetworkPolicy tutorial's <c>wget --spider --timeout=1 TARGET</c> (a name alone is an http URL).</summary>
    private Task<CommandResult> Spider(string from, string target) =>
        cluster.Kubectl("exec", "-n", Ns, from, "--", "wget", "--spider", "--timeout=1", target);

    private async Task<bool> NcConnects(string from, string ip, int port)
    {
        var result = await cluster.Kubectl("exec", "-n", Ns, from, "--", "nc", "-z", "-w", "3", ip, port.ToString());
        return result.ExitCode == 0;
    }

    private async Task<string> WebIp() => await Kubectl("get", "pod", "-n", Ns, "web", "-o", "jsonpath={.status.podIP}");

    private async Task<string> ServiceIp() => await Kubectl("get", "service", "-n", Ns, "web", "-o", "jsonpath={.spec.clusterIP}");

    private async Task Apply(string yaml, bool all = false)
    {
        var result = all ? await cluster.KubectlWithInput(yaml, "apply", "-f", "-") : await cluster.KubectlWithInput(yaml, "apply", "-n", Ns, "-f", "-");
        Assert.True(result.ExitCode == 0, result.ToString());
    }

    private async Task<string> Kubectl(params string[] args)
    {
        var result = await cluster.Kubectl(args);
        Assert.True(result.ExitCode == 0, $"kubectl {string.Join(" ", args)}: {result}\n{cluster.Logs()}");
        return result.Output.Trim();
    }

    private Task Eventually(Func<Task> check, string what) => cluster.Eventually(check, what, TimeSpan.FromSeconds(60));
}
