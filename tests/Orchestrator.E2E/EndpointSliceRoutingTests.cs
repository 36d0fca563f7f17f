using System.Net.Http;
using Xunit;

namespace Orchestrator.E2E;

/// <summary>
/// Services without a selector, whose backends users give by hand, against a real cluster: a hand-written
/// EndpointSlice alone (no Endpoints object) is routed by the node's proxy through the NodePort and the ClusterIP, and
/// stops being routed when its endpoint is marked not ready, as kube-proxy reads slices; a hand-written Endpoints is
/// mirrored into a slice by the mirroring controller and routed the same way; a PreferClose Service's endpoints carry
/// their node's zone and a hint for it. Everything lives in a unique namespace, deleted at the end (and the node's zone
/// label is removed).
/// </summary>
[TestCaseOrderer(StepOrderer.TypeName, StepOrderer.AssemblyName)]
[Collection(SharedClusterCollection.Name)]
public sealed class EndpointSliceRoutingTests(ClusterFixture cluster)
{
    private const string Image = "busybox:latest"; // deploy/images/build.sh: BusyBox built from source (httpd, wget)
    private const int SliceNodePort = 30593;
    private const int MirroredNodePort = 30594;
    private const int ZonedNodePort = 30595;
    // a new connection per request: the proxy balances a port without appProtocol per connection, and an open one
    // keeps its endpoint (as through kube-proxy), so only new connections show a slice's change
    private static readonly HttpClient Http = DemoPage.ConnectionPerRequest(TimeSpan.FromSeconds(3));
    private static readonly string Ns = $"slices-{Guid.NewGuid().ToString("N")[..6]}";

    [Fact, Step(1)]
    public async Task A_selectorless_service_with_only_a_hand_written_slice_is_reached_through_its_node_port_and_cluster_ip()
    {
        var podIp = await StartBackend();
        await Apply($$"""
            apiVersion: v1
            kind: Service
            metadata: { name: by-slice, namespace: {{Ns}} }
            spec:
              type: NodePort
              ports: [ { name: http, port: 80, targetPort: 8080, nodePort: {{SliceNodePort}} } ]
            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata:
              name: by-slice-1
              namespace: {{Ns}}
              labels: { kubernetes.io/service-name: by-slice }
            addressType: IPv4
            ports: [ { name: http, port: 8080, protocol: TCP } ]
            endpoints: [ { addresses: [ "{{podIp}}" ] } ]
            """);

        await Eventually(async () => Assert.Contains("hello-from-backend", await Get($"http://127.0.0.1:{SliceNodePort}/")),
            "the NodePort routes to the slice's endpoint");
        var clusterIp = await Kubectl("get", "service", "-n", Ns, "by-slice", "-o", "jsonpath={.spec.clusterIP}");
        await Eventually(async () => Assert.True(await Reaches("backend", $"{clusterIp}:80"), "backend to the by-slice ClusterIP"),
            "the ClusterIP routes to the slice's endpoint");
        // no Endpoints object exists for it: the proxy read the slice
        Assert.NotEqual(0, (await cluster.Kubectl("get", "endpoints", "-n", Ns, "by-slice")).ExitCode);
    }

    [Fact, Step(2)]
    public async Task An_endpoint_marked_not_ready_in_the_slice_gets_no_traffic()
    {
        var podIp = await Kubectl("get", "pod", "-n", Ns, "backend", "-o", "jsonpath={.status.podIP}");
        await Apply($$"""
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata:
              name: by-slice-1
              namespace: {{Ns}}
              labels: { kubernetes.io/service-name: by-slice }
            addressType: IPv4
            ports: [ { name: http, port: 8080, protocol: TCP } ]
            endpoints: [ { addresses: [ "{{podIp}}" ], conditions: { ready: false } } ]
            """);

        await Eventually(async () => Assert.DoesNotContain("hello-from-backend", await Get($"http://127.0.0.1:{SliceNodePort}/")),
            "no traffic to a not-ready endpoint");
    }

    [Fact, Step(3)]
    public async Task Hand_written_endpoints_are_mirrored_into_a_slice_and_routed()
    {
        var podIp = await Kubectl("get", "pod", "-n", Ns, "backend", "-o", "jsonpath={.status.podIP}");
        await Apply($$"""
            apiVersion: v1
            kind: Service
            metadata: { name: by-endpoints, namespace: {{Ns}} }
            spec:
              type: NodePort
              ports: [ { name: http, port: 80, targetPort: 8080, nodePort: {{MirroredNodePort}} } ]
            ---
            apiVersion: v1
            kind: Endpoints
            metadata: { name: by-endpoints, namespace: {{Ns}} }
            subsets: [ { addresses: [ { ip: "{{podIp}}" } ], ports: [ { name: http, port: 8080 } ] } ]
            """);

        await Eventually(async () => Assert.Equal("endpointslicemirroring-controller.k8s.io", await Kubectl("get", "endpointslices", "-n", Ns,
                "-l", "kubernetes.io/service-name=by-endpoints", "-o", "jsonpath={.items[0].metadata.labels.endpointslice\\.kubernetes\\.io/managed-by}")),
            "the mirroring controller made the slice");
        await Eventually(async () => Assert.Contains("hello-from-backend", await Get($"http://127.0.0.1:{MirroredNodePort}/")),
            "the NodePort routes to the mirrored endpoint");
    }

