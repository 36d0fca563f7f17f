using System.Text.Json.Nodes;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Api.Protobuf;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Kinds.Apps;
using Orchestrator.Master.Registry.Kinds.Authentication;
using Orchestrator.Master.Registry.Kinds.Authorization;
using Orchestrator.Master.Registry.Kinds.Autoscaling;
using Orchestrator.Master.Registry.Kinds.Batch;
using Orchestrator.Master.Registry.Kinds.Core;
using Orchestrator.Master.Registry.Kinds.Networking;
using Orchestrator.Master.Registry.Kinds.Policy;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Protobuf;

/// <summary>The status of Deployment, ReplicaSet, Pod, Service, Namespace, ReplicationController, ResourceQuota, Job,
/// CronJob, autoscaling/v1 HorizontalPodAutoscaler, Ingress and PodDisruptionBudget as their controllers send it in
/// protobuf, hand-encoded with Kubernetes 1.32's field numbers (k8s.io/api v0.32 generated.proto); and the fields of
/// 1.32's messages that our messages had wrong: those newer than 1.32 are skipped as 1.32 skips unknown fields, and
/// DeleteOptions' field 6 is read.</summary>
public class StatusKindsDecodingTests
{
    private static JsonObject Decode(ResourceDescription resource, ProtoWriter obj)
    {
        var body = ProtoWriter.Envelope(resource.GroupVersion, resource.Kind, obj);
        Assert.True(ProtobufBodyDecoder.TryDecode(body, resource, out var decoded, out var error), error);
        return ObjectJson.ToJson(decoded!, resource);
    }

    private static string? At(JsonNode json, params object[] path)
    {
        JsonNode? node = json;
        foreach (var step in path) node = step is int i ? node?[i] : node?[(string)step];
        return node?.ToJsonString(ObjectJson.WriteOptions);
    }

    private static string Sorted(JsonNode? node) => Sort(node)?.ToJsonString(ObjectJson.WriteOptions) ?? "null";

