using k8s;
using k8s.Models;
using Orchestrator.Master.Quota;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Admission.ResourceQuotas;

/// <summary>
/// Kubernetes' ResourceQuota admission (plugin/pkg/admission/resourcequota), run by the store last of the plugins.
/// A write that uses what a quota of its namespace limits is refused (403, Kubernetes' messages) when it would pass a
/// hard limit, or when the quota limits cpu or memory and a container does not state them; otherwise the store writes
/// the quotas' new status.used with the object, in the same journal record. The store plans writes one at a time, so
/// two concurrent creates never both take the last unit (Kubernetes gets the same from optimistic concurrency on the
/// quota). A quota created or given new hard limits gets its status at once (Kubernetes' controller fills it a moment
/// later; until then its admission refuses with "status unknown"). The quota controller recounts what is released.
/// </summary>
internal sealed class ResourceQuotaAdmission(IResourceCatalog catalog) : IMutatingAdmission, IValidatingAdmission
{
    private const string Quotas = "resourcequotas";

    public AdmissionMutation Admit(AdmissionAttributes attributes, IAdmissionContext context)
    {
        if (attributes.Subresource is not null || attributes.Object is not V1ResourceQuota quota || attributes.Resource.Group.Length != 0)
            return AdmissionMutation.None;
        var hard = quota.Spec?.Hard ?? new Dictionary<string, ResourceQuantity>();
        if (quota.Status?.Hard is { } known && ResourceLists.Equal(known, hard) && quota.Status.Used is not null) return AdmissionMutation.None;
        var ns = quota.Metadata.NamespaceProperty;
        var kinds = QuotaEvaluation.CountedKinds(hard.Keys).Select(k => (k.Group, k.Resource, Objects: ObjectsOf(k.Group, k.Resource, ns, context, quota)));
        var used = ResourceLists.Mask(quota.Status?.Used, hard.Keys);
        foreach (var (name, value) in QuotaEvaluation.CalculateUsage(quota, kinds, DateTime.UtcNow)) used[name] = value;
        quota.Status = new V1ResourceQuotaStatus { Hard = new Dictionary<string, ResourceQuantity>(hard), Used = used };
        return AdmissionMutation.Mutated;
    }

    /// <summary>The objects of a kind in the namespace; for quotas, the one being written counts itself.</summary>
    private IEnumerable<IKubernetesObject<V1ObjectMeta>> ObjectsOf(string group, string resource, string ns, IAdmissionContext context,
        V1ResourceQuota written)
    {
        if (StoreName(group, resource) is not { } storeName) return [];
        var objects = context.List(storeName, ns);
        if (storeName != Quotas) return objects;
        return objects.Where(o => o.Metadata.Name != written.Metadata.Name).Append(written);
    }

    private string? StoreName(string group, string resource) =>
        catalog.Stored.FirstOrDefault(r => r.Group == group && r.Resource == resource)?.StoreName;

    public AdmissionVerdict? Validate(AdmissionAttributes attributes, IAdmissionContext context)
    {
        var resource = attributes.Resource;
        var obj = attributes.Object;
        if (!resource.Namespaced || obj.Metadata.NamespaceProperty is not { } ns) return null;
        if (!QuotaEvaluation.Handles(resource.Group, resource.Resource, attributes.Operation, attributes.Subresource)) return null;
        var quotas = context.List(Quotas, ns).OfType<V1ResourceQuota>().Where(q => q.Metadata.DeletionTimestamp is null).ToList();
        if (quotas.Count == 0) return null;
        var name = obj.Metadata.Name ?? "";

        var interesting = new List<V1ResourceQuota>();
        foreach (var quota in quotas)
        {
            if (!QuotaEvaluation.Matches(quota, resource.Group, resource.Resource, obj)) continue;
            var hard = quota.Status?.Hard ?? new Dictionary<string, ResourceQuantity>();
            var restricted = QuotaEvaluation.MatchingResources(resource.Group, resource.Resource, hard.Keys);
            if (obj is V1Pod pod && QuotaEvaluation.MissingCompute(restricted, pod) is { } missing)
                return Refuse(resource, name, $"failed quota: {quota.Metadata.Name}: {missing}");
            var unknown = restricted.Where(r => quota.Status?.Used?.ContainsKey(r) != true).Order(StringComparer.Ordinal).ToList();
            if (unknown.Count > 0)
                return Refuse(resource, name, $"status unknown for quota: {quota.Metadata.Name}, resources: {string.Join(",", unknown)}");
            interesting.Add(quota);
        }
        if (interesting.Count == 0) return null;

        var now = DateTime.UtcNow;
        var delta = QuotaEvaluation.Usage(resource.Group, resource.Resource, obj, now);
        if (attributes.Operation == AdmissionAttributes.Update && attributes.Old is { } old)
            delta = ResourceLists.SubtractNonNegative(delta, QuotaEvaluation.Usage(resource.Group, resource.Resource, old, now));
        if (delta.Values.All(v => v.ToDecimal() == 0)) return null;

        var charges = new List<PlannedWrite>();
        foreach (var quota in interesting)
        {
            var hard = quota.Status!.Hard!;
            var used = quota.Status.Used ?? new Dictionary<string, ResourceQuantity>();
            var requested = ResourceLists.Mask(delta, hard.Keys);
            var newUsage = ResourceLists.Add(used, requested);
            var exceeded = ResourceLists.Exceeding(ResourceLists.Mask(newUsage, requested.Keys), hard);
            if (exceeded.Count > 0)
                return Refuse(resource, name, $"exceeded quota: {quota.Metadata.Name}, " +
                    $"requested: {ResourceLists.PrettyPrint(ResourceLists.Mask(requested, exceeded))}, " +
                    $"used: {ResourceLists.PrettyPrint(ResourceLists.Mask(used, exceeded))}, " +
                    $"limited: {ResourceLists.PrettyPrint(ResourceLists.Mask(hard, exceeded))}");
            if (ResourceLists.Equal(used, newUsage)) continue;
            var charged = KubeObjects.Clone(quota);
            charged.Status!.Used = newUsage;
            charges.Add(new PlannedWrite(Quotas, charged));
        }
        return charges.Count == 0 ? null : new AdmissionVerdict(null, [], new Dictionary<string, string>()) { Writes = charges };
    }

    private static AdmissionVerdict Refuse(IStoredResource resource, string name, string message) =>
        new(StoreErrors.Forbidden(resource, name, message), [], new Dictionary<string, string>());
}
