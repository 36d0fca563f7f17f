using Orchestrator.Master.Api.Protobuf;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.CustomResources;
using Orchestrator.Master.Registry.Kinds.Apps;
using Orchestrator.Master.Registry.Kinds.Autoscaling;
using Orchestrator.Master.Registry.Kinds.Batch;
using Orchestrator.Master.Registry.Kinds.Core;
using Orchestrator.Master.Registry.Kinds.Networking;
using Orchestrator.Master.Registry.Kinds.Policy;
using Orchestrator.Master.Tests.Registry;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Protobuf;

/// <summary>
/// JSON → protobuf → JSON for the status of the kinds whose controllers write it through /status in protobuf
/// (client-go's UpdateStatus with the protobuf content type, as kube's controllers and e2e framework send it):
/// Deployment, ReplicaSet, Pod, Service, Namespace, ReplicationController, ResourceQuota, Job, CronJob, autoscaling/v1
/// HorizontalPodAutoscaler, Ingress and PodDisruptionBudget. Each status carries every field its 1.32 type has, so the
/// encoder (ProtobufEncoder, which fails on a field the message lacks) shows the message leaves none out; the
/// field numbers are checked against Kubernetes' by StatusKindsDecodingTests. As in ClusterKindsRoundTripTests, Go
/// value fields are given non-zero values (omitempty leaves zeros out).
/// </summary>
public class StatusKindsRoundTripTests
{
    public static TheoryData<string> Kinds => [.. Objects.Keys];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void A_complete_status_comes_back_as_the_same_json(string name)
    {
        var (resource, text) = Objects[name];
        ProtobufRoundTrip.ComesBackAsTheSameJson(resource, text);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void A_protobuf_body_decodes_to_the_object_its_json_body_is(string name)
    {
        var (resource, text) = Objects[name];
        Assert.NotNull(ProtobufRoundTrip.DecodesAsItsJsonBody(resource, text)["status"]);
    }

    /// <summary>Every built-in kind that serves /status (a CSR's /approval too) takes a status write in protobuf: its
    /// message declares the status.</summary>
    [Fact]
    public void Every_built_in_kind_with_a_status_subresource_takes_its_status_in_protobuf()
    {
        var refused = BuiltIn.All.Concat(CustomResourceDefinitionResources.All)
            .SelectMany(r => new[] { "status", "approval" }.Where(s => r.Subresource(s) is not null).Select(s => (r, s)))
            .Where(p => !ProtobufBodyDecoder.Supports(p.r, p.s))
            .Select(p => $"{p.r}/{p.s}");
        Assert.Empty(refused);
    }


    private const string Template = """
        {"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"nginx:1.27"}]}}
        """;

    internal static readonly Dictionary<string, (ResourceDescription Resource, string Json)> Objects = new()
    {
        ["deployment"] = (AppsResources.Deployments, $$$"""
            {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"default","generation":4},
             "spec":{"replicas":3,"selector":{"matchLabels":{"app":"web"}},"template":{{{Template}}}},
             "status":{"observedGeneration":4,"replicas":3,"updatedReplicas":2,"readyReplicas":2,"availableReplicas":2,
               "unavailableReplicas":1,"collisionCount":0,
               "conditions":[{"type":"Progressing","status":"True","lastUpdateTime":"2024-05-01T10:01:00Z",
                 "lastTransitionTime":"2024-05-01T10:00:00Z","reason":"NewReplicaSetAvailable","message":"ReplicaSet \"web-6d4\" has successfully progressed."}]}}
            """),
        ["replicaset"] = (AppsResources.ReplicaSets, $$$"""
            {"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"web-6d4","namespace":"default","generation":2},
             "spec":{"replicas":3,"selector":{"matchLabels":{"app":"web"}},"template":{{{Template}}}},
             "status":{"replicas":3,"fullyLabeledReplicas":3,"readyReplicas":2,"availableReplicas":1,"observedGeneration":2,
               "conditions":[{"type":"ReplicaFailure","status":"True","lastTransitionTime":"2024-05-01T10:00:00Z",
                 "reason":"FailedCreate","message":"pods \"web-6d4-x\" is forbidden: exceeded quota"}]}}
            """),
        ["pod"] = (CoreResources.Pods, """
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"web-0","namespace":"default"},
             "spec":{"nodeName":"node-a","containers":[{"name":"c","image":"nginx:1.27"}]},
             "status":{"phase":"Running","message":"running","reason":"Started","nominatedNodeName":"node-b",
               "hostIP":"172.18.0.2","hostIPs":[{"ip":"172.18.0.2"},{"ip":"fc00::2"}],
               "podIP":"10.244.1.5","podIPs":[{"ip":"10.244.1.5"},{"ip":"fd00::5"}],
               "startTime":"2024-05-01T10:00:00Z","qosClass":"Burstable","resize":"InProgress",
               "conditions":[{"type":"Ready","status":"True","lastProbeTime":"2024-05-01T10:00:03Z",
                 "lastTransitionTime":"2024-05-01T10:00:02Z","reason":"PodCompleted","message":"ready"}],
               "initContainerStatuses":[{"name":"init","ready":true,"restartCount":1,"image":"busybox:1.36",
                 "imageID":"docker-pullable://busybox@sha256:1","containerID":"docker://i1",
                 "state":{"terminated":{"exitCode":3,"signal":9,"reason":"Error","message":"failed","startedAt":"2024-05-01T10:00:00Z",
                   "finishedAt":"2024-05-01T10:00:01Z","containerID":"docker://i0"}},
                 "lastState":{"waiting":{"reason":"CrashLoopBackOff","message":"back-off 10s"}}}],
               "containerStatuses":[{"name":"c","ready":true,"restartCount":2,"image":"nginx:1.27","imageID":"docker-pullable://nginx@sha256:2",
                 "containerID":"docker://c1","started":false,
                 "state":{"running":{"startedAt":"2024-05-01T10:00:02Z"}},
                 "allocatedResources":{"cpu":"250m","memory":"64Mi"},
                 "resources":{"limits":{"cpu":"500m"},"requests":{"cpu":"250m","memory":"64Mi"},"claims":[{"name":"gpu","request":"r"}]},
                 "volumeMounts":[{"name":"data","mountPath":"/data","readOnly":true,"recursiveReadOnly":"Enabled"}],
                 "user":{"linux":{"uid":1000,"gid":3000,"supplementalGroups":[4000,5000]}},
                 "allocatedResourcesStatus":[{"name":"claim:gpu","resources":[{"resourceID":"gpu-0","health":"Healthy"}]}]}],
               "ephemeralContainerStatuses":[{"name":"debug","ready":true,"restartCount":3,"image":"busybox:1.36","imageID":"i","state":{}}],
               "resourceClaimStatuses":[{"name":"gpu","resourceClaimName":"web-0-gpu-x1"}]}}
            """),
        ["service"] = (CoreResources.Services, """
            {"apiVersion":"v1","kind":"Service","metadata":{"name":"lb","namespace":"default"},
             "spec":{"type":"LoadBalancer","selector":{"app":"web"},"ports":[{"port":80,"protocol":"TCP"}]},
             "status":{"loadBalancer":{"ingress":[{"ip":"192.0.2.10","hostname":"lb.example.com","ipMode":"Proxy",
                 "ports":[{"port":80,"protocol":"TCP","error":"CreatingLoadBalancerFailed"}]}]},
               "conditions":[{"type":"LoadBalancerReady","status":"True","observedGeneration":1,
                 "lastTransitionTime":"2024-05-01T10:00:00Z","reason":"Ready","message":"provisioned"}]}}
            """),
        ["namespace"] = (CoreResources.Namespaces, """
            {"apiVersion":"v1","kind":"Namespace","metadata":{"name":"team-a"},"spec":{"finalizers":["kubernetes"]},
             "status":{"phase":"Terminating","conditions":[{"type":"NamespaceDeletionContentFailure","status":"True",
               "lastTransitionTime":"2024-05-01T10:00:00Z","reason":"ContentDeletionFailed","message":"failed to delete"}]}}
            """),
        ["replicationcontroller"] = (CoreResources.ReplicationControllers, $$$"""
            {"apiVersion":"v1","kind":"ReplicationController","metadata":{"name":"rc","namespace":"default"},
             "spec":{"replicas":2,"selector":{"app":"web"},"template":{{{Template}}}},
             "status":{"replicas":2,"fullyLabeledReplicas":2,"readyReplicas":1,"availableReplicas":1,"observedGeneration":3,
               "conditions":[{"type":"ReplicaFailure","status":"True","lastTransitionTime":"2024-05-01T10:00:00Z",
                 "reason":"FailedCreate","message":"quota"}]}}
            """),
        ["resourcequota"] = (QuotaResources.ResourceQuotas, """
            {"apiVersion":"v1","kind":"ResourceQuota","metadata":{"name":"q","namespace":"default"},
             "spec":{"hard":{"pods":"10","requests.cpu":"4"}},
             "status":{"hard":{"pods":"10","requests.cpu":"4"},"used":{"pods":"3","requests.cpu":"750m"}}}
            """),
        ["job"] = (BatchResources.Jobs, """
            {"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"pi","namespace":"default"},
             "spec":{"completions":5,"completionMode":"Indexed","template":{"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"perl"}]}}},
             "status":{"startTime":"2024-05-01T10:00:00Z","completionTime":"2024-05-01T10:05:00Z","active":1,"succeeded":3,
               "failed":1,"terminating":0,"completedIndexes":"0-2","failedIndexes":"4","ready":1,
               "uncountedTerminatedPods":{"succeeded":["u1"],"failed":["u2"]},
               "conditions":[{"type":"Complete","status":"True","lastProbeTime":"2024-05-01T10:05:00Z",
                 "lastTransitionTime":"2024-05-01T10:05:00Z","reason":"CompletionsReached","message":"Reached expected number of succeeded pods"}]}}
            """),
        ["cronjob"] = (BatchResources.CronJobs, """
            {"apiVersion":"batch/v1","kind":"CronJob","metadata":{"name":"hourly","namespace":"default"},
             "spec":{"schedule":"0 * * * *","jobTemplate":{"spec":{"template":{"spec":{"restartPolicy":"OnFailure","containers":[{"name":"c","image":"busybox"}]}}}}},
             "status":{"active":[{"kind":"Job","namespace":"default","name":"hourly-28600000","uid":"j1","apiVersion":"batch/v1","resourceVersion":"9"}],
               "lastScheduleTime":"2024-05-01T10:00:00Z","lastSuccessfulTime":"2024-05-01T09:00:30Z"}}
            """),
        ["horizontalpodautoscaler.v1"] = (AutoscalingResources.HorizontalPodAutoscalersV1, """
            {"apiVersion":"autoscaling/v1","kind":"HorizontalPodAutoscaler","metadata":{"name":"web","namespace":"default"},
             "spec":{"scaleTargetRef":{"kind":"Deployment","name":"web","apiVersion":"apps/v1"},"minReplicas":1,"maxReplicas":5,
               "targetCPUUtilizationPercentage":60},
             "status":{"observedGeneration":0,"lastScaleTime":"2024-05-01T10:00:00Z","currentReplicas":2,"desiredReplicas":3,
               "currentCPUUtilizationPercentage":0}}
            """),
        ["ingress"] = (NetworkingResources.Ingresses, """
            {"apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":{"name":"web","namespace":"default"},
             "spec":{"defaultBackend":{"service":{"name":"web","port":{"number":80}}}},
             "status":{"loadBalancer":{"ingress":[{"ip":"192.0.2.20","hostname":"web.example.com",
               "ports":[{"port":443,"protocol":"TCP","error":"Pending"}]}]}}}
            """),
        ["poddisruptionbudget"] = (PolicyResources.PodDisruptionBudgets, """
            {"apiVersion":"policy/v1","kind":"PodDisruptionBudget","metadata":{"name":"web","namespace":"default"},
             "spec":{"minAvailable":2,"selector":{"matchLabels":{"app":"web"}}},
             "status":{"observedGeneration":5,"disruptedPods":{"web-1":"2024-05-01T10:00:00Z"},"disruptionsAllowed":1,
               "currentHealthy":3,"desiredHealthy":2,"expectedPods":3,
               "conditions":[{"type":"DisruptionAllowed","status":"True","observedGeneration":5,
                 "lastTransitionTime":"2024-05-01T10:00:00Z","reason":"SufficientPods","message":"enough"}]}}
            """),
    };
}