    [Fact, Step(4)]
    public async Task A_prefer_close_services_endpoints_carry_their_nodes_zone_and_a_hint_for_it_and_are_routed()
    {
        var zone = $"zone-{Ns}";
        try
        {
            await Kubectl("label", "node", ClusterFixture.NodeName, $"topology.kubernetes.io/zone={zone}", "--overwrite");
            await Kubectl("label", "pod", "-n", Ns, "backend", "app=zoned");
            await Apply($$"""
                apiVersion: v1
                kind: Service
                metadata: { name: zoned, namespace: {{Ns}} }
                spec:
                  type: NodePort
                  selector: { app: zoned }
                  trafficDistribution: PreferClose
                  ports: [ { name: http, port: 80, targetPort: 8080, nodePort: {{ZonedNodePort}} } ]
                """);
            var endpoint = "jsonpath={.items[0].endpoints[0].nodeName}/{.items[0].endpoints[0].zone}/{.items[0].endpoints[0].hints.forZones[0].name}";
            await Eventually(async () => Assert.Equal($"{ClusterFixture.NodeName}/{zone}/{zone}",
                    await Kubectl("get", "endpointslices", "-n", Ns, "-l", "kubernetes.io/service-name=zoned", "-o", endpoint)),
                "the endpoint has its node's zone and a hint for it");
            // every endpoint is hinted for this node's zone: the proxy keeps them all (one zone)
            await Eventually(async () => Assert.Contains("hello-from-backend", await Get($"http://127.0.0.1:{ZonedNodePort}/")),
                "the NodePort routes to the hinted endpoint");

            // the node loses its zone: the slice follows (no zone, so no hint), and traffic still flows
            await Kubectl("label", "node", ClusterFixture.NodeName, "topology.kubernetes.io/zone-");
            await Eventually(async () => Assert.Equal($"{ClusterFixture.NodeName}//",
                    await Kubectl("get", "endpointslices", "-n", Ns, "-l", "kubernetes.io/service-name=zoned", "-o", endpoint)),
                "the endpoint lost its zone and hint");
            await Eventually(async () => Assert.Contains("hello-from-backend", await Get($"http://127.0.0.1:{ZonedNodePort}/")),
                "the NodePort routes to the unhinted endpoint");
        }
        finally
        {
            await cluster.Kubectl("label", "node", ClusterFixture.NodeName, "topology.kubernetes.io/zone-");
            await cluster.Kubectl("delete", "namespace", Ns, "--wait=false");
        }
    }

    // ---- helpers ------------------------------------------------------------------------------------------

    private async Task<string> StartBackend()
    {
        await Apply($$"""
            apiVersion: v1
            kind: Namespace
            metadata: { name: {{Ns}} }
            ---
            apiVersion: v1
            kind: Pod
            metadata: { name: backend, namespace: {{Ns}} }
            spec:
              terminationGracePeriodSeconds: 1
              containers:
                - name: main
                  image: {{Image}}
                  imagePullPolicy: Never
                  command: [sh, -c, 'mkdir -p /www && echo hello-from-backend > /www/index.html && exec httpd -f -p 8080 -h /www']
            """);
        var ip = "";
        await Eventually(async () =>
        {
            Assert.Equal("Running", await Kubectl("get", "pod", "-n", Ns, "backend", "-o", "jsonpath={.status.phase}"));
            ip = await Kubectl("get", "pod", "-n", Ns, "backend", "-o", "jsonpath={.status.podIP}");
            Assert.NotEmpty(ip);
        }, "the backend pod runs", TimeSpan.FromSeconds(90));
        return ip;
    }

    private async Task<bool> Reaches(string from, string hostAndPort)
    {
        var result = await cluster.Kubectl("exec", "-n", Ns, from, "--", "wget", "-q", "-O", "-", "-T", "3", $"http://{hostAndPort}/");
        return result.ExitCode == 0 && result.Output.Contains("hello-from-backend");
    }

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

    private static async Task<string> Get(string url)
    {
        try { return await Http.GetStringAsync(url); }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { return $"(failed: {e.Message})"; }
    }

    private Task Eventually(Func<Task> check, string what, TimeSpan? within = null) =>
        cluster.Eventually(check, what, within ?? TimeSpan.FromSeconds(30));
}
