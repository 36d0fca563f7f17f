using k8s;
using k8s.Models;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Controllers.Autoscaling;

/// <summary>What the autoscaler reads of its target's scale: the store resource, the object, spec.replicas and the
/// pods' selector.</summary>
internal sealed record TargetScale(string Resource, IKubernetesObject<V1ObjectMeta> Object, int Replicas, LabelSelector? Selector);

/// <summary>
/// The scale of an autoscaler's target, read from the controller's cache and written as spec.replicas: the built-in
/// kinds with a scale subresource (Deployment, ReplicaSet, StatefulSet, ReplicationController). Custom resources'
/// scale subresources are not reached from here (the controllers do not use the registry): their targets fail with
/// Kubernetes' "no matches for kind" message.
/// </summary>
internal static class ScaleTargets
{
    public static readonly string[] Resources = ["deployments", "replicasets", "statefulsets", "replicationcontrollers"];

    /// <summary>The target's scale, or the error Kubernetes' scale client would report.</summary>
    public static (TargetScale? Scale, string? Error) Find(ObjectCache cache, string ns, V2CrossVersionObjectReference target)
    {
        // the HPA controller's schema.ParseGroupVersion of the reference (its error is the FailedGetScale message)
        if (ApiVersions.Parse(target.ApiVersion) is not { } parsed) return (null, $"unexpected GroupVersion string: {target.ApiVersion}");
        var group = parsed.Group;
        (string Resource, string Qualified)? known = (group, target.Kind) switch
        {
            ("apps", "Deployment") => ("deployments", "deployments.apps"),
            ("apps", "ReplicaSet") => ("replicasets", "replicasets.apps"),
            ("apps", "StatefulSet") => ("statefulsets", "statefulsets.apps"),
            ("", "ReplicationController") => ("replicationcontrollers", "replicationcontrollers"),
            _ => null,
        };
        if (known is not { } k) return (null, $"no matches for kind \"{target.Kind}\" in group \"{group}\"");
        var notFound = $"{k.Qualified} \"{target.Name}\" not found";
        return k.Resource switch
        {
            "deployments" => cache.Get<V1Deployment>(k.Resource, ns, target.Name) is { } d
                ? (new TargetScale(k.Resource, d, d.Spec?.Replicas ?? 1, Selector(d.Spec?.Selector)), null) : (null, notFound),
            "replicasets" => cache.Get<V1ReplicaSet>(k.Resource, ns, target.Name) is { } r
                ? (new TargetScale(k.Resource, r, r.Spec?.Replicas ?? 1, Selector(r.Spec?.Selector)), null) : (null, notFound),
            "statefulsets" => cache.Get<V1StatefulSet>(k.Resource, ns, target.Name) is { } s
                ? (new TargetScale(k.Resource, s, s.Spec?.Replicas ?? 1, Selector(s.Spec?.Selector)), null) : (null, notFound),
            _ => cache.Get<V1ReplicationController>(k.Resource, ns, target.Name) is { } rc
                ? (new TargetScale(k.Resource, rc, rc.Spec?.Replicas ?? 1,
                    rc.Spec?.Selector is { Count: > 0 } map ? LabelSelector.FromMap(map) : null), null) : (null, notFound),
        };
    }

    private static LabelSelector? Selector(V1LabelSelector? selector) =>
        selector is null || ((selector.MatchLabels?.Count ?? 0) == 0 && (selector.MatchExpressions?.Count ?? 0) == 0)
            ? null : LabelSelector.FromLabelSelector(selector);

    /// <summary>A copy of the target with spec.replicas set (written conditionally on the version read).</summary>
    public static IKubernetesObject<V1ObjectMeta> Scaled(TargetScale scale, int replicas)
    {
        switch (scale.Object)
        {
            case V1Deployment d: { var c = KubeObjects.Clone(d); c.Spec.Replicas = replicas; return c; }
            case V1ReplicaSet r: { var c = KubeObjects.Clone(r); c.Spec.Replicas = replicas; return c; }
            case V1StatefulSet s: { var c = KubeObjects.Clone(s); c.Spec.Replicas = replicas; return c; }
            case V1ReplicationController rc: { var c = KubeObjects.Clone(rc); c.Spec.Replicas = replicas; return c; }
            default: throw new InvalidOperationException($"not a scalable kind: {scale.Object.GetType().Name}");
        }
    }
}
