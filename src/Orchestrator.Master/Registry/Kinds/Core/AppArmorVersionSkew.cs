using k8s.Models;

namespace Orchestrator.Master.Registry.Kinds.Core;

/// <summary>
/// Kubernetes 1.32's applyAppArmorVersionSkew (pkg/registry/core/pod/strategy.go), run on a new pod: the deprecated
/// per-container annotation <c>container.apparmor.security.beta.kubernetes.io/&lt;container&gt;</c> and the
/// securityContext.appArmorProfile field are synced. A container without the annotation gets one from its own profile,
/// or else from the pod's; a container with the annotation and no profile of its own gets the profile the annotation
/// names, unless that is invalid or the pod-level one already. Windows pods are left alone. An annotation that gives its
/// container a profile, or that names none valid, is warned of as deprecated, here rather than with the other pod
/// warnings because those see the pod after the sync.
/// </summary>
internal static class AppArmorVersionSkew
{
    public const string AnnotationPrefix = "container.apparmor.security.beta.kubernetes.io/";
    private const string Unconfined = "unconfined";
    private const string RuntimeDefault = "runtime/default";
    private const string LocalhostPrefix = "localhost/";
    private const int MaxLocalhostProfileLength = 4095; // PATH_MAX - 1, as ValidateAppArmorProfileField

    public static void Apply(V1Pod pod, List<string> warnings)
    {
        if (pod.Spec is not { } spec || spec.Os?.Name == "windows") return;
        var podProfile = spec.SecurityContext?.AppArmorProfile;
        foreach (var c in (spec.InitContainers ?? []).Concat(spec.Containers ?? []).Where(c => c is not null))
            if (Sync(pod, podProfile, c.Name, c.SecurityContext?.AppArmorProfile, warnings) is { } profile)
                (c.SecurityContext ??= new V1SecurityContext()).AppArmorProfile = profile;
        foreach (var c in (spec.EphemeralContainers ?? []).Where(c => c is not null))
            if (Sync(pod, podProfile, c.Name, c.SecurityContext?.AppArmorProfile, warnings) is { } profile)
                (c.SecurityContext ??= new V1SecurityContext()).AppArmorProfile = profile;
    }

    /// <summary>One container: its annotation set from its profile (or the pod's) when it has none; else the profile
    /// the container is to get from its annotation, if any.</summary>
    private static V1AppArmorProfile? Sync(V1Pod pod, V1AppArmorProfile? podProfile, string name, V1AppArmorProfile? containerProfile,
        List<string> warnings)
    {
        var key = AnnotationPrefix + name;
        if (pod.Metadata.Annotations?.TryGetValue(key, out var annotation) != true)
        {
            var value = containerProfile is not null ? AnnotationFor(containerProfile)
                : podProfile is not null ? AnnotationFor(podProfile) : "";
            if (value.Length == 0) return null;
            pod.Metadata.Annotations ??= new Dictionary<string, string>();
            pod.Metadata.Annotations[key] = value;
            return null;
        }
        if (containerProfile is not null) return null;
        var field = FieldFor(annotation!);
        var synced = field is not null && !Same(field, podProfile) ? field : null;
        if (field is null || synced is not null)
            warnings.Add($"metadata.annotations[{key}]: deprecated since v1.30; use the \"appArmorProfile\" field instead");
        return synced;
    }

    private static bool Same(V1AppArmorProfile a, V1AppArmorProfile? b) =>
        b is not null && a.Type == b.Type && a.LocalhostProfile == b.LocalhostProfile;

    /// <summary>appArmorAnnotationForField: "" for a Localhost profile without its name or an unknown type.</summary>
    private static string AnnotationFor(V1AppArmorProfile profile) => profile.Type switch
    {
        "Unconfined" => Unconfined,
        "RuntimeDefault" => RuntimeDefault,
        "Localhost" when profile.LocalhostProfile is not null => LocalhostPrefix + profile.LocalhostProfile,
        _ => "",
    };

    /// <summary>apparmorFieldForAnnotation, with what ValidateAppArmorProfileField refuses left out (null).</summary>
    private static V1AppArmorProfile? FieldFor(string annotation)
    {
        if (annotation == Unconfined) return new V1AppArmorProfile { Type = "Unconfined" };
        if (annotation == RuntimeDefault) return new V1AppArmorProfile { Type = "RuntimeDefault" };
        if (!annotation.StartsWith(LocalhostPrefix, StringComparison.Ordinal)) return null;
        var name = annotation[LocalhostPrefix.Length..];
        if (name.Length == 0 || name.Trim() != name || name.Length > MaxLocalhostProfileLength) return null;
        return new V1AppArmorProfile { Type = "Localhost", LocalhostProfile = name };
    }
}
