using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Validation;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Registry.Kinds.Core;

/// <summary>core/v1 Pod: pod spec defaults, containers with name and image, status Pending with its QoS class on
/// create. On update the spec is immutable except for what Kubernetes lets change (container images, active deadline,
/// added tolerations, a grace period) and spec.nodeName once (binding is the store's own write, PodBindings).</summary>
internal sealed class PodStrategy : ModelStrategy<V1Pod>
{
    public PodStrategy() => HasGeneration = false; // its 1.32 strategy keeps no metadata.generation

    /// <summary>As its 1.32 strategy's PrepareForCreate: a Pending status with the QoS class, the fields of disabled
    /// features dropped, then the AppArmor annotations and fields synced.</summary>
    protected override void PrepareForCreate(V1Pod pod, List<string> warnings)
    {
        pod.Status = new V1PodStatus { Phase = "Pending", QosClass = PodSpecs.QosClass(pod.Spec ?? new V1PodSpec()) };
        DisabledPodFields.Drop(pod.Spec, null);
        AppArmorVersionSkew.Apply(pod, warnings);
    }

    protected override void PrepareForUpdate(V1Pod pod, V1Pod old) => DisabledPodFields.Drop(pod.Spec, old.Spec);

    protected override void Default(V1Pod pod)
    {
        pod.Spec ??= new V1PodSpec();
        PodSpecs.Default(pod.Spec);
        PodHostAccess.DefaultPod(pod.Spec);
        EphemeralContainers.Default(pod.Spec);
        // SetDefaults_Pod: a container's limits are its requests where it states none (pods only, not templates).
        foreach (var container in (pod.Spec.Containers ?? []).Concat(pod.Spec.InitContainers ?? []))
        {
            if (container.Resources?.Limits is not { Count: > 0 } limits) continue;
            container.Resources.Requests ??= new Dictionary<string, ResourceQuantity>();
            foreach (var (name, limit) in limits) container.Resources.Requests.TryAdd(name, limit);
        }
        // The QoS class follows what defaulting and admission (LimitRange defaults) made of the resources.
        if (pod.Status is { } status) status.QosClass = PodSpecs.QosClass(pod.Spec);
    }

    protected override void Validate(V1Pod pod, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        PodSpecs.Validate(pod.Spec, "spec", causes);
        // as Kubernetes: ephemeral containers are added only through the pods/ephemeralcontainers subresource
        if (pod.Metadata.ResourceVersion is not { Length: > 0 } && pod.Spec?.EphemeralContainers is { Count: > 0 })
            causes.Add(FieldErrors.Forbidden("spec.ephemeralContainers", "cannot be set on create"));
        AdmitRuntimeClass(pod, context, causes);
        CopyServiceAccountPullSecrets(pod, context);
        Scheduling.PodPriority.Resolve(pod, context);
    }

    /// <summary>The ServiceAccount admission's part for images: a new pod without imagePullSecrets gets those of its
    /// ServiceAccount ("default" when unnamed), if that account exists.</summary>
    private static void CopyServiceAccountPullSecrets(V1Pod pod, IAdmissionContext context)
    {
        if (pod.Spec is null || pod.Metadata.ResourceVersion is { Length: > 0 } || pod.Spec.ImagePullSecrets is { Count: > 0 }) return;
        var name = pod.Spec.ServiceAccountName is { Length: > 0 } named ? named : "default";
        var account = context.List("serviceaccounts", pod.Metadata.NamespaceProperty ?? "default").OfType<V1ServiceAccount>()
            .FirstOrDefault(a => a.Metadata.Name == name);
        if (account?.ImagePullSecrets is { Count: > 0 } secrets)
            pod.Spec.ImagePullSecrets = secrets.Select(s => new V1LocalObjectReference { Name = s.Name }).ToList();
    }

    /// <summary>The handlers these nodes run: Docker's default runtime.</summary>
    private static readonly string[] Handlers = ["runc"];