    private static JsonNode? Sort(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => KeyValuePair.Create(p.Key, Sort(p.Value)))),
        JsonArray a => new JsonArray([.. a.Select(Sort)]),
        null => null,
        _ => JsonNode.Parse(node.ToJsonString()),
    };

    private static ProtoWriter Time(long seconds) => new ProtoWriter().Varint(1, seconds);

    private static ProtoWriter Meta(string name) => new ProtoWriter().String(1, name).String(3, "default");

    /// <summary>metav1.Condition: type 1, status 2, observedGeneration 3, lastTransitionTime 4, reason 5, message 6.</summary>
    private static Action<ProtoWriter> Condition(string type, string reason) =>
        c => c.String(1, type).String(2, "True").Varint(3, 7).Message(4, Time(1_714_557_600)).String(5, reason).String(6, "m");

    [Fact]
    public void A_deployment_and_a_replica_set_keep_the_status_their_controllers_write()
    {
        var deployment = Decode(AppsResources.Deployments, new ProtoWriter()
            .Message(1, Meta("web"))
            .Message(2, s => s.Varint(1, 3))
            .Message(3, s => s.Varint(1, 4).Varint(2, 3).Varint(3, 2).Varint(7, 2).Varint(4, 1).Varint(5, 2).Varint(8, 1)
                .Message(6, c => c.String(1, "Available").String(2, "False").Message(6, Time(1_714_557_660)).Message(7, Time(1_714_557_600))
                    .String(4, "MinimumReplicasUnavailable").String(5, "Deployment does not have minimum availability."))));
        Assert.Equal("""{"availableReplicas":1,"collisionCount":1,"observedGeneration":4,"readyReplicas":2,"replicas":3,"unavailableReplicas":2,"updatedReplicas":2}""",
            Sorted(WithoutConditions(deployment["status"])));
        Assert.Equal("""{"lastTransitionTime":"2024-05-01T10:00:00Z","lastUpdateTime":"2024-05-01T10:01:00Z","message":"Deployment does not have minimum availability.","reason":"MinimumReplicasUnavailable","status":"False","type":"Available"}""",
            Sorted(deployment["status"]!["conditions"]![0]));

        var replicaSet = Decode(AppsResources.ReplicaSets, new ProtoWriter()
            .Message(1, Meta("web-6d4"))
            .Message(2, s => s.Varint(1, 3))
            .Message(3, s => s.Varint(1, 3).Varint(2, 3).Varint(4, 2).Varint(5, 1).Varint(3, 6)
                .Message(6, c => c.String(1, "ReplicaFailure").String(2, "True").Message(3, Time(1_714_557_600)).String(4, "FailedCreate").String(5, "quota"))));
        Assert.Equal("""{"availableReplicas":1,"fullyLabeledReplicas":3,"observedGeneration":6,"readyReplicas":2,"replicas":3}""",
            Sorted(WithoutConditions(replicaSet["status"])));
        Assert.Equal("""{"lastTransitionTime":"2024-05-01T10:00:00Z","message":"quota","reason":"FailedCreate","status":"True","type":"ReplicaFailure"}""",
            Sorted(replicaSet["status"]!["conditions"]![0]));
    }

    [Fact]
    public void A_pod_keeps_the_status_the_kubelet_writes()
    {
        var pod = Decode(CoreResources.Pods, new ProtoWriter()
            .Message(1, Meta("web-0"))
            .Message(2, s => s.Message(2, c => c.String(1, "c").String(2, "nginx")))
            .Message(3, s => s
                .String(1, "Running")
                .Message(2, c => c.String(1, "Ready").String(2, "True").Message(3, Time(1_714_557_603)).Message(4, Time(1_714_557_602))
                    .String(5, "r").String(6, "m"))
                .String(3, "msg").String(4, "why").String(11, "node-b")
                .String(5, "172.18.0.2").Message(16, h => h.String(1, "172.18.0.2"))
                .String(6, "10.244.1.5").Message(12, p => p.String(1, "10.244.1.5")).Message(12, p => p.String(1, "fd00::5"))
                .Message(7, Time(1_714_557_600))
                .Message(10, c => c.String(1, "init").Bool(4, true).Varint(5, 1)
                    .Message(2, st => st.Message(3, t => t.Varint(1, 3).Varint(2, 9).String(3, "Error").String(4, "failed")
                        .Message(5, Time(1_714_557_600)).Message(6, Time(1_714_557_601)).String(7, "docker://i0")))
                    .Message(3, st => st.Message(1, w => w.String(1, "CrashLoopBackOff").String(2, "back-off"))))
                .Message(8, c => c.String(1, "c").Bool(4, true).Varint(5, 2).String(6, "nginx:1.27").String(7, "nginx@sha256:2")
                    .String(8, "docker://c1").Bool(9, false)
                    .Message(2, st => st.Message(2, r => r.Message(1, Time(1_714_557_602))))
                    .QuantityEntry(10, "cpu", "250m")
                    .Message(11, r => r.QuantityEntry(1, "cpu", "500m").QuantityEntry(2, "memory", "64Mi"))
                    .Message(12, v => v.String(1, "data").String(2, "/data").Bool(3, true).String(4, "Enabled"))
                    .Message(13, u => u.Message(1, l => l.Varint(1, 1000).Varint(2, 3000).Varint(3, 4000)))
                    .Message(14, a => a.String(1, "claim:gpu").Message(2, h => h.String(1, "gpu-0").String(2, "Healthy"))))
                .String(9, "Burstable")
                .Message(13, c => c.String(1, "debug").Varint(5, 3))
                .String(14, "InProgress")
                .Message(15, r => r.String(1, "gpu").String(2, "web-0-gpu-x1"))));

        var status = pod["status"]!;
        Assert.Equal(("\"Running\"", "\"msg\"", "\"why\"", "\"node-b\"", "\"Burstable\"", "\"InProgress\""),
            (At(status, "phase"), At(status, "message"), At(status, "reason"), At(status, "nominatedNodeName"), At(status, "qosClass"), At(status, "resize")));
        Assert.Equal(("\"172.18.0.2\"", "[{\"ip\":\"172.18.0.2\"}]", "\"10.244.1.5\"", "[{\"ip\":\"10.244.1.5\"},{\"ip\":\"fd00::5\"}]", "\"2024-05-01T10:00:00Z\""),
            (At(status, "hostIP"), At(status, "hostIPs"), At(status, "podIP"), At(status, "podIPs"), At(status, "startTime")));
        Assert.Equal("""{"lastProbeTime":"2024-05-01T10:00:03Z","lastTransitionTime":"2024-05-01T10:00:02Z","message":"m","reason":"r","status":"True","type":"Ready"}""",
            Sorted(status["conditions"]![0]));
        Assert.Equal("""{"containerID":"docker://i0","exitCode":3,"finishedAt":"2024-05-01T10:00:01Z","message":"failed","reason":"Error","signal":9,"startedAt":"2024-05-01T10:00:00Z"}""",
            Sorted(status["initContainerStatuses"]![0]!["state"]!["terminated"]));
        Assert.Equal("\"CrashLoopBackOff\"", At(status, "initContainerStatuses", 0, "lastState", "waiting", "reason"));
        var container = status["containerStatuses"]![0]!;
        Assert.Equal(("\"c\"", "true", "2", "\"nginx:1.27\"", "\"nginx@sha256:2\"", "\"docker://c1\"", "false"),
            (At(container, "name"), At(container, "ready"), At(container, "restartCount"), At(container, "image"), At(container, "imageID"),
                At(container, "containerID"), At(container, "started")));
        Assert.Equal("\"2024-05-01T10:00:02Z\"", At(container, "state", "running", "startedAt"));
        Assert.Equal(("\"250m\"", "\"500m\"", "\"64Mi\""),
            (At(container, "allocatedResources", "cpu"), At(container, "resources", "limits", "cpu"), At(container, "resources", "requests", "memory")));
        Assert.Equal("""{"mountPath":"/data","name":"data","readOnly":true,"recursiveReadOnly":"Enabled"}""", Sorted(container["volumeMounts"]![0]));
        Assert.Equal("""{"gid":3000,"supplementalGroups":[4000],"uid":1000}""", Sorted(container["user"]!["linux"]));
        Assert.Equal("""{"name":"claim:gpu","resources":[{"health":"Healthy","resourceID":"gpu-0"}]}""", Sorted(container["allocatedResourcesStatus"]![0]));
        Assert.Equal(("\"debug\"", "3"), (At(status, "ephemeralContainerStatuses", 0, "name"), At(status, "ephemeralContainerStatuses", 0, "restartCount")));
        Assert.Equal("""{"name":"gpu","resourceClaimName":"web-0-gpu-x1"}""", Sorted(status["resourceClaimStatuses"]![0]));
    }

    [Fact]
    public void A_service_a_namespace_a_replication_controller_and_a_quota_keep_their_status()
    {
        var service = Decode(CoreResources.Services, new ProtoWriter()
            .Message(1, Meta("lb"))
            .Message(2, s => s.String(4, "LoadBalancer"))
            .Message(3, s => s
                .Message(1, lb => lb.Message(1, i => i.String(1, "192.0.2.10").String(2, "lb.example.com").String(3, "Proxy")
                    .Message(4, p => p.Varint(1, 80).String(2, "TCP").String(3, "CreatingLoadBalancerFailed"))))
                .Message(2, Condition("LoadBalancerReady", "Ready"))));
        Assert.Equal("""{"hostname":"lb.example.com","ip":"192.0.2.10","ipMode":"Proxy","ports":[{"error":"CreatingLoadBalancerFailed","port":80,"protocol":"TCP"}]}""",
            Sorted(service["status"]!["loadBalancer"]!["ingress"]![0]));
        Assert.Equal("""{"lastTransitionTime":"2024-05-01T10:00:00Z","message":"m","observedGeneration":7,"reason":"Ready","status":"True","type":"LoadBalancerReady"}""",
            Sorted(service["status"]!["conditions"]![0]));

        var ns = Decode(CoreResources.Namespaces, new ProtoWriter()
            .Message(1, m => m.String(1, "team-a"))
            .Message(3, s => s.String(1, "Terminating")
                .Message(2, c => c.String(1, "NamespaceDeletionContentFailure").String(2, "True").Message(4, Time(1_714_557_600)).String(5, "Failed").String(6, "m"))));
        Assert.Equal("""{"conditions":[{"lastTransitionTime":"2024-05-01T10:00:00Z","message":"m","reason":"Failed","status":"True","type":"NamespaceDeletionContentFailure"}],"phase":"Terminating"}""",
            Sorted(ns["status"]));

        var rc = Decode(CoreResources.ReplicationControllers, new ProtoWriter()
            .Message(1, Meta("rc"))
            .Message(2, s => s.Varint(1, 2))
            .Message(3, s => s.Varint(1, 2).Varint(2, 2).Varint(4, 1).Varint(5, 1).Varint(3, 3)
                .Message(6, c => c.String(1, "ReplicaFailure").String(2, "True").Message(3, Time(1_714_557_600)).String(4, "FailedCreate").String(5, "quota"))));
        Assert.Equal("""{"availableReplicas":1,"conditions":[{"lastTransitionTime":"2024-05-01T10:00:00Z","message":"quota","reason":"FailedCreate","status":"True","type":"ReplicaFailure"}],"fullyLabeledReplicas":2,"observedGeneration":3,"readyReplicas":1,"replicas":2}""",
            Sorted(rc["status"]));

        var quota = Decode(QuotaResources.ResourceQuotas, new ProtoWriter()
            .Message(1, Meta("q"))
            .Message(2, s => s.QuantityEntry(1, "pods", "10"))
            .Message(3, s => s.QuantityEntry(1, "pods", "10").QuantityEntry(2, "pods", "3")));
        Assert.Equal("""{"hard":{"pods":"10"},"used":{"pods":"3"}}""", Sorted(quota["status"]));
    }

    [Fact]
    public void A_job_and_a_cron_job_keep_the_status_their_controllers_write()
    {
        var job = Decode(BatchResources.Jobs, new ProtoWriter()
            .Message(1, Meta("pi"))
            .Message(2, s => s.Message(6, t => t.Message(2, p => p.Message(2, c => c.String(1, "c").String(2, "perl")))))
            .Message(3, s => s
                .Message(1, c => c.String(1, "Complete").String(2, "True").Message(3, Time(1_714_557_900)).Message(4, Time(1_714_557_900))
                    .String(5, "CompletionsReached").String(6, "done"))
                .Message(2, Time(1_714_557_600)).Message(3, Time(1_714_557_900))
                .Varint(4, 1).Varint(5, 3).Varint(6, 1).Varint(11, 0).String(7, "0-2").String(10, "4")
                .Message(8, u => u.String(1, "u1").String(2, "u2"))
                .Varint(9, 1)));
        Assert.Equal("""{"active":1,"completedIndexes":"0-2","completionTime":"2024-05-01T10:05:00Z","failed":1,"failedIndexes":"4","ready":1,"startTime":"2024-05-01T10:00:00Z","succeeded":3,"terminating":0,"uncountedTerminatedPods":{"failed":["u2"],"succeeded":["u1"]}}""",
            Sorted(WithoutConditions(job["status"])));
        Assert.Equal("""{"lastProbeTime":"2024-05-01T10:05:00Z","lastTransitionTime":"2024-05-01T10:05:00Z","message":"done","reason":"CompletionsReached","status":"True","type":"Complete"}""",
            Sorted(job["status"]!["conditions"]![0]));

        var cronJob = Decode(BatchResources.CronJobs, new ProtoWriter()
            .Message(1, Meta("hourly"))
            .Message(2, s => s.String(1, "0 * * * *"))
            .Message(3, s => s
                .Message(1, r => r.String(1, "Job").String(2, "default").String(3, "hourly-1").String(4, "j1").String(5, "batch/v1").String(6, "9"))
                .Message(4, Time(1_714_557_600)).Message(5, Time(1_714_554_030))));
        Assert.Equal("""{"active":[{"apiVersion":"batch/v1","kind":"Job","name":"hourly-1","namespace":"default","resourceVersion":"9","uid":"j1"}],"lastScheduleTime":"2024-05-01T10:00:00Z","lastSuccessfulTime":"2024-05-01T09:00:30Z"}""",
            Sorted(cronJob["status"]));
    }

    [Fact]
    public void An_autoscaler_an_ingress_and_a_disruption_budget_keep_their_status()
    {
        var hpa = Decode(AutoscalingResources.HorizontalPodAutoscalersV1, new ProtoWriter()
            .Message(1, Meta("web"))
            .Message(2, s => s.Message(1, r => r.String(1, "Deployment").String(2, "web").String(3, "apps/v1")).Varint(3, 5))
            .Message(3, s => s.Varint(1, 2).Message(2, Time(1_714_557_600)).Varint(3, 2).Varint(4, 3).Varint(5, 0)));
        Assert.Equal("""{"currentCPUUtilizationPercentage":0,"currentReplicas":2,"desiredReplicas":3,"lastScaleTime":"2024-05-01T10:00:00Z","observedGeneration":2}""",
            Sorted(hpa["status"]));

        var ingress = Decode(NetworkingResources.Ingresses, new ProtoWriter()
            .Message(1, Meta("web"))
            .Message(3, s => s.Message(1, lb => lb.Message(1, i => i.String(1, "192.0.2.20").String(2, "web.example.com")
                .Message(4, p => p.Varint(1, 443).String(2, "TCP").String(3, "Pending"))))));
        Assert.Equal("""{"loadBalancer":{"ingress":[{"hostname":"web.example.com","ip":"192.0.2.20","ports":[{"error":"Pending","port":443,"protocol":"TCP"}]}]}}""",
            Sorted(ingress["status"]));

        var pdb = Decode(PolicyResources.PodDisruptionBudgets, new ProtoWriter()
            .Message(1, Meta("web"))
            .Message(2, s => s.Int(1, 2))
            .Message(3, s => s.Varint(1, 5)
                .Message(2, e => e.String(1, "web-1").Message(2, Time(1_714_557_600)))
                .Varint(3, 1).Varint(4, 3).Varint(5, 2).Varint(6, 3)
                .Message(7, Condition("DisruptionAllowed", "SufficientPods"))));
        Assert.Equal("""{"conditions":[{"lastTransitionTime":"2024-05-01T10:00:00Z","message":"m","observedGeneration":7,"reason":"SufficientPods","status":"True","type":"DisruptionAllowed"}],"currentHealthy":3,"desiredHealthy":2,"disruptedPods":{"web-1":"2024-05-01T10:00:00Z"},"disruptionsAllowed":1,"expectedPods":3,"observedGeneration":5}""",
            Sorted(pdb["status"]));
    }

    /// <summary>1.32 does not know the pod fields Kubernetes added later (PodSpec's hostnameOverride 41,
    /// schedulingGroup 43, evictionResponders 44; a container's restartPolicyRules 25, its lifecycle's stopSignal 3, a
    /// volume mount's 8, an env var's fileKeyRef 5, a projected volume's podCertificate 6): its decoder skips their
    /// numbers as unknown fields, and so does ours.</summary>
    [Fact]
    public void Pod_fields_newer_than_1_32_are_skipped_as_unknown_fields()
    {
        var pod = ProtobufJson.ToJson(ProtobufBodyDecoder.MessageOf(CoreResources.Pods)!.Parser.ParseFrom(new ProtoWriter()
            .Message(1, Meta("p"))
            .Message(2, s => s
                .Message(2, c => c.String(1, "c").String(2, "nginx")
                    .Message(25, r => r.String(1, "RestartAllContainers"))
                    .Message(12, l => l.String(3, "SIGUSR1"))
                    .Message(9, m => m.String(1, "data").String(3, "/data").String(8, "rbind"))
                    .Message(7, e => e.String(1, "A").Message(3, v => v.Message(5, f => f.String(1, "v").String(2, "p").String(3, "A")))))
                .Message(1, v => v.String(1, "data").Message(2, s => s.Message(26, p => p.Message(1, x => x.Message(6, c => c.String(1, "signer"))))))
                .String(41, "host-override")
                .Message(43, g => g.String(1, "group"))
                .Message(44, r => r.String(1, "responder")))
            .ToArray()));

        Assert.Equal("""{"containers":[{"env":[{"name":"A","valueFrom":{}}],"image":"nginx","lifecycle":{},"name":"c","volumeMounts":[{"mountPath":"/data","name":"data"}]}],"volumes":[{"name":"data","projected":{"sources":[{}]}}]}""",
            Sorted(pod["spec"]));
    }

    /// <summary>DeleteOptions' ignoreStoreReadErrorWithClusterBreakingPotential (field 6, 1.32) is read, not skipped.</summary>
    [Fact]
    public void Delete_options_carry_field_6()
    {
        var body = ProtoWriter.Envelope("v1", "DeleteOptions", new ProtoWriter().Varint(1, 0).Bool(6, true));
        Assert.True(ProtobufBodyDecoder.TryDecodeBody(body, "DeleteOptions", "v1", anyApiVersion: true, out var json, out var error), error);
        Assert.Equal(("0", "true"), (At(json!, "gracePeriodSeconds"), At(json!, "ignoreStoreReadErrorWithClusterBreakingPotential")));
    }

    /// <summary>A SelfSubjectAccessReview's resourceAttributes carry 1.32's fieldSelector (8) and labelSelector (9).</summary>
    [Fact]
    public void An_access_review_carries_field_and_label_selectors()
    {
        var review = Decode(AuthorizationResources.SelfSubjectAccessReviews, new ProtoWriter()
            .Message(1, new ProtoWriter())
            .Message(2, s => s.Message(1, r => r.String(2, "list").String(5, "pods").String(1, "default")
                .Message(8, f => f.String(1, "spec.nodeName=node-a").Message(2, q => q.String(1, "spec.nodeName").String(2, "In").String(3, "node-a")))
                .Message(9, l => l.String(1, "app=web").Message(2, q => q.String(1, "app").String(2, "In").String(3, "web"))))));
        Assert.Equal("""{"rawSelector":"spec.nodeName=node-a","requirements":[{"key":"spec.nodeName","operator":"In","values":["node-a"]}]}""",
            Sorted(review["spec"]!["resourceAttributes"]!["fieldSelector"]));
        Assert.Equal("""{"rawSelector":"app=web","requirements":[{"key":"app","operator":"In","values":["web"]}]}""",
            Sorted(review["spec"]!["resourceAttributes"]!["labelSelector"]));
    }

    /// <summary>TokenReview (status 3) and SelfSubjectReview (status 2) declare their status as 1.32 does: the API
    /// server fills it in, but a body carrying one decodes as in Kubernetes (extra values are lists).</summary>
    [Fact]
    public void Token_and_self_subject_reviews_declare_their_status()
    {
        var review = Decode(AuthenticationResources.TokenReviews, new ProtoWriter()
            .Message(1, new ProtoWriter())
            .Message(2, s => s.String(1, "t0k3n"))
            .Message(3, s => s.Bool(1, true).String(3, "none").String(4, "api")
                .Message(2, u => u.String(1, "alice").String(2, "u1").String(3, "devs")
                    .Message(4, e => e.String(1, "scopes").Message(2, v => v.String(1, "a").String(1, "b"))))));
        Assert.Equal("""{"audiences":["api"],"authenticated":true,"error":"none","user":{"extra":{"scopes":["a","b"]},"groups":["devs"],"uid":"u1","username":"alice"}}""",
            Sorted(review["status"]));

        var self = Decode(AuthenticationResources.SelfSubjectReviews, new ProtoWriter()
            .Message(1, new ProtoWriter())
            .Message(2, s => s.Message(1, u => u.String(1, "bob"))));
        Assert.Equal("\"bob\"", At(self, "status", "userInfo", "username"));
    }

    private static JsonNode? WithoutConditions(JsonNode? status)
    {
        var copy = status!.DeepClone().AsObject();
        copy.Remove("conditions");
        return copy;
    }
}
