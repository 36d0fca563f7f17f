using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Validation;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Registry.Kinds.Core;

/// <summary>
/// core/v1 Namespace, as the API server does it: the <c>kubernetes</c> finalizer in spec.finalizers on create (changed
/// only through /finalize afterwards), the kubernetes.io/metadata.name label, phase Active; a delete marks it
/// Terminating while spec.finalizers hold it — the namespace controller deletes its content, then finalizes it, and
/// the store removes it. Names are DNS-1123 labels.
/// </summary>
internal sealed class NamespaceStrategy : ModelStrategy<V1Namespace>
{
    public NamespaceStrategy() => HasGeneration = false; // its 1.32 strategy keeps no metadata.generation

    public const string NameLabel = "kubernetes.io/metadata.name";
    public const string KubernetesFinalizer = "kubernetes";

    /// <summary>The namespaces the NamespaceLifecycle admission never lets go (kube-node-lease is not among them in
    /// Kubernetes 1.32).</summary>
    public static readonly IReadOnlySet<string> Immortal = new HashSet<string> { "default", "kube-system", "kube-public" };

    public override Names.Rule NameRule => Names.Rule.Dns1123Label;

    protected override void PrepareForCreate(V1Namespace ns)
    {
        ns.Spec ??= new V1NamespaceSpec();
        ns.Spec.Finalizers ??= [];
        if (!ns.Spec.Finalizers.Contains(KubernetesFinalizer)) ns.Spec.Finalizers.Add(KubernetesFinalizer);
        ns.Status = new V1NamespaceStatus { Phase = "Active" };
    }

    protected override void PrepareForUpdate(V1Namespace ns, V1Namespace old)
    {
        ns.Spec ??= new V1NamespaceSpec();
        ns.Spec.Finalizers = old.Spec?.Finalizers;
    }

    /// <summary>/finalize: only spec.finalizers change.</summary>
    protected override V1Namespace? PrepareForSubresourceUpdate(string subresource, V1Namespace ns, V1Namespace old)
    {
        if (subresource != "finalize") return null;
        old.Spec ??= new V1NamespaceSpec();
        old.Spec.Finalizers = ns.Spec?.Finalizers is { Count: > 0 } finalizers ? finalizers : null;
        return old;
    }

    protected override bool HasFinalizers(V1Namespace ns) => ns.Spec?.Finalizers is { Count: > 0 };

    protected override void PrepareForDeletion(V1Namespace marked)
    {
        marked.Status ??= new V1NamespaceStatus();
        marked.Status.Phase = "Terminating";
    }

    /// <summary>A system namespace is never deleted (403, the NamespaceLifecycle admission's answer); a second delete
    /// while its content is being removed is a conflict, as the namespace registry answers it.</summary>
    protected override StoreError? RefuseDeletion(IStoredResource resource, V1Namespace ns)
    {
        if (Immortal.Contains(ns.Metadata.Name))
            return StoreErrors.Forbidden(resource, ns.Metadata.Name, "this namespace may not be deleted");
        if (ns.Metadata.DeletionTimestamp is not null && HasFinalizers(ns))
            return StoreErrors.Conflict(resource, ns.Metadata.Name,
                "The system is ensuring all content is removed from this namespace.  Upon completion, this namespace will " +
                "automatically be purged by the system.");
        return null;
    }

    private static readonly HashSet<string> StandardFinalizers = [KubernetesFinalizer, "orphan", "foregroundDeletion"];

    /// <summary>spec.finalizers are qualified names, and one without a prefix must be a standard finalizer — checked on
    /// create, update and /finalize alike.</summary>
    protected override void Validate(V1Namespace ns, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        foreach (var finalizer in ns.Spec?.Finalizers ?? [])
        {
            foreach (var message in LabelRules.CheckKey(finalizer ?? ""))
                causes.Add(FieldErrors.Invalid("spec.finalizers", finalizer, message));
            if (finalizer is not null && !finalizer.Contains('/') && !StandardFinalizers.Contains(finalizer))
                causes.Add(FieldErrors.Invalid("spec.finalizers", finalizer,
                    "name is neither a standard finalizer name nor is it fully qualified"));
        }
    }

    protected override void Default(V1Namespace ns)
    {
        // SetDefaults_Namespace: not for a namespace still to be named (generateName, before the store names it)
        if (ns.Metadata.Name is { Length: > 0 } name)
        {
            ns.Metadata.Labels ??= new Dictionary<string, string>();
            ns.Metadata.Labels[NameLabel] = name;
        }
        ns.Status ??= new V1NamespaceStatus();
        ns.Status.Phase ??= "Active";
    }
}
