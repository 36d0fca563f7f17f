using System.Text.Json;
using System.Text.Json.Nodes;
using k8s.Models;
using Orchestrator.Master.Controllers.Revisions;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Controllers.StatefulSets;

/// <summary>
/// The pure rules of Kubernetes' StatefulSet controller (stateful_set_utils.go): a pod's ordinal from its name
/// <c>&lt;set&gt;-&lt;ordinal&gt;</c>, the pod for an ordinal (stable name and hostname, the governing Service as subdomain, the
/// <c>statefulset.kubernetes.io/pod-name</c>, <c>apps.kubernetes.io/pod-index</c> and <c>controller-revision-hash</c>
/// labels), and a revision's pod template.
/// </summary>
internal static class StatefulPods
{
    public const string PodNameLabel = "statefulset.kubernetes.io/pod-name";
    public const string PodIndexLabel = "apps.kubernetes.io/pod-index";

    /// <summary>The ordinal of a pod of <paramref name="set"/>, or -1 when its name is not one of the set's.</summary>
    public static int Ordinal(V1StatefulSet set, V1Pod pod)
    {
        var prefix = set.Metadata.Name + "-";
        var name = pod.Metadata.Name;
        return name.StartsWith(prefix, StringComparison.Ordinal) && int.TryParse(name[prefix.Length..], out var ordinal) && ordinal >= 0
               && ordinal.ToString() == name[prefix.Length..]
            ? ordinal
            : -1;
    }

    public static int Start(V1StatefulSet set) => set.Spec.Ordinals?.Start ?? 0;

    public static string? RevisionOf(V1Pod pod) =>
        pod.Metadata.Labels is { } l && l.TryGetValue(ControllerRevisions.HashLabel, out var hash) ? hash : null;

    /// <summary>Running and Ready for minReadySeconds (Kubernetes' isRunningAndAvailable).</summary>
    public static bool IsRunningAndAvailable(V1Pod pod, int minReadySeconds, DateTime now) =>
        pod.Status?.Phase == "Running" && PodFacts.IsAvailable(pod, minReadySeconds, now);

    /// <summary>The pod template a revision recorded (its data is <c>{"spec":{"template":{…}}}</c>).</summary>
    public static V1PodTemplateSpec? TemplateOf(V1ControllerRevision revision)
    {
        var data = revision.Data switch
        {
            JsonNode n => n,
            JsonElement e => JsonNode.Parse(e.GetRawText()),
            null => null,
            var other => JsonNode.Parse(KubeObjects.Serialize(other)),
        };
        if (data?["spec"]?["template"] is not JsonObject template) return null;
        var copy = (JsonObject)template.DeepClone();
        copy.Remove("$patch");
        return (V1PodTemplateSpec)KubeObjects.Deserialize(copy.ToJsonString(), typeof(V1PodTemplateSpec));
    }

    /// <summary>Kubernetes' newVersionedStatefulSetPod for <paramref name="ordinal"/>, from <paramref name="template"/>
    /// of the revision <paramref name="hash"/>.</summary>
    public static V1Pod New(V1StatefulSet set, V1PodTemplateSpec template, string hash, int ordinal)
    {
        var copy = KubeObjects.Clone(template);
        var name = $"{set.Metadata.Name}-{ordinal}";
        var spec = copy.Spec ?? new V1PodSpec();
        spec.Hostname = name;
        if (!string.IsNullOrEmpty(set.Spec.ServiceName)) spec.Subdomain = set.Spec.ServiceName;
        StatefulClaims.Mount(set, spec, ordinal);
        var labels = copy.Metadata?.Labels is { } l ? new Dictionary<string, string>(l) : new Dictionary<string, string>();
        labels[PodNameLabel] = name;
        labels[PodIndexLabel] = ordinal.ToString();
        labels[ControllerRevisions.HashLabel] = hash;
        return new V1Pod
        {
            ApiVersion = "v1",
            Kind = "Pod",
            Metadata = new V1ObjectMeta
            {
                Name = name,
                NamespaceProperty = set.Metadata.NamespaceProperty,
                Labels = labels,
                Annotations = copy.Metadata?.Annotations is { } a ? new Dictionary<string, string>(a) : null,
                OwnerReferences = [OwnerReferences.NewControllerRef(set)],
            },
            Spec = spec,
        };
    }
}
