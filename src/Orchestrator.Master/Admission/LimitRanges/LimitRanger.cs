using System.Globalization;
using k8s.Models;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Admission.LimitRanges;

/// <summary>
/// Kubernetes' LimitRanger admission (plugin/pkg/admission/limitranger), run by the store with the LimitRanges of the
/// write's namespace. Mutating: a new pod's containers and init containers get the Container items' default limits
/// and default requests they do not state, recorded in the kubernetes.io/limit-ranger annotation. Validating: a new
/// pod's containers (Container items) and its totals (Pod items) within min, max and maxLimitRequestRatio; a claim's
/// storage request within its PersistentVolumeClaim items' min and max, on create and update. Refusals are 403 with
/// Kubernetes' messages. Pod updates are not judged (containers' resources are immutable), nor subresources.
/// </summary>
internal sealed class LimitRanger : IMutatingAdmission, IValidatingAdmission
{
    public const string Annotation = "kubernetes.io/limit-ranger";

    public AdmissionMutation Admit(AdmissionAttributes attributes, IAdmissionContext context)
    {
        if (!Supports(attributes) || attributes.Object is not V1Pod pod) return AdmissionMutation.None;
        var changed = false;
        foreach (var limitRange in LimitRangesOf(pod.Metadata.NamespaceProperty, context))
            changed |= ApplyDefaults(limitRange, pod);
        return changed ? AdmissionMutation.Mutated : AdmissionMutation.None;
    }

    public AdmissionVerdict? Validate(AdmissionAttributes attributes, IAdmissionContext context)
    {
        if (!Supports(attributes) || attributes.Old?.Metadata.DeletionTimestamp is not null) return null;
        foreach (var limitRange in LimitRangesOf(attributes.Object.Metadata.NamespaceProperty, context))
        {
            var errors = attributes.Object switch
            {
                V1Pod pod => PodViolations(limitRange, pod),
                V1PersistentVolumeClaim claim => ClaimViolations(limitRange, claim),
                _ => [],
            };
            if (errors.Count == 0) continue;
            // utilerrors.NewAggregate: one message alone, several as "[a, b]".
            var message = errors.Count == 1 ? errors[0] : "[" + string.Join(", ", errors) + "]";
            return new AdmissionVerdict(StoreErrors.Forbidden(attributes.Resource, attributes.Object.Metadata.Name ?? "", message),
                [], new Dictionary<string, string>());
        }
        return null;
    }

    private static bool Supports(AdmissionAttributes attributes) =>
        attributes.Subresource is null && attributes.Resource.Group.Length == 0 && attributes.Resource.Resource switch
        {
            "pods" => attributes.Operation == AdmissionAttributes.Create,
            "persistentvolumeclaims" => true,
            _ => false,
        };

    private static IEnumerable<V1LimitRange> LimitRangesOf(string? ns, IAdmissionContext context) =>
        ns is null ? [] : context.List("limitranges", ns).OfType<V1LimitRange>();

    /// <summary>kube's PodMutateLimitFunc: the Container items' default and defaultRequest fill what each container
    /// (and init container) does not state. Whether anything was set.</summary>
    public static bool ApplyDefaults(V1LimitRange limitRange, V1Pod pod)
    {
        var defaultLimits = new Dictionary<string, ResourceQuantity>();
        var defaultRequests = new Dictionary<string, ResourceQuantity>();
        foreach (var item in limitRange.Spec?.Limits ?? [])
        {
            if (item.Type != "Container") continue;
            foreach (var (name, value) in item.DefaultRequest ?? new Dictionary<string, ResourceQuantity>()) defaultRequests[name] = value;
            foreach (var (name, value) in item.DefaultProperty ?? new Dictionary<string, ResourceQuantity>()) defaultLimits[name] = value;
        }
        var notes = new List<string>();
        foreach (var container in pod.Spec?.Containers ?? []) Merge(container, "container", defaultLimits, defaultRequests, notes);
        foreach (var container in pod.Spec?.InitContainers ?? []) Merge(container, "init container", defaultLimits, defaultRequests, notes);
        if (notes.Count == 0) return false;
        pod.Metadata.Annotations ??= new Dictionary<string, string>();
        pod.Metadata.Annotations[Annotation] = "LimitRanger plugin set: " + string.Join("; ", notes);
        return true;
    }

    private static void Merge(V1Container container, string kind, Dictionary<string, ResourceQuantity> limits,
        Dictionary<string, ResourceQuantity> requests, List<string> notes)
    {
        var resources = container.Resources ??= new V1ResourceRequirements();
        var setLimits = Fill(resources.Limits ??= new Dictionary<string, ResourceQuantity>(), limits);
        var setRequests = Fill(resources.Requests ??= new Dictionary<string, ResourceQuantity>(), requests);
        if (setRequests.Count > 0) notes.Add($"{string.Join(", ", setRequests)} request for {kind} {container.Name}");
        if (setLimits.Count > 0) notes.Add($"{string.Join(", ", setLimits)} limit for {kind} {container.Name}");
        if (resources.Limits.Count == 0) resources.Limits = null;
        if (resources.Requests.Count == 0) resources.Requests = null;
    }

    private static List<string> Fill(IDictionary<string, ResourceQuantity> target, Dictionary<string, ResourceQuantity> defaults)
    {
        var set = new List<string>();
        foreach (var (name, value) in defaults)
            if (target.TryAdd(name, new ResourceQuantity(value.ToString()))) set.Add(name);
        set.Sort(StringComparer.Ordinal);
        return set;
    }

