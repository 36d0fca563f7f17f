using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Kinds.Apps;
using Orchestrator.Master.Registry.Kinds.Batch;
using Orchestrator.Master.Registry.Kinds.Core;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;
using Xunit;

namespace Orchestrator.Master.Tests.Registry.Kinds;

/// <summary>What kube-apiserver 1.32 (default feature gates) stores of a pod spec, in pods and in every pod template:
/// the fields of features off by default dropped (dropDisabledFields), the serviceAccount alias, a hostPath's type, and
/// on a new pod the AppArmor annotations synced with the fields (applyAppArmorVersionSkew).</summary>
public sealed class DisabledPodFieldsTests
{
    /// <summary>A pod spec with a field of every feature off in 1.32 (and procMount Unmasked, ProcMountType's).</summary>
    private const string GatedSpec = """
        {"hostUsers":false,"resources":{"limits":{"cpu":"1"}},"resourceClaims":[{"name":"gpu","resourceClaimName":"gpu"}],
         "securityContext":{"supplementalGroupsPolicy":"Strict","seLinuxChangePolicy":"MountOption"},
         "volumes":[{"name":"data","emptyDir":{}},{"name":"img","image":{"reference":"busybox"}},
                    {"name":"ca","projected":{"sources":[{"clusterTrustBundle":{"name":"b","path":"ca.pem"}}]}}],
         "containers":[{"name":"c","image":"busybox","resources":{"claims":[{"name":"gpu"}]},
                        "resizePolicy":[{"resourceName":"cpu","restartPolicy":"NotRequired"}],
                        "securityContext":{"procMount":"Unmasked"},
                        "volumeMounts":[{"name":"data","mountPath":"/d"},{"name":"img","mountPath":"/i"}]}]}
        """;

    private static readonly string[] GatedFields =
        ["hostUsers", "resourceClaims", "supplementalGroupsPolicy", "seLinuxChangePolicy", "\"image\":{", "clusterTrustBundle", "claims", "resizePolicy", "Unmasked", "\"cpu\":\"1\""];

    /// <summary>Through KubeObjects, whose module sets up KubernetesJson's options before their first use.</summary>
    private static T Read<T>(string json) => (T)KubeObjects.Deserialize(json, typeof(T));

    private static V1Pod Pod(string spec) => Read<V1Pod>(
        $$$"""{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"default"},"spec":{{{spec}}}}""");

    private static List<StoreErrorCause> Update(ResourceDescription resource, IKubernetesObject<V1ObjectMeta> next, IKubernetesObject<V1ObjectMeta> old)
    {
        resource.Strategy.PrepareForUpdate(next, old);
        return resource.Strategy.Admit(next, old, new FakeContext()).ToList();
    }

    [Fact]
    public void A_new_pod_keeps_none_of_the_fields_of_features_off_in_1_32_and_is_not_refused_for_them()
    {
        var pod = Pod(GatedSpec);
        Assert.Empty(Strategies.Admit(CoreResources.Pods, pod));
        var json = KubeObjects.Serialize(pod.Spec);
        foreach (var field in GatedFields) Assert.DoesNotContain(field, json);
        Assert.Equal("Default", pod.Spec.Containers[0].SecurityContext.ProcMount);
        // the image volume goes with its mount; the projection keeps an empty source, as Kubernetes' does
        Assert.Equal(["data", "ca"], pod.Spec.Volumes.Select(v => v.Name));
        Assert.Equal(["data"], pod.Spec.Containers[0].VolumeMounts.Select(m => m.Name));
        Assert.Null(Assert.Single(pod.Spec.Volumes[1].Projected.Sources).ClusterTrustBundle);
    }

    [Fact]
    public void An_update_keeps_what_the_stored_pod_already_uses()
    {
        var resize = """{"containers":[{"name":"c","image":"busybox","resizePolicy":[{"resourceName":"cpu","restartPolicy":"NotRequired"}]}]}""";
        var stored = Pod(resize); // as stored before this API server dropped the field
        CoreResources.Pods.Strategy.Admit(stored, null, new FakeContext());
        var next = Pod(resize);
        Assert.Empty(Update(CoreResources.Pods, next, stored));
        Assert.Single(next.Spec.Containers[0].ResizePolicy);

        var plain = Pod("""{"containers":[{"name":"c","image":"busybox"}]}""");
        Assert.Empty(Strategies.Admit(CoreResources.Pods, plain));
        var added = Read<V1Pod>(KubeObjects.Serialize(plain));
        added.Spec.Containers[0].ResizePolicy = [new V1ContainerResizePolicy { ResourceName = "cpu", RestartPolicy = "NotRequired" }];
        Assert.Empty(Update(CoreResources.Pods, added, plain)); // not refused as a change of the spec: dropped first
        Assert.Null(added.Spec.Containers[0].ResizePolicy);
    }

