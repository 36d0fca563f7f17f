using System.Text.Json.Nodes;
using Xunit;
using Xunit.Abstractions;

namespace Orchestrator.E2E;

/// <summary>
/// kubectl 1.32 against a real cluster (deploy/up.sh, real controllers, real node): discovery, explain, create and
/// apply (client- and server-side), the three patch types, output formats, selectors, watch, cascading deletes,
/// server dry-run, namespaces, label/annotate, describe with events, and the generators that send protobuf.
/// Each test works in its own namespace and deletes it at the end.
/// </summary>
[Collection(SharedClusterCollection.Name)]
public sealed class KubectlCompatibilityTests(ClusterFixture cluster, ITestOutputHelper output)
{
    private static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 7)];

    private async Task<string> K(params string[] args)
    {
        var result = await cluster.Kubectl(args);
        output.WriteLine($"$ kubectl {string.Join(' ', args)}\n{result.Output}{result.Error}");
        Assert.True(result.ExitCode == 0, $"kubectl {string.Join(' ', args)}: {result}\n{cluster.Logs()}");
        return result.Output;
    }

    private async Task<string> KIn(string input, params string[] args)
    {
        var result = await cluster.KubectlWithInput(input, args);
        output.WriteLine($"$ kubectl {string.Join(' ', args)} <<EOF\n{input}\nEOF\n{result.Output}{result.Error}");
        Assert.True(result.ExitCode == 0, $"kubectl {string.Join(' ', args)}: {result}");
        return result.Output;
    }

    private async Task<string> Namespace(string prefix)
    {
        var ns = Unique(prefix);
        Assert.Equal($"namespace/{ns} created\n", await K("create", "namespace", ns));
        return ns;
    }

    private Task Eventually(Func<Task> check, string what, int seconds = 60) =>
        cluster.Eventually(check, what, TimeSpan.FromSeconds(seconds));

    private static string Deployment(string name, int replicas = 0, string extraContainer = "", string extraSpec = "") => $"""
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: {name}
          labels:
            app: {name}
        spec:
          replicas: {replicas}{extraSpec}
          selector:
            matchLabels:
              app: {name}
          template:
            metadata:
              labels:
                app: {name}
            spec:
              containers:
              - name: web
                image: katacoda/docker-http-server:latest{extraContainer}
        """;

    [Fact]
    public async Task Every_write_records_its_manager_in_managed_fields()
    {
        var ns = await Namespace("managed");
        await K("-n", ns, "create", "deployment", "mf", "--image=katacoda/docker-http-server:latest", "--replicas=1");
        await K("-n", ns, "label", "deployment", "mf", "tier=web");
        await K("-n", ns, "scale", "deployment", "mf", "--replicas=2");

        string Managers(JsonNode deployment) => string.Join(",", deployment["metadata"]!["managedFields"]!.AsArray()
            .Select(e => $"{e!["manager"]}/{e["operation"]}/{e["subresource"]?.ToString() ?? "-"}").Order());
        await Eventually(async () =>
        {
            var deployment = JsonNode.Parse(await K("-n", ns, "get", "deployment", "mf", "-o", "json", "--show-managed-fields"))!;
            var managers = Managers(deployment).Split(',');
            foreach (var expected in new[] { "kube-controller-manager/Update/status", "kubectl-create/Update/-", "kubectl-label/Update/-" })
                Assert.Contains(expected, managers);
            Assert.Contains(managers, m => m.EndsWith("/Update/scale"));
            var label = deployment["metadata"]!["managedFields"]!.AsArray().Single(e => e!["manager"]!.ToString() == "kubectl-label")!;
            Assert.Equal("""{"f:metadata":{"f:labels":{"f:tier":{}}}}""", label["fieldsV1"]!.ToJsonString());
        }, "the managers of the deployment");

        // Without --show-managed-fields kubectl hides them, as with a real server.
        Assert.DoesNotContain("managedFields", await K("-n", ns, "get", "deployment", "mf", "-o", "yaml"));
        await K("delete", "namespace", ns, "--wait=false");
    }

    [Fact]
    public async Task Api_resources_and_explain()
    {
        var resources = await K("api-resources");
        Assert.Matches(@"(?m)^deployments\s+deploy\s+apps/v1\s+true\s+Deployment\s*$", resources);
        Assert.Matches(@"(?m)^namespaces\s+ns\s+v1\s+false\s+Namespace\s*$", resources);
        Assert.Matches(@"(?m)^pods\s+po\s+v1\s+true\s+Pod\s*$", resources);
        Assert.Matches(@"(?m)^replicationcontrollers\s+rc\s+v1\s+true\s+ReplicationController\s*$", resources);

        var explain = await K("explain", "deployment.spec");
        Assert.Contains("KIND:       Deployment", explain);
        Assert.Contains("FIELD: spec <DeploymentSpec>", explain);
        Assert.Matches(@"replicas\s+<integer>", explain);
        Assert.Contains("Number of desired pods", explain);
    }

    [Fact]
    public async Task Client_side_apply_twice_is_unchanged_then_updates_and_removes()
    {
        var ns = await Namespace("csa");
        var name = "applied";
        var first = Deployment(name, extraSpec: "\n  minReadySeconds: 5", extraContainer: "\n        env:\n        - name: MODE\n          value: one");
        Assert.Equal($"deployment.apps/{name} created\n", await KIn(first, "apply", "-n", ns, "-f", "-"));
        // the deployment controller keeps writing status (a rollout, minReadySeconds), so the resourceVersion moves on
        // its own: what an unchanged apply must leave alone is the spec's generation and the applied configuration
        const string Applied = "jsonpath={.metadata.generation} {.metadata.annotations.kubectl\\.kubernetes\\.io/last-applied-configuration}";
        var version = await K("get", "deploy", name, "-n", ns, "-o", Applied);
        Assert.Equal($"deployment.apps/{name} unchanged\n", await KIn(first, "apply", "-n", ns, "-f", "-"));
        Assert.Equal(version, await K("get", "deploy", name, "-n", ns, "-o", Applied));

        Assert.Equal($"deployment.apps/{name} configured\n", await KIn(Deployment(name, replicas: 0).Replace("replicas: 0", "replicas: 0\n  revisionHistoryLimit: 3"),
            "apply", "-n", ns, "-f", "-"));
        var spec = JsonNode.Parse(await K("get", "deploy", name, "-n", ns, "-o", "json"))!["spec"]!;
        Assert.Equal(3, spec["revisionHistoryLimit"]!.GetValue<int>());
        Assert.Null(spec["minReadySeconds"]);
        Assert.Null(spec["template"]!["spec"]!["containers"]![0]!["env"]);
        await K("delete", "namespace", ns, "--wait=false");
    }

    [Fact]
    public async Task Server_side_apply_on_deployments_and_services()
    {
        var ns = await Namespace("ssa");
        var deployment = Deployment("ssa", extraSpec: "\n  minReadySeconds: 5");
        Assert.Equal("deployment.apps/ssa serverside-applied\n", await KIn(deployment, "apply", "--server-side", "-n", ns, "-f", "-"));
        // status writes of the controller move the resourceVersion: a no-op apply leaves the generation and its manager's fields
        const string Applied = "jsonpath={.metadata.generation} {.metadata.managedFields[?(@.manager==\"kubectl\")].fieldsV1}";
        var version = await K("get", "deploy", "ssa", "-n", ns, "-o", Applied);
        await KIn(deployment, "apply", "--server-side", "-n", ns, "-f", "-");
        Assert.Equal(version, await K("get", "deploy", "ssa", "-n", ns, "-o", Applied));
        await KIn(Deployment("ssa", replicas: 0).Replace("replicas: 0", "replicas: 0\n  revisionHistoryLimit: 4"), "apply", "--server-side", "-n", ns, "-f", "-");
        var spec = JsonNode.Parse(await K("get", "deploy", "ssa", "-n", ns, "-o", "json"))!["spec"]!;
        Assert.Equal(4, spec["revisionHistoryLimit"]!.GetValue<int>());
        Assert.Null(spec["minReadySeconds"]);

        string Service(string ports) => $"""
            apiVersion: v1
            kind: Service
            metadata:
              name: ssa-svc
            spec:
              selector:
                app: ssa
              ports:
            {ports}
            """;
        var two = "  - name: http\n    port: 80\n  - name: alt\n    port: 8080";
        Assert.Equal("service/ssa-svc serverside-applied\n", await KIn(Service(two), "apply", "--server-side", "-n", ns, "-f", "-"));
        await KIn(Service("  - name: http\n    port: 80"), "apply", "--server-side", "-n", ns, "-f", "-");
        Assert.Equal("http", await K("get", "svc", "ssa-svc", "-n", ns, "-o", "jsonpath={.spec.ports[*].name}"));
        await K("delete", "namespace", ns, "--wait=false");
    }

    [Fact]
    public async Task Patch_merge_json_and_strategic()
    {
        var ns = await Namespace("patch");
        await KIn(Deployment("p"), "create", "-n", ns, "-f", "-");
        Assert.Equal("deployment.apps/p patched\n",
            await K("patch", "deploy", "p", "-n", ns, "--type=merge", "-p", """{"metadata":{"labels":{"tier":"web"}}}"""));
        await K("patch", "deploy", "p", "-n", ns, "--type=json", "-p", """[{"op":"replace","path":"/spec/revisionHistoryLimit","value":2}]""");
        await K("patch", "deploy", "p", "-n", ns, "-p", """{"spec":{"template":{"spec":{"containers":[{"name":"side","image":"busybox"}]}}}}""");
        var d = JsonNode.Parse(await K("get", "deploy", "p", "-n", ns, "-o", "json"))!;
        Assert.Equal("web", d["metadata"]!["labels"]!["tier"]!.ToString());
        Assert.Equal(2, d["spec"]!["revisionHistoryLimit"]!.GetValue<int>());
        Assert.Equal("web side", string.Join(' ', d["spec"]!["template"]!["spec"]!["containers"]!.AsArray().Select(c => c!["name"]!.ToString())));
        await K("delete", "namespace", ns, "--wait=false");
    }

    [Fact]
    public async Task Get_output_formats_selectors_label_and_annotate()
    {
        var ns = await Namespace("get");
        foreach (var (name, tier) in new[] { ("a", "web"), ("b", "db"), ("c", "cache") })
        {
            await K("create", "configmap", name, "-n", ns, "--from-literal=k=v");
            await K("label", "configmap", name, "-n", ns, $"tier={tier}");
        }
        Assert.Equal("configmap/a annotated\n", await K("annotate", "configmap", "a", "-n", ns, "owner=team"));
        Assert.Equal("team", await K("get", "cm", "a", "-n", ns, "-o", "jsonpath={.metadata.annotations.owner}"));
        Assert.Equal("configmap/a\nconfigmap/b\n", await K("get", "cm", "-n", ns, "-l", "tier in (web,db)", "-o", "name"));
        Assert.Equal("configmap/c\n", await K("get", "cm", "-n", ns, "-l", "tier notin (web,db),tier", "-o", "name"));
        Assert.Equal("configmap/b\n", await K("get", "cm", "-n", ns, "--field-selector", "metadata.name=b", "-o", "name"));
        Assert.Contains("name: c", await K("get", "cm", "c", "-n", ns, "-o", "yaml"));
        Assert.Equal("v", JsonNode.Parse(await K("get", "cm", "c", "-n", ns, "-o", "json"))!["data"]!["k"]!.ToString());
        Assert.Matches(@"^NAME\s+DATA\s+AGE\s+LABELS\n", await K("get", "cm", "a", "-n", ns, "--show-labels"));
        await K("label", "configmap", "a", "-n", ns, "tier-");
        Assert.Equal("configmap/b\n", await K("get", "cm", "-n", ns, "-l", "tier in (web,db)", "-o", "name"));

        await KIn(Deployment("wide"), "create", "-n", ns, "-f", "-");
        Assert.Matches(@"NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR\n" +
                       @"wide\s+0/0\s+0\s+0\s+\S+\s+web\s+katacoda/docker-http-server:latest\s+app=wide",
            await K("get", "deploy", "wide", "-n", ns, "-o", "wide"));
        await K("delete", "namespace", ns, "--wait=false");
    }

    [Fact]
    public async Task Get_watch_prints_changes()
    {
        var ns = await Namespace("watch");
        // ended once it has printed the row (it would otherwise run to its 15 s request timeout): the assertion is the same
        var row = new System.Text.RegularExpressions.Regex(@"(?m)^seen\s+1\s+\S+");
        var watching = Command.RunUntil("kubectl", ["--context", ClusterFixture.Context, "get", "configmaps", "-n", ns, "-w", "--request-timeout=15s"],
            cluster.Environment, TimeSpan.FromMinutes(2), until: row.IsMatch);
        await Task.Delay(2000);
        await K("create", "configmap", "seen", "-n", ns, "--from-literal=a=b");
        var watched = await watching;
        output.WriteLine(watched.ToString());
        Assert.Matches(row, watched.Output);
        await K("delete", "namespace", ns, "--wait=false");
    }

    private async Task DeploymentWithReplicaSet(string ns, string name)
    {
        await KIn(Deployment(name), "create", "-n", ns, "-f", "-");
        await Eventually(async () => Assert.NotEmpty(await K("get", "rs", "-n", ns, "-l", $"app={name}", "-o", "name")),
            $"{name}'s replicaset");
    }

    // The garbage collector once deleted the orphan here: it saw the owner's DELETED before the replicaset's
    // MODIFIED (ownerReferences stripped) and acted on the stale view. It now deletes only with the dependent's
    // resourceVersion as a precondition.
    [Fact]
    public async Task Delete_with_cascade_orphan_keeps_the_replicaset_without_its_owner()
    {
        var ns = await Namespace("orphan");
        await DeploymentWithReplicaSet(ns, "orphan");
        Assert.Equal("deployment.apps \"orphan\" deleted\n", await K("delete", "deploy", "orphan", "-n", ns, "--cascade=orphan"));
        await Task.Delay(2000); // the garbage collector gets time to (wrongly) act
        var rs = JsonNode.Parse(await K("get", "rs", "-n", ns, "-l", "app=orphan", "-o", "json"))!["items"]!.AsArray();
        var events = await K("get", "events", "-n", ns, "-o", "wide");
        Assert.True(rs.Count == 1, $"the orphaned replicaset is gone\n{events}\n{cluster.Logs()}");
        Assert.Null(rs[0]!["metadata"]!["ownerReferences"]);
        await K("delete", "namespace", ns, "--wait=false");
    }

    [Theory]
    [InlineData("background")]
    [InlineData("foreground")]
    public async Task Delete_with_cascade_deletes_the_replicaset(string cascade)
    {
        var ns = await Namespace(cascade[..2]);
        await DeploymentWithReplicaSet(ns, "owner");
        Assert.Equal("deployment.apps \"owner\" deleted\n", await K("delete", "deploy", "owner", "-n", ns, $"--cascade={cascade}"));
        await Eventually(async () => Assert.Empty(await K("get", "rs", "-n", ns, "-l", "app=owner", "-o", "name")),
            "the replicaset deleted");
        await K("delete", "namespace", ns, "--wait=false");
    }

    [Fact]
    public async Task Dry_run_server_stores_nothing()
    {
        var ns = await Namespace("dry");
        Assert.Equal("deployment.apps/dry created (server dry run)\n", await KIn(Deployment("dry"), "create", "-n", ns, "-f", "-", "--dry-run=server"));
        Assert.Equal("configmap/dcm created (server dry run)\n", await K("create", "configmap", "dcm", "-n", ns, "--dry-run=server"));
        // Only what the cluster itself puts in every namespace: the root CA's ConfigMap.
        Assert.All((await K("get", "deploy,cm", "-n", ns, "-o", "name", "--ignore-not-found"))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries), name => Assert.Equal("configmap/kube-root-ca.crt", name));
        await K("delete", "namespace", ns, "--wait=false");
    }

    /// <summary>kubectl test-cmd's replace of pods from their manifests (save-config.sh, generic-resources.sh): the pod
    /// keeps the spec.priority and spec.preemptionPolicy the Priority admission set at create, as kube's does. The pod
    /// names its service account and stays unscheduled, so that nothing else it was given differs from the manifest.</summary>
    [Fact]
    public async Task Replace_of_a_pod_from_its_manifest_keeps_the_priority_admission_set()
    {
        var ns = await Namespace("replace");
        string Pod(string status) => $$"""
            apiVersion: v1
            kind: Pod
            metadata:
              name: p
              labels:
                status: {{status}}
            spec:
              serviceAccountName: default
              automountServiceAccountToken: false
              nodeSelector:
                kubernetes.io/hostname: no-such-node
              containers:
              - name: c
                image: busybox
            """;
        await KIn(Pod("created"), "create", "-n", ns, "-f", "-");
        Assert.Equal("0 PreemptLowerPriority", await K("get", "pod", "p", "-n", ns, "-o", "jsonpath={.spec.priority} {.spec.preemptionPolicy}"));
        Assert.Equal("pod/p replaced\n", await KIn(Pod("replaced"), "replace", "-n", ns, "-f", "-"));
        Assert.Equal("replaced 0", await K("get", "pod", "p", "-n", ns, "-o", "jsonpath={.metadata.labels.status} {.spec.priority}"));
        await K("delete", "namespace", ns, "--wait=false");
    }

    [Fact]
    public async Task Deleting_a_namespace_deletes_its_content()
    {
        var ns = await Namespace("nsdel");
        await K("create", "configmap", "inside", "-n", ns, "--from-literal=a=b");
        await KIn(Deployment("inside"), "create", "-n", ns, "-f", "-");
        Assert.Equal($"namespace \"{ns}\" deleted\n", await K("delete", "namespace", ns));
        Assert.Contains("NotFound", (await cluster.Kubectl("get", "namespace", ns)).Error);
        Assert.DoesNotContain(ns, await K("get", "cm,deploy,rs", "-A", "-o", "jsonpath={.items[*].metadata.namespace}"));
    }

    [Fact]
    public async Task Generators_send_protobuf_bodies()
    {
        var ns = await Namespace("gen");
        Assert.Equal("deployment.apps/gen created\n", await K("create", "deployment", "gen", "-n", ns, "--image=katacoda/docker-http-server:latest", "--replicas=0"));
        Assert.Equal("service/gen created\n", await K("create", "service", "clusterip", "gen", "-n", ns, "--tcp=80:8080"));
        Assert.Equal("configmap/gen created\n", await K("create", "configmap", "gen", "-n", ns, "--from-literal=a=b"));
        Assert.Equal("secret/gen created\n", await K("create", "secret", "generic", "gen", "-n", ns, "--from-literal=p=s3cret"));
        Assert.Equal("s3cret", System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(
            await K("get", "secret", "gen", "-n", ns, "-o", "jsonpath={.data.p}"))));
        Assert.Matches(@"gen\s+ClusterIP\s+172\.28\.\S+\s+<none>\s+80/TCP", await K("get", "svc", "gen", "-n", ns));
        await K("delete", "namespace", ns, "--wait=false");
    }

    [Fact]
    public async Task An_event_an_operator_records_through_events_k8s_io_is_described_with_the_pod()
    {
        var ns = await Namespace("evv1");
        await K("run", "p", "-n", ns, "--image=katacoda/docker-http-server:latest");
        var uid = await K("get", "pod", "p", "-n", ns, "-o", "jsonpath={.metadata.uid}");
        // a microsecond fraction that is not zero: kubectl reads eventTime strictly as RFC 3339 with six digits
        await KIn($$"""
            apiVersion: events.k8s.io/v1
            kind: Event
            metadata: {name: op-1}
            eventTime: "2026-12-05T02:00:00.123456Z"
            regarding: {apiVersion: v1, kind: Pod, name: p, namespace: {{ns}}, uid: {{uid}}}
            note: reconciled by the operator
            reason: Reconciled
            type: Normal
            action: Reconcile
            reportingController: example.com/operator
            reportingInstance: operator-0
            """, "create", "-n", ns, "-f", "-");

        Assert.Matches(@"Normal\s+Reconciled\s+\S+\s+example.com/operator\s+reconciled by the operator", await K("describe", "pod", "p", "-n", ns));
        Assert.Matches(@"Reconciled\s+pod/p\s+reconciled by the operator",
            await K("get", "events.events.k8s.io", "-n", ns, "--field-selector", "regarding.name=p,reason=Reconciled"));
        Assert.Matches(@"Reconciled\s+pod/p\s+reconciled by the operator",
            await K("get", "events", "-n", ns, "--field-selector", "involvedObject.name=p,reason=Reconciled"));
        await K("delete", "namespace", ns, "--wait=false");
    }

    [Fact]
    public async Task Componentstatuses_lists_the_control_plane_as_healthy()
    {
        var result = await cluster.Kubectl("get", "componentstatuses");
        output.WriteLine($"$ kubectl get componentstatuses\n{result.Output}{result.Error}");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("Warning: v1 ComponentStatus is deprecated in v1.19+", result.Error);
        foreach (var component in new[] { "controller-manager", "scheduler", "store-0" })
            Assert.Matches($@"(?m)^{component}\s+Healthy\s+ok", result.Output);
        Assert.Equal("True", await K("get", "cs", "scheduler", "-o", "jsonpath={.conditions[?(@.type==\"Healthy\")].status}"));
    }

    [Fact]
    public async Task Describe_shows_what_a_real_cluster_shows_with_events()
    {
        var ns = await Namespace("desc");
        await KIn(Deployment("desc", replicas: 1), "create", "-n", ns, "-f", "-");
        await K("expose", "deployment", "desc", "-n", ns, "--port=80");
        await KIn("""
            apiVersion: v1
            kind: ReplicationController
            metadata:
              name: rc
            spec:
              replicas: 0
              selector:
                app: rc
              template:
                metadata:
                  labels:
                    app: rc
                spec:
                  containers:
                  - name: web
                    image: katacoda/docker-http-server:latest
            """, "create", "-n", ns, "-f", "-");
        await Eventually(async () => Assert.Matches(@"desc-\S+\s+1/1\s+Running", await K("get", "pods", "-n", ns)), "the pod running", 120);

        var pod = await K("describe", "pods", "-n", ns, "-l", "app=desc");
        Assert.Matches(@"Status:\s+Running", pod);
        Assert.Matches(@"Controlled By:\s+ReplicaSet/desc-", pod);
        Assert.Matches(@"Normal\s+Scheduled\s+\S+\s+default-scheduler\s+Successfully assigned", pod);
        Assert.Matches(@"Normal\s+Started", pod);

        var deployment = await K("describe", "deployment", "desc", "-n", ns);
        Assert.Matches(@"Replicas:\s+1 desired \| 1 updated \| 1 total \| 1 available \| 0 unavailable", deployment);
        Assert.Matches(@"Normal\s+ScalingReplicaSet\s+\S+\s+deployment-controller\s+Scaled up replica set desc-\S+ (to|from 0 to) 1", deployment);

        var rs = await K("describe", "rs", "-n", ns, "-l", "app=desc");
        Assert.Matches(@"Pods Status:\s+1 Running", rs);
        Assert.Matches(@"Normal\s+SuccessfulCreate\s+\S+\s+replicaset-controller\s+Created pod: desc-", rs);

        Assert.Matches(@"Replicas:\s+0 current / 0 desired", await K("describe", "rc", "rc", "-n", ns));
        var service = await K("describe", "service", "desc", "-n", ns);
        Assert.Matches(@"Endpoints:\s+\d+\.\d+\.\d+\.\d+:80", service);
        Assert.Matches(@"Selector:\s+app=desc", service);
        Assert.Matches(@"Addresses:\s+\d+\.\d+\.\d+\.\d+", await K("describe", "endpoints", "desc", "-n", ns));
        var node = await K("describe", "node", ClusterFixture.NodeName);
        Assert.Contains("Ready", node);
        Assert.Matches(@"Non-terminated Pods:", node);
        await K("delete", "namespace", ns);
    }
}
