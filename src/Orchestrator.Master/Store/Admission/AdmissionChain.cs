using k8s;
using k8s.Models;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Store.Admission;

/// <summary>What admission may read of the store besides the object itself (allocations of other objects).</summary>
public interface IAdmissionContext
{
    IEnumerable<V1Service> Services { get; }
}

/// <summary>Defaulting and validation of one kind, as Kubernetes' strategy + validation for that kind.</summary>
public interface IKindAdmission
{
    /// <summary>Defaults <paramref name="obj"/> in place (it is the store's private copy) and adds a cause per
    /// violation. <paramref name="old"/> is the stored object on update, null on create.</summary>
    void Admit(IKubernetesObject<V1ObjectMeta> obj, IKubernetesObject<V1ObjectMeta>? old, IAdmissionContext context,
        List<StoreErrorCause> causes);
}

/// <summary>
/// Runs before every create and update: the generic metadata rules (name format), then the kind's own
/// defaulting and validation. A non-empty result means 422 Invalid and nothing is stored.
/// </summary>
public static class AdmissionChain
{
    // Nodes, endpoints and events have no rules beyond the generic ones, as in this subset of Kubernetes.
    private static readonly Dictionary<string, IKindAdmission> Kinds = new()
    {
        ["deployments"] = new DeploymentAdmission(),
        ["replicasets"] = new ReplicaSetAdmission(),
        ["replicationcontrollers"] = new ReplicationControllerAdmission(),
        ["pods"] = new PodAdmission(),
        ["services"] = new ServiceAdmission(),
        ["namespaces"] = new NamespaceAdmission(),
        ["configmaps"] = new ConfigMapAdmission(),
        ["secrets"] = new SecretAdmission(),
    };

    public static IReadOnlyList<StoreErrorCause> Admit(ApiResource resource, IKubernetesObject<V1ObjectMeta> obj,
        IKubernetesObject<V1ObjectMeta>? old, IAdmissionContext context)
    {
        var causes = new List<StoreErrorCause>();
        var name = obj.Metadata.Name ?? "";
        if (old is null)
            foreach (var message in Names.Check(name, Names.RuleFor(resource.Resource)))
                causes.Add(FieldErrors.Invalid("metadata.name", name, message));
        LabelRules.ValidateLabels(obj.Metadata.Labels, "metadata.labels", causes);
        LabelRules.ValidateAnnotations(obj.Metadata.Annotations, "metadata.annotations", causes);
        if (Kinds.TryGetValue(ResourceKey.StoreName(resource), out var kind))
            kind.Admit(obj, old, context, causes);
        return causes;
    }
}
