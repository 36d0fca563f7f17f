using k8s.Models;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Registry.Kinds.Scheduling;

/// <summary>
/// Kubernetes' Priority admission plugin for new pods: spec.priority and spec.preemptionPolicy come from the pod's
/// priorityClassName, or from the globalDefault class (whose name the pod then takes; priority 0 and
/// PreemptLowerPriority when there is none). <see cref="Resolve"/> fills them in while the pod is defaulted;
/// <see cref="Validate"/>, run as a validating admission plugin afterwards, refuses with 403 what the plugin refuses:
/// an unknown class, or a priority or preemptionPolicy in the spec that differs from the class's.
/// </summary>
internal sealed class PodPriority : IValidatingAdmission
{
    private const string DefaultPolicy = "PreemptLowerPriority";

    private static (string? Name, int Priority, string Policy)? Computed(V1Pod pod, IAdmissionContext context)
    {
        var classes = context.List("priorityclasses").OfType<V1PriorityClass>();
        if (string.IsNullOrEmpty(pod.Spec?.PriorityClassName))
        {
            // several defaults cannot be created, but if they exist the lowest wins, as in Kubernetes
            var fallback = classes.Where(c => c.GlobalDefault == true).OrderBy(c => c.Value ?? 0).FirstOrDefault();
            return fallback is null ? (null, 0, DefaultPolicy) : (fallback.Metadata.Name, fallback.Value ?? 0, fallback.PreemptionPolicy ?? DefaultPolicy);
        }
        var named = classes.FirstOrDefault(c => c.Metadata.Name == pod.Spec.PriorityClassName);
        return named is null ? null : (named.Metadata.Name, named.Value ?? 0, named.PreemptionPolicy ?? DefaultPolicy);
    }

    /// <summary>Fills spec.priorityClassName (from the default class), spec.priority and spec.preemptionPolicy of a new pod
    /// where they are unset; what conflicts is left for <see cref="Validate"/> to refuse.</summary>
    public static void Resolve(V1Pod pod, IAdmissionContext context)
    {
        if (pod.Spec is null || pod.Metadata.ResourceVersion is { Length: > 0 } || Computed(pod, context) is not { } computed) return;
        if (computed.Name is not null) pod.Spec.PriorityClassName = computed.Name;
        pod.Spec.Priority ??= computed.Priority;
        pod.Spec.PreemptionPolicy ??= computed.Policy;
    }

    /// <summary>The plugin on update: a pod sent without spec.priority or spec.preemptionPolicy keeps the stored pod's,
    /// as kube's admitPod does ("the existing priority is preserved on update"); a replace from a manifest that never
    /// named them is then no spec change. A different value is left for the pod's update validation to refuse.</summary>
    public static void KeepOnUpdate(V1Pod pod, V1Pod old)
    {
        if (pod.Spec is null || old.Spec is null) return;
        pod.Spec.Priority ??= old.Spec.Priority;
        pod.Spec.PreemptionPolicy ??= old.Spec.PreemptionPolicy;
    }

    public AdmissionVerdict? Validate(AdmissionAttributes attributes, IAdmissionContext context)
    {
        if (attributes.Operation != AdmissionAttributes.Create || attributes.Subresource is not null || attributes.Object is not V1Pod pod)
            return null;
        string? refusal;
        if (Computed(pod, context) is not { } computed) refusal = $"no PriorityClass with name {pod.Spec?.PriorityClassName} was found";
        else if (pod.Spec?.Priority is { } priority && priority != computed.Priority)
            refusal = $"the integer value of priority ({priority}) must not be provided in pod spec; priority admission controller computed {computed.Priority} from the given PriorityClass name";
        else if (pod.Spec?.PreemptionPolicy is { } policy && policy != computed.Policy)
            refusal = $"the string value of PreemptionPolicy ({policy}) must not be provided in pod spec; priority admission controller computed {computed.Policy} from the given PriorityClass name";
        else return null;
        return new AdmissionVerdict(StoreErrors.Forbidden(attributes.Resource, pod.Metadata.Name ?? "", refusal), [], new Dictionary<string, string>());
    }
}
