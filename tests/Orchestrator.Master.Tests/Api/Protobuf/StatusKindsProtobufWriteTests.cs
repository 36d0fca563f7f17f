using System.Net;
using System.Text.Json.Nodes;
using Orchestrator.Master.Api.Protobuf;
using Orchestrator.Master.Tests.Registry;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Protobuf;

/// <summary>Status writes in protobuf over HTTP, one kind of each group whose controllers write status that way
/// (client-go's UpdateStatus with the protobuf content type: the deployment, replicaset, job, cronjob, disruption,
/// quota, namespace and autoscaler controllers, the kubelet, load-balancer and ingress controllers, kube's e2e
/// framework). These were 415 while the kinds' messages left the status out.</summary>
public sealed class StatusKindsProtobufWriteTests : IAsyncLifetime
{
    private const string Protobuf = "application/vnd.kubernetes.protobuf";
    private ApiTestServer _server = null!;

    public async Task InitializeAsync() => _server = await ApiTestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static byte[] Body(JsonObject obj)
    {
        var resource = BuiltIn.FindByKind(obj["apiVersion"]!.ToString(), obj["kind"]!.ToString())!;
        return ProtoWriter.Envelope(resource.GroupVersion, resource.Kind, ProtobufEncoder.Encode(obj, ProtobufBodyDecoder.MessageOf(resource)!));
    }

    public static TheoryData<string> Kinds => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task A_status_written_in_protobuf_is_stored(string name)
    {
        var (collection, json, status, path, expected) = Cases[name];
        var (code, created) = await _server.SendAsync(HttpMethod.Post, collection, json);
        Assert.True(code == HttpStatusCode.Created, $"{code}: {created}");

        var update = created!.DeepClone().AsObject();
        update["status"] = JsonNode.Parse(status);
        var objectPath = $"{collection}/{created["metadata"]!["name"]}";
        var (written, answer) = await _server.SendBytesAsync(HttpMethod.Put, objectPath + "/status", Body(update), Protobuf);
        Assert.True(written == HttpStatusCode.OK, $"{written}: {answer}");

        var (_, stored) = await _server.SendAsync(HttpMethod.Get, objectPath);
        JsonNode? node = stored!["status"];
        foreach (var step in path) node = step is int i ? node?[i] : node?[(string)step];
        Assert.Equal(expected, node?.ToJsonString());
    }

    private const string Template = """{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"nginx:1.27"}]}}""";

