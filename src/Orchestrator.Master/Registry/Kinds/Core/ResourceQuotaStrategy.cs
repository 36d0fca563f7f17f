using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Validation;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Registry.Kinds.Core;

/// <summary>
/// core/v1 ResourceQuota (Kubernetes' ValidateResourceQuota): every hard resource is a standard quota resource, a
/// <c>count/&lt;resource&gt;[.&lt;group&gt;]</c>, or a fully qualified (extended) name; amounts are non-negative and whole
/// for counted objects; scopes are known and fit the resources. Status is the quota controller's.
/// </summary>
internal sealed class ResourceQuotaStrategy : ModelStrategy<V1ResourceQuota>
{
    public ResourceQuotaStrategy() => HasGeneration = false; // its 1.32 strategy keeps no metadata.generation

    private static readonly IReadOnlySet<string> StandardResources = new HashSet<string>
    {
        "pods", "services", "replicationcontrollers", "resourcequotas", "secrets", "configmaps", "persistentvolumeclaims",
        "services.nodeports", "services.loadbalancers", "cpu", "memory", "ephemeral-storage", "requests.cpu", "requests.memory",
        "requests.storage", "requests.ephemeral-storage", "limits.cpu", "limits.memory", "limits.ephemeral-storage",
    };

    // What each scope may limit (Kubernetes' validateResourceQuotaScopes: compute resources and pods only).
    private static readonly IReadOnlySet<string> PodScopedResources = new HashSet<string>
    {
        "pods", "count/pods", "cpu", "memory", "requests.cpu", "requests.memory", "limits.cpu", "limits.memory",
        "ephemeral-storage", "requests.ephemeral-storage", "limits.ephemeral-storage",
    };

    private static readonly string[] Scopes = ["BestEffort", "CrossNamespacePodAffinity", "NotBestEffort", "NotTerminating", "PriorityClass", "Terminating"];

    protected override void PrepareForCreate(V1ResourceQuota quota) => quota.Status = new V1ResourceQuotaStatus();

    protected override void Default(V1ResourceQuota quota) => quota.Spec ??= new V1ResourceQuotaSpec();

    protected override void Validate(V1ResourceQuota quota, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        var spec = quota.Spec!;
        foreach (var (name, amount) in spec.Hard ?? new Dictionary<string, ResourceQuantity>())
        {
            var path = $"spec.hard[{name}]";
            foreach (var message in ResourceNameProblems(name)) causes.Add(FieldErrors.Invalid(path, name, message));
            ResourceNames.ValidateQuantity(name, amount, path, causes); // count/… names are extended, so integers
        }
        var scopes = (spec.Scopes ?? []).ToList();
        foreach (var e in spec.ScopeSelector?.MatchExpressions ?? [])
        {
            if (!Scopes.Contains(e.ScopeName))
                causes.Add(FieldErrors.NotSupported("spec.scopeSelector.matchExpressions.scopeName", e.ScopeName, Scopes));
            else scopes.Add(e.ScopeName);
            if (e.OperatorProperty is not ("In" or "NotIn" or "Exists" or "DoesNotExist"))
                causes.Add(FieldErrors.NotSupported("spec.scopeSelector.matchExpressions.operator", e.OperatorProperty, ["DoesNotExist", "Exists", "In", "NotIn"]));
            else if (e.OperatorProperty is "In" or "NotIn" && (e.Values?.Count ?? 0) == 0)
                causes.Add(FieldErrors.Invalid("spec.scopeSelector.matchExpressions.values", new RawValue("[]string(nil)"),
                    "must be at least one value when `operator` is 'In' or 'NotIn' for scope selector"));
            else if (e.OperatorProperty is "Exists" or "DoesNotExist" && (e.Values?.Count ?? 0) > 0)
                causes.Add(FieldErrors.Invalid("spec.scopeSelector.matchExpressions.values", new RawValue("[]string{...}"),
                    "must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope selector"));
        }
        foreach (var scope in scopes)
        {
            if (!Scopes.Contains(scope)) causes.Add(FieldErrors.Invalid("spec.scopes", scope, "unsupported scope"));
            else if (scope == "CrossNamespacePodAffinity")
                causes.Add(FieldErrors.Forbidden("spec.scopes", "the CrossNamespacePodAffinity scope is not enforced here (pods with cross-namespace affinity terms are not tracked)"));
            foreach (var name in (spec.Hard ?? new Dictionary<string, ResourceQuantity>()).Keys)
                if (!PodScopedResources.Contains(name))
                    causes.Add(FieldErrors.Invalid("spec.hard", name, $"unsupported scope applied to resource"));
        }
        if (scopes.Contains("BestEffort") && scopes.Contains("NotBestEffort"))
            causes.Add(FieldErrors.Invalid("spec.scopes", new RawValue("[BestEffort NotBestEffort]"), "conflicting scopes"));
        if (scopes.Contains("Terminating") && scopes.Contains("NotTerminating"))
            causes.Add(FieldErrors.Invalid("spec.scopes", new RawValue("[Terminating NotTerminating]"), "conflicting scopes"));
    }

    /// <summary>Kubernetes' validateResourceQuotaResourceName.</summary>
    public static IEnumerable<string> ResourceNameProblems(string name)
    {
        foreach (var message in LabelRules.CheckKey(name)) yield return message;
        if (StandardResources.Contains(name) || name.StartsWith("count/", StringComparison.Ordinal) || name.Contains('/')
            || name.StartsWith("hugepages-", StringComparison.Ordinal) || name.StartsWith("requests.hugepages-", StringComparison.Ordinal)
            || name.EndsWith(".storageclass.storage.k8s.io/requests.storage", StringComparison.Ordinal)
            || name.EndsWith(".storageclass.storage.k8s.io/persistentvolumeclaims", StringComparison.Ordinal))
            yield break;
        yield return "must be a standard resource for quota";
    }
}
