using k8s.Models;

namespace Orchestrator.Master.Registry.Validation;

/// <summary>
/// Kubernetes 1.32's dropDisabledFields (pkg/api/pod/util.go) under its default feature gates: the fields of features that are off by default in 1.32 are dropped from a pod or pod template on create, and
/// on update unless the old object already uses them — not stored, and not refused. The gates off in 1.32 that guard
/// pod fields: UserNamespacesSupport (spec.hostUsers), SupplementalGroupsPolicy (securityContext.supplementalGroupsPolicy),
/// PodLevelResources (spec.resources), ProcMountType (a container's procMount is forced to Default),
/// DynamicResourceAllocation (spec.resourceClaims, resources.claims), ClusterTrustBundleProjection (projected
/// clusterTrustBundle sources), InPlacePodVerticalScaling (resizePolicy), ImageVolume (image volumes and the mounts of
/// them) and SELinuxChangePolicy (securityContext.seLinuxChangePolicy). The other gates
/// dropDisabledFields consults (SidecarContainers, RecursiveReadOnlyMounts, PodLifecycleSleepAction, the topology
/// spread and affinity matchLabelKeys, NodeInclusionPolicyInPodTopologySpread) are on in 1.32: their fields stay. The
/// status fields of these gates (dropDisabledPodStatusFields) are not dropped here: this cluster's nodes write none.
/// </summary>
internal static class DisabledPodFields
{
    private const string DefaultProcMount = "Default";

    /// <summary>DropDisabledTemplateFields: a workload's pod template, against the stored one on update.</summary>
    public static void DropFromTemplate(V1PodTemplateSpec? template, V1PodTemplateSpec? old) => Drop(template?.Spec, old?.Spec);

    /// <summary>dropDisabledFields for a pod spec (<paramref name="old"/>: the stored spec on update, null on create).</summary>
    public static void Drop(V1PodSpec? spec, V1PodSpec? old)
    {
        if (spec is null) return;
        if (old?.HostUsers is null) spec.HostUsers = null;
        if (old?.SecurityContext?.SupplementalGroupsPolicy is null && spec.SecurityContext is { } context)
            context.SupplementalGroupsPolicy = null;
        if (!PodLevelResourcesInUse(old)) spec.Resources = null;
        if (!ProcMountInUse(old))
            foreach (var c in AllContainers(spec))
                if (c.SecurityContext is { ProcMount: not null } security) security.ProcMount = DefaultProcMount;
        if (old?.ResourceClaims is not { Count: > 0 })
        {
            foreach (var c in AllContainers(spec))
                if (c.Resources is { } resources) resources.Claims = null;
            foreach (var c in spec.EphemeralContainers ?? [])
                if (c.Resources is { } resources) resources.Claims = null;
            spec.ResourceClaims = null;
        }
        if (!ClusterTrustBundleProjectionInUse(old))
            foreach (var source in (spec.Volumes ?? []).SelectMany(v => v.Projected?.Sources ?? []))
                if (source is not null) source.ClusterTrustBundle = null;
        if (!InPlacePodVerticalScalingInUse(old))
        {
            foreach (var c in AllContainers(spec)) c.ResizePolicy = null;
            foreach (var c in spec.EphemeralContainers ?? []) c.ResizePolicy = null;
        }
        DropImageVolumes(spec, old);
        if (old?.SecurityContext?.SeLinuxChangePolicy is null && spec.SecurityContext is { } podContext)
            podContext.SeLinuxChangePolicy = null;
    }

    /// <summary>Init containers and containers (the ephemeral ones are another type; callers visit them apart).</summary>
    private static IEnumerable<V1Container> AllContainers(V1PodSpec spec) =>
        (spec.InitContainers ?? []).Concat(spec.Containers ?? []).Where(c => c is not null);

    private static bool PodLevelResourcesInUse(V1PodSpec? spec) =>
        spec?.Resources is { } r && (r.Requests is { Count: > 0 } || r.Limits is { Count: > 0 });

    private static bool ProcMountInUse(V1PodSpec? spec) =>
        spec is not null && AllContainers(spec).Select(c => c.SecurityContext?.ProcMount)
            .Concat((spec.EphemeralContainers ?? []).Select(c => c?.SecurityContext?.ProcMount))
            .Any(p => p is not null && p != DefaultProcMount);

    private static bool ClusterTrustBundleProjectionInUse(V1PodSpec? spec) =>
        (spec?.Volumes ?? []).Any(v => v?.Projected?.Sources?.Any(s => s?.ClusterTrustBundle is not null) == true);

    /// <summary>Kubernetes looks at containers and init containers only (not ephemeral ones) for this.</summary>
    private static bool InPlacePodVerticalScalingInUse(V1PodSpec? spec) =>
        spec is not null && AllContainers(spec).Any(c => c.ResizePolicy is { Count: > 0 });

    /// <summary>dropImageVolumes: the image volumes go, and every mount of them with them.</summary>
    private static void DropImageVolumes(V1PodSpec spec, V1PodSpec? old)
    {
        if ((old?.Volumes ?? []).Any(v => v?.Image is not null)) return;
        if (spec.Volumes is not { } volumes || !volumes.Any(v => v?.Image is not null)) return;
        var names = volumes.Where(v => v?.Image is not null).Select(v => v.Name).ToHashSet(StringComparer.Ordinal);
        spec.Volumes = volumes.Where(v => v?.Image is null).ToList();
        if (spec.Volumes.Count == 0) spec.Volumes = null;
        foreach (var c in AllContainers(spec))
            c.VolumeMounts = WithoutMountsOf(c.VolumeMounts, names);
        foreach (var c in spec.EphemeralContainers ?? [])
            if (c is not null) c.VolumeMounts = WithoutMountsOf(c.VolumeMounts, names);
    }

    /// <summary>Go's append onto a nil slice: no mount left is no list at all.</summary>
    private static IList<V1VolumeMount>? WithoutMountsOf(IList<V1VolumeMount>? mounts, HashSet<string> names)
    {
        if (mounts is null) return null;
        var kept = mounts.Where(m => m is null || !names.Contains(m.Name)).ToList();
        return kept.Count == 0 ? null : kept;
    }
}