    private static readonly Dictionary<string, (string Collection, string Json, string Status, object[] Path, string Expected)> Cases = new()
    {
        ["apps/v1 Deployment"] = ("/apis/apps/v1/namespaces/default/deployments",
            $$$"""{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},"template":{{{Template}}}}}""",
            """{"observedGeneration":1,"replicas":2,"readyReplicas":1,"conditions":[{"type":"Available","status":"False","reason":"MinimumReplicasUnavailable"}]}""",
            ["conditions", 0, "reason"], "\"MinimumReplicasUnavailable\""),
        ["apps/v1 ReplicaSet"] = ("/apis/apps/v1/namespaces/default/replicasets",
            $$$"""{"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"web-1"},"spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},"template":{{{Template}}}}}""",
            """{"replicas":2,"fullyLabeledReplicas":2,"readyReplicas":2,"availableReplicas":2,"observedGeneration":1}""",
            ["fullyLabeledReplicas"], "2"),
        ["v1 Pod"] = ("/api/v1/namespaces/default/pods",
            """{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web-0"},"spec":{"containers":[{"name":"c","image":"nginx:1.27"}]}}""",
            """{"phase":"Running","podIP":"10.244.1.5","podIPs":[{"ip":"10.244.1.5"}],"startTime":"2024-05-01T10:00:00Z","containerStatuses":[{"name":"c","ready":true,"restartCount":0,"image":"nginx:1.27","imageID":"","state":{"running":{"startedAt":"2024-05-01T10:00:02Z"}}}]}""",
            ["containerStatuses", 0, "state", "running", "startedAt"], "\"2024-05-01T10:00:02Z\""),
        ["v1 Service"] = ("/api/v1/namespaces/default/services",
            """{"apiVersion":"v1","kind":"Service","metadata":{"name":"lb"},"spec":{"type":"LoadBalancer","selector":{"app":"web"},"ports":[{"port":80}]}}""",
            """{"loadBalancer":{"ingress":[{"ip":"192.0.2.10","ipMode":"VIP"}]}}""",
            ["loadBalancer", "ingress", 0, "ip"], "\"192.0.2.10\""),
        ["v1 Namespace"] = ("/api/v1/namespaces",
            """{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"team-a"}}""",
            """{"phase":"Active","conditions":[{"type":"NamespaceContentRemaining","status":"False","reason":"ContentRemoved","message":"none"}]}""",
            ["conditions", 0, "reason"], "\"ContentRemoved\""),
        ["v1 ReplicationController"] = ("/api/v1/namespaces/default/replicationcontrollers",
            $$$"""{"apiVersion":"v1","kind":"ReplicationController","metadata":{"name":"rc"},"spec":{"replicas":1,"selector":{"app":"web"},"template":{{{Template}}}}}""",
            """{"replicas":1,"readyReplicas":1,"availableReplicas":1,"observedGeneration":1}""",
            ["readyReplicas"], "1"),
        ["v1 ResourceQuota"] = ("/api/v1/namespaces/default/resourcequotas",
            """{"apiVersion":"v1","kind":"ResourceQuota","metadata":{"name":"q"},"spec":{"hard":{"pods":"10"}}}""",
            """{"hard":{"pods":"10"},"used":{"pods":"3"}}""",
            ["used", "pods"], "\"3\""),
        ["batch/v1 Job"] = ("/apis/batch/v1/namespaces/default/jobs",
            """{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"pi"},"spec":{"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"perl"}]}}}}""",
            """{"startTime":"2024-05-01T10:00:00Z","active":1,"ready":0,"terminating":0,"uncountedTerminatedPods":{}}""",
            ["active"], "1"),
        ["batch/v1 CronJob"] = ("/apis/batch/v1/namespaces/default/cronjobs",
            """{"apiVersion":"batch/v1","kind":"CronJob","metadata":{"name":"hourly"},"spec":{"schedule":"0 * * * *","jobTemplate":{"spec":{"template":{"spec":{"restartPolicy":"OnFailure","containers":[{"name":"c","image":"busybox"}]}}}}}}""",
            """{"lastScheduleTime":"2024-05-01T10:00:00Z"}""",
            ["lastScheduleTime"], "\"2024-05-01T10:00:00Z\""),
        ["autoscaling/v1 HorizontalPodAutoscaler"] = ("/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers",
            """{"apiVersion":"autoscaling/v1","kind":"HorizontalPodAutoscaler","metadata":{"name":"web"},"spec":{"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"web"},"maxReplicas":5}}""",
            """{"currentReplicas":2,"desiredReplicas":3,"lastScaleTime":"2024-05-01T10:00:00Z"}""",
            ["desiredReplicas"], "3"),
        ["networking.k8s.io/v1 Ingress"] = ("/apis/networking.k8s.io/v1/namespaces/default/ingresses",
            """{"apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":{"name":"web"},"spec":{"defaultBackend":{"service":{"name":"web","port":{"number":80}}}}}""",
            """{"loadBalancer":{"ingress":[{"hostname":"web.example.com"}]}}""",
            ["loadBalancer", "ingress", 0, "hostname"], "\"web.example.com\""),
        ["policy/v1 PodDisruptionBudget"] = ("/apis/policy/v1/namespaces/default/poddisruptionbudgets",
            """{"apiVersion":"policy/v1","kind":"PodDisruptionBudget","metadata":{"name":"web"},"spec":{"minAvailable":1,"selector":{"matchLabels":{"app":"web"}}}}""",
            """{"observedGeneration":1,"disruptionsAllowed":1,"currentHealthy":2,"desiredHealthy":1,"expectedPods":2}""",
            ["disruptionsAllowed"], "1"),
    };
}