    [Fact]
    public void A_field_kept_because_the_stored_object_used_it_is_still_refused_where_the_nodes_cannot_honour_it()
    {
        var (resource, stored) = Workload("Deployment", """{"hostUsers":true,"containers":[{"name":"c","image":"busybox"}]}""");
        Assert.Empty(resource.Strategy.Admit(stored, null, new FakeContext())); // as stored before the field was dropped
        var next = WithTemplateSpec(stored, """{"hostUsers":false,"containers":[{"name":"c","image":"busybox"}]}""");
        var cause = Assert.Single(Update(resource, next, stored));
        Assert.Equal(("spec.template.spec.hostUsers", "FieldValueForbidden"), (cause.Field, cause.Reason));
    }

    public static TheoryData<string> Templates => ["Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob", "ReplicationController", "PodTemplate"];

    private static (ResourceDescription Resource, IKubernetesObject<V1ObjectMeta> Object) Workload(string kind, string spec)
    {
        var template = $$$"""{"metadata":{"labels":{"app":"a"}},"spec":{{{spec}}}}""";
        var selector = """{"matchLabels":{"app":"a"}}""";
        var jobTemplate = template.Replace("\"containers\"", "\"restartPolicy\":\"Never\",\"containers\"");
        var (resource, apiVersion, body) = kind switch
        {
            "Deployment" => (AppsResources.Deployments, "apps/v1", $$$"""{"selector":{{{selector}}},"template":{{{template}}}}"""),
            "ReplicaSet" => (AppsResources.ReplicaSets, "apps/v1", $$$"""{"selector":{{{selector}}},"template":{{{template}}}}"""),
            "StatefulSet" => (AppsResources.StatefulSets, "apps/v1", $$$"""{"selector":{{{selector}}},"serviceName":"s","template":{{{template}}}}"""),
            "DaemonSet" => (AppsResources.DaemonSets, "apps/v1", $$$"""{"selector":{{{selector}}},"template":{{{template}}}}"""),
            "Job" => (BatchResources.Jobs, "batch/v1", "{\"template\":" + jobTemplate + "}"),
            "CronJob" => (BatchResources.CronJobs, "batch/v1", "{\"schedule\":\"* * * * *\",\"jobTemplate\":{\"spec\":{\"template\":" + jobTemplate + "}}}"),
            "ReplicationController" => (CoreResources.ReplicationControllers, "v1", $$$"""{"selector":{"app":"a"},"template":{{{template}}}}"""),
            _ => (PersistentVolumeResources.PodTemplates, "v1", ""),
        };
        var json = kind == "PodTemplate"
            ? $$$"""{"apiVersion":"v1","kind":"PodTemplate","metadata":{"name":"w","namespace":"default"},"template":{{{template}}}}"""
            : $$$"""{"apiVersion":"{{{apiVersion}}}","kind":"{{{kind}}}","metadata":{"name":"w","namespace":"default"},"spec":{{{body}}}}""";
        var obj = (IKubernetesObject<V1ObjectMeta>)KubeObjects.Deserialize(json, resource.ObjectType);
        obj.Metadata.Uid = "7f1c6a52-3c1e-4b8e-9a53-0c2b1f9d4e11"; // the store sets it before admission
        return (resource, obj);
    }

    private static JsonNode Template(JsonNode json, IKubernetesObject<V1ObjectMeta> obj) =>
        (obj is V1PodTemplate ? json["template"] : obj is V1CronJob ? json["spec"]!["jobTemplate"]!["spec"]!["template"] : json["spec"]!["template"])!;

    private static JsonNode TemplateSpec(IKubernetesObject<V1ObjectMeta> obj) => Template(JsonNode.Parse(KubeObjects.Serialize(obj))!, obj)["spec"]!;

    /// <summary>A copy of the stored object whose template's spec is <paramref name="spec"/> (kept restartPolicy).</summary>
    private static IKubernetesObject<V1ObjectMeta> WithTemplateSpec(IKubernetesObject<V1ObjectMeta> stored, string spec)
    {
        var json = JsonNode.Parse(KubeObjects.Serialize(stored))!;
        var template = Template(json, stored);
        var replaced = JsonNode.Parse(spec)!;
        replaced["restartPolicy"] = template["spec"]!["restartPolicy"]!.DeepClone();
        template["spec"] = replaced;
        var copy = (IKubernetesObject<V1ObjectMeta>)KubeObjects.Deserialize(json.ToJsonString(), stored.GetType());
        copy.Metadata.ResourceVersion = "1";
        return copy;
    }

    [Theory]
    [MemberData(nameof(Templates))]
    public void Every_pod_template_drops_them_on_create_and_on_update(string kind)
    {
        var (resource, created) = Workload(kind, GatedSpec);
        Assert.Empty(Strategies.Admit(resource, created));
        var spec = TemplateSpec(created).ToJsonString();
        foreach (var field in GatedFields) Assert.DoesNotContain(field, spec);

        var updated = WithTemplateSpec(created, GatedSpec);
        Assert.Empty(Update(resource, updated, created));
        spec = TemplateSpec(updated).ToJsonString();
        foreach (var field in GatedFields) Assert.DoesNotContain(field, spec);
    }