    /// <summary>The RuntimeClass admission of kube-apiserver for a new pod: the class must exist, its scheduling
    /// constraints join the pod's; and its handler must be one the nodes have (rather than ignored by them).</summary>
    private static void AdmitRuntimeClass(V1Pod pod, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        if (pod.Spec?.RuntimeClassName is not { Length: > 0 } name || pod.Metadata.ResourceVersion is { Length: > 0 }) return;
        var runtimeClass = context.List("runtimeclasses").OfType<V1RuntimeClass>().FirstOrDefault(r => r.Metadata.Name == name);
        if (runtimeClass is null)
        {
            causes.Add(FieldErrors.Forbidden("spec.runtimeClassName", $"pod rejected: RuntimeClass \"{name}\" not found"));
            return;
        }
        if (!Handlers.Contains(runtimeClass.Handler))
            causes.Add(FieldErrors.Forbidden("spec.runtimeClassName",
                $"RuntimeClass \"{name}\" has handler \"{runtimeClass.Handler}\", which this cluster's nodes do not run (they run: {string.Join(", ", Handlers)})"));
        if (runtimeClass.Overhead?.PodFixed is { Count: > 0 })
            causes.Add(FieldErrors.Forbidden("spec.overhead", $"RuntimeClass \"{name}\" sets a pod overhead, which this cluster's scheduler does not count"));
        if (runtimeClass.Scheduling is { } scheduling)
        {
            foreach (var (key, value) in scheduling.NodeSelector ?? new Dictionary<string, string>())
            {
                pod.Spec.NodeSelector ??= new Dictionary<string, string>();
                if (pod.Spec.NodeSelector.TryGetValue(key, out var existing) && existing != value)
                    causes.Add(FieldErrors.Forbidden("spec.nodeSelector",
                        $"conflict: runtimeClass.scheduling.nodeSelector[{key}] = {value}; pod.spec.nodeSelector[{key}] = {existing}"));
                else pod.Spec.NodeSelector[key] = value;
            }
            foreach (var toleration in scheduling.Tolerations ?? [])
            {
                pod.Spec.Tolerations ??= new List<V1Toleration>();
                if (!pod.Spec.Tolerations.Any(t => KubeObjects.Serialize(t) == KubeObjects.Serialize(toleration))) pod.Spec.Tolerations.Add(toleration);
            }
        }
    }

    /// <summary>/ephemeralcontainers: the stored pod with the request's ephemeral containers, nothing else of it.
    /// (/binding is the store's own conditional update, <see cref="PodBindings"/>, as Kubernetes' BindingREST.)</summary>
    protected override V1Pod? PrepareForSubresourceUpdate(string subresource, V1Pod pod, V1Pod old)
    {
        if (subresource != "ephemeralcontainers") return null;
        var stored = KubeObjects.Clone(old.Spec);
        old.Spec.EphemeralContainers = pod.Spec?.EphemeralContainers;
        DisabledPodFields.Drop(old.Spec, stored);
        return old;
    }

    protected override void ValidateSubresourceUpdate(string subresource, V1Pod pod, V1Pod old, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        if (subresource != "ephemeralcontainers")
        {
            ValidateUpdate(pod, old, context, causes);
            return;
        }
        PodSpecs.Validate(pod.Spec, "spec", causes);
        EphemeralContainers.ValidateUpdate(pod, old, causes);
    }

    protected override void ValidateUpdate(V1Pod pod, V1Pod old, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        Scheduling.PodPriority.KeepOnUpdate(pod, old);
        Validate(pod, context, causes);
        if (old.Spec is not null && !OnlyMutableFieldsChanged(old.Spec, pod.Spec!))
            causes.Add(FieldErrors.Forbidden("spec", ImmutableMessage));
    }

    public const string ImmutableMessage =
        "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`," +
        "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations)," +
        "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

    /// <summary>Compares the specs with the mutable fields of the new one taken over into a copy of the old one.</summary>
    private static bool OnlyMutableFieldsChanged(V1PodSpec previous, V1PodSpec next)
    {
        var allowed = k8s.KubernetesJson.Deserialize<V1PodSpec>(k8s.KubernetesJson.Serialize(previous));
        // kube-apiserver defaults the stored object as it reads it: a pod stored before a default was added (the
        // serviceAccount alias, a hostPath's type) is compared with its defaults, not refused for lacking them.
        PodSpecs.Default(allowed);
        if (string.IsNullOrEmpty(previous.NodeName)) allowed.NodeName = next.NodeName;
        allowed.ActiveDeadlineSeconds = next.ActiveDeadlineSeconds;
        allowed.TerminationGracePeriodSeconds = next.TerminationGracePeriodSeconds;
        if ((previous.Tolerations ?? []).All(t => (next.Tolerations ?? []).Any(n => KubeObjects.SameJson(t, n))))
            allowed.Tolerations = next.Tolerations;
        CopyImages(allowed.Containers, next.Containers);
        CopyImages(allowed.InitContainers, next.InitContainers);
        return KubeObjects.SameJson(allowed, next);
    }

    private static void CopyImages(IList<V1Container>? into, IList<V1Container>? from)
    {
        if (into is null || from is null || into.Count != from.Count) return;
        for (var i = 0; i < into.Count; i++) into[i].Image = from[i].Image;
    }
}
