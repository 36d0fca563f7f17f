using k8s.Models;
using Orchestrator.Master.Registry.Validation;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Registry.Kinds.Core;

/// <summary>
/// A pod's ephemeral containers as the API server admits them through pods/ephemeralcontainers
/// (ValidatePodEphemeralContainersUpdate): existing ones are neither removed nor changed, names are unique among all
/// the pod's containers, a target names one of the pod's containers, and what a container that is never restarted
/// and reserves nothing cannot have — ports, probes, lifecycle, resources, a restart policy — is forbidden.
/// </summary>
internal static class EphemeralContainers
{
    public static void Default(V1PodSpec spec)
    {
        foreach (var c in spec.EphemeralContainers ?? [])
        {
            if (c.Image is not null) c.ImagePullPolicy ??= PodSpecs.PullPolicyFor(c.Image);
            c.TerminationMessagePath ??= "/dev/termination-log";
            c.TerminationMessagePolicy ??= "File";
        }
    }

    public static void ValidateUpdate(V1Pod pod, V1Pod old, List<StoreErrorCause> causes)
    {
        const string path = "spec.ephemeralContainers";
        var next = pod.Spec.EphemeralContainers ?? [];
        foreach (var previous in old.Spec?.EphemeralContainers ?? [])
        {
            var same = next.FirstOrDefault(c => c.Name == previous.Name);
            if (same is null)
                causes.Add(FieldErrors.Forbidden(path, $"existing ephemeral containers \"{previous.Name}\" may not be removed\n"));
            else if (!KubeObjects.SameJson(previous, same))
                causes.Add(FieldErrors.Forbidden(path, $"existing ephemeral containers \"{previous.Name}\" may not be changed\n"));
        }

        var names = (pod.Spec.Containers ?? []).Select(c => c.Name).Concat((pod.Spec.InitContainers ?? []).Select(c => c.Name)).ToHashSet();
        var targets = names.ToHashSet();
        for (var i = 0; i < next.Count; i++)
        {
            var c = next[i];
            var at = $"{path}[{i}]";
            if (string.IsNullOrEmpty(c.Name)) causes.Add(FieldErrors.Required($"{at}.name", ""));
            else if (!names.Add(c.Name)) causes.Add(FieldErrors.Duplicate($"{at}.name", c.Name));
            if (string.IsNullOrWhiteSpace(c.Image)) causes.Add(FieldErrors.Required($"{at}.image", ""));
            Forbid(c.Lifecycle, "lifecycle");
            Forbid(c.LivenessProbe, "livenessProbe");
            Forbid(c.Ports is { Count: > 0 } ? c.Ports : null, "ports");
            Forbid(c.ReadinessProbe, "readinessProbe");
            Forbid(c.Resources is { Limits.Count: > 0 } or { Requests.Count: > 0 } or { Claims.Count: > 0 } ? c.Resources : null, "resources");
            Forbid(c.ResizePolicy is { Count: > 0 } ? c.ResizePolicy : null, "resizePolicy");
            Forbid(c.StartupProbe, "startupProbe");
            Forbid(c.RestartPolicy, "restartPolicy");
            if (c.TargetContainerName is { Length: > 0 } target && !targets.Contains(target))
                causes.Add(FieldErrors.NotFound($"{at}.targetContainerName", target));
            foreach (var (mount, m) in (c.VolumeMounts ?? []).Select((m, j) => (m, j)))
                if (!string.IsNullOrEmpty(mount.SubPath))
                    causes.Add(FieldErrors.Forbidden($"{at}.volumeMounts[{m}].subPath", "cannot be set for an Ephemeral Container"));

            void Forbid(object? value, string field)
            {
                if (value is not null) causes.Add(FieldErrors.Forbidden($"{at}.{field}", "cannot be set for an Ephemeral Container"));
            }
        }
    }
}