    [Theory]
    [MemberData(nameof(Templates))]
    public void Templates_alias_serviceAccount_and_default_a_hostPath_type(string kind)
    {
        var (resource, obj) = Workload(kind,
            """{"serviceAccount":"builder","volumes":[{"name":"h","hostPath":{"path":"/tmp"}}],"containers":[{"name":"c","image":"busybox"}]}""");
        Assert.Empty(Strategies.Admit(resource, obj));
        var spec = TemplateSpec(obj);
        Assert.Equal(("builder", "builder", ""), ((string?)spec["serviceAccountName"], (string?)spec["serviceAccount"], (string?)spec["volumes"]![0]!["hostPath"]!["type"]));
    }

    [Theory]
    [InlineData(null, "app", "app")]
    [InlineData("old", null, "old")]
    [InlineData("old", "new", "new")] // serviceAccountName wins
    public void A_pods_serviceAccount_is_an_alias_of_serviceAccountName(string? deprecated, string? name, string expected)
    {
        var pod = Pod("""{"containers":[{"name":"c","image":"busybox"}]}""");
        (pod.Spec.ServiceAccount, pod.Spec.ServiceAccountName) = (deprecated, name);
        Assert.Empty(Strategies.Admit(CoreResources.Pods, pod));
        Assert.Equal((expected, expected), (pod.Spec.ServiceAccountName, pod.Spec.ServiceAccount));
    }

    [Fact]
    public void A_pod_stored_without_the_new_defaults_may_still_change_its_image()
    {
        var stored = Pod("""{"serviceAccountName":"app","volumes":[{"name":"h","hostPath":{"path":"/tmp"}}],"containers":[{"name":"c","image":"a"}]}""");
        Assert.Empty(Strategies.Admit(CoreResources.Pods, stored));
        (stored.Spec.ServiceAccount, stored.Spec.Volumes[0].HostPath.Type) = (null, null); // as stored before them
        var next = Read<V1Pod>(KubeObjects.Serialize(stored));
        next.Spec.Containers[0].Image = "b";
        Assert.Empty(Update(CoreResources.Pods, next, stored));
    }

    private const string Key = "container.apparmor.security.beta.kubernetes.io/";

    [Fact]
    public void A_new_pods_AppArmor_annotation_becomes_its_containers_profile()
    {
        var pod = Pod("""{"initContainers":[{"name":"init","image":"busybox"}],"containers":[{"name":"c","image":"busybox"},{"name":"d","image":"busybox"}]}""");
        pod.Metadata.Annotations = new Dictionary<string, string> { [Key + "init"] = "runtime/default", [Key + "c"] = "localhost/k8s-apparmor-example", [Key + "d"] = "localhost/" };
        Assert.Empty(Strategies.Admit(CoreResources.Pods, pod));
        Assert.Equal("RuntimeDefault", pod.Spec.InitContainers[0].SecurityContext.AppArmorProfile.Type);
        Assert.Equal(("Localhost", "k8s-apparmor-example"),
            (pod.Spec.Containers[0].SecurityContext.AppArmorProfile.Type, pod.Spec.Containers[0].SecurityContext.AppArmorProfile.LocalhostProfile));
        Assert.Null(pod.Spec.Containers[1].SecurityContext); // an invalid annotation is not copied
    }

    [Fact]
    public void A_new_pods_AppArmor_profiles_become_annotations_and_an_annotation_like_the_pods_profile_is_not_copied()
    {
        var pod = Pod("""
            {"securityContext":{"appArmorProfile":{"type":"RuntimeDefault"}},
             "containers":[{"name":"c","image":"busybox","securityContext":{"appArmorProfile":{"type":"Unconfined"}}},
                           {"name":"d","image":"busybox"},{"name":"e","image":"busybox"}]}
            """);
        pod.Metadata.Annotations = new Dictionary<string, string> { [Key + "e"] = "runtime/default" };
        Assert.Empty(Strategies.Admit(CoreResources.Pods, pod));
        Assert.Equal("unconfined", pod.Metadata.Annotations[Key + "c"]);
        Assert.Equal("runtime/default", pod.Metadata.Annotations[Key + "d"]);
        Assert.Null(pod.Spec.Containers[1].SecurityContext);
        Assert.Null(pod.Spec.Containers[2].SecurityContext); // the pod-level profile already says so
    }

    [Fact]
    public void Templates_and_updates_leave_the_AppArmor_annotation_alone()
    {
        var (resource, deployment) = Workload("Deployment", """{"containers":[{"name":"c","image":"busybox"}]}""");
        var template = ((V1Deployment)deployment).Spec.Template;
        template.Metadata.Annotations = new Dictionary<string, string> { [Key + "c"] = "unconfined" };
        Assert.Empty(Strategies.Admit(resource, deployment));
        Assert.Null(template.Spec.Containers[0].SecurityContext);

        var stored = Pod("""{"containers":[{"name":"c","image":"a"}]}""");
        Assert.Empty(Strategies.Admit(CoreResources.Pods, stored));
        var next = Read<V1Pod>(KubeObjects.Serialize(stored));
        next.Metadata.Annotations = new Dictionary<string, string> { [Key + "c"] = "unconfined" };
        Assert.Empty(Update(CoreResources.Pods, next, stored));
        Assert.Null(next.Spec.Containers[0].SecurityContext);
    }
}