    /// <summary>kube's PodValidateLimitFunc: each container within the Container items, the pod's totals within the Pod items.</summary>
    public static List<string> PodViolations(V1LimitRange limitRange, V1Pod pod)
    {
        var errors = new List<string>();
        foreach (var item in limitRange.Spec?.Limits ?? [])
        {
            if (item.Type == "Container")
            {
                foreach (var container in (pod.Spec?.Containers ?? []).Concat(pod.Spec?.InitContainers ?? []))
                    Check(item, "Container", container.Resources?.Requests, container.Resources?.Limits, errors);
            }
            else if (item.Type == "Pod")
                Check(item, "Pod", Quota.PodRequests.Requests(pod), Quota.PodRequests.Limits(pod), errors);
        }
        return errors;
    }

    private static void Check(V1LimitRangeItem item, string type, IDictionary<string, ResourceQuantity>? requests,
        IDictionary<string, ResourceQuantity>? limits, List<string> errors)
    {
        requests ??= new Dictionary<string, ResourceQuantity>();
        limits ??= new Dictionary<string, ResourceQuantity>();
        foreach (var (name, min) in item.Min ?? new Dictionary<string, ResourceQuantity>())
            if (MinViolation(type, name, min, requests, limits) is { } e) errors.Add(e);
        foreach (var (name, max) in item.Max ?? new Dictionary<string, ResourceQuantity>())
            if (MaxViolation(type, name, max, requests, limits) is { } e) errors.Add(e);
        foreach (var (name, ratio) in item.MaxLimitRequestRatio ?? new Dictionary<string, ResourceQuantity>())
            if (RatioViolation(type, name, ratio, requests, limits) is { } e) errors.Add(e);
    }

    /// <summary>kube's PersistentVolumeClaimValidateLimitFunc: only the claim's storage requests are bounded.</summary>
    public static List<string> ClaimViolations(V1LimitRange limitRange, V1PersistentVolumeClaim claim)
    {
        var errors = new List<string>();
        var requests = claim.Spec?.Resources?.Requests ?? new Dictionary<string, ResourceQuantity>();
        foreach (var item in limitRange.Spec?.Limits ?? [])
        {
            if (item.Type != "PersistentVolumeClaim") continue;
            foreach (var (name, min) in item.Min ?? new Dictionary<string, ResourceQuantity>())
                if (MinViolation("PersistentVolumeClaim", name, min, requests, new Dictionary<string, ResourceQuantity>()) is { } e) errors.Add(e);
            foreach (var (name, max) in item.Max ?? new Dictionary<string, ResourceQuantity>())
            {
                if (!requests.TryGetValue(name, out var request))
                    errors.Add($"maximum {name} usage per PersistentVolumeClaim is {max}.  No request is specified");
                else if (Compare(request, max) > 0)
                    errors.Add($"maximum {name} usage per PersistentVolumeClaim is {max}, but request is {request}");
            }
        }
        return errors;
    }

    private static string? MinViolation(string type, string name, ResourceQuantity enforced,
        IDictionary<string, ResourceQuantity> requests, IDictionary<string, ResourceQuantity> limits)
    {
        if (!requests.TryGetValue(name, out var request)) return $"minimum {name} usage per {type} is {enforced}.  No request is specified";
        if (Compare(request, enforced) < 0) return $"minimum {name} usage per {type} is {enforced}, but request is {request}";
        if (limits.TryGetValue(name, out var limit) && Compare(limit, enforced) < 0)
            return $"minimum {name} usage per {type} is {enforced}, but limit is {limit}";
        return null;
    }

    private static string? MaxViolation(string type, string name, ResourceQuantity enforced,
        IDictionary<string, ResourceQuantity> requests, IDictionary<string, ResourceQuantity> limits)
    {
        if (!limits.TryGetValue(name, out var limit)) return $"maximum {name} usage per {type} is {enforced}.  No limit is specified";
        if (Compare(limit, enforced) > 0) return $"maximum {name} usage per {type} is {enforced}, but limit is {limit}";
        if (requests.TryGetValue(name, out var request) && Compare(request, enforced) > 0)
            return $"maximum {name} usage per {type} is {enforced}, but request is {request}";
        return null;
    }

    private static string? RatioViolation(string type, string name, ResourceQuantity enforced,
        IDictionary<string, ResourceQuantity> requests, IDictionary<string, ResourceQuantity> limits)
    {
        if (!requests.TryGetValue(name, out var request) || Milli(request) == 0)
            return $"{name} max limit to request ratio per {type} is {enforced}, but no request is specified or request is 0";
        if (!limits.TryGetValue(name, out var limit) || Milli(limit) == 0)
            return $"{name} max limit to request ratio per {type} is {enforced}, but no limit is specified or limit is 0";
        // Compared in milli-units, as Kubernetes does when the values fit; shown with Go's %f.
        var observed = (double)Milli(limit) / (double)Milli(request);
        if (observed * 1000 > (double)Milli(enforced))
            return $"{name} max limit to request ratio per {type} is {enforced}, but provided ratio is {observed.ToString("F6", CultureInfo.InvariantCulture)}";
        return null;
    }

    /// <summary>Quantities compared at milli precision (kube's requestLimitEnforcedValues rounds up to whole millis).</summary>
    private static int Compare(ResourceQuantity a, ResourceQuantity b) => Milli(a).CompareTo(Milli(b));

    private static decimal Milli(ResourceQuantity q) => Math.Ceiling(q.ToDecimal() * 1000);
}
