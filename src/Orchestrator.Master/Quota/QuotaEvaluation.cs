using k8s;
using k8s.Models;

namespace Orchestrator.Master.Quota;

/// <summary>Which resources an object is charged for and which quotas it falls under, as Kubernetes' quota evaluators
/// (pkg/quota/v1/evaluator/core: pods, services, persistentvolumeclaims; the generic object counter for every other
/// resource) measure it. Shared by the quota admission (charging a write) and the quota controller (recounting).</summary>
internal static class QuotaEvaluation
{
    private const string StorageClassSuffix = ".storageclass.storage.k8s.io/";

    private static readonly HashSet<string> PodResources =
    [
        "count/pods", "cpu", "memory", "ephemeral-storage", "requests.cpu", "requests.memory", "requests.ephemeral-storage",
        "limits.cpu", "limits.memory", "limits.ephemeral-storage", "pods",
    ];

    /// <summary>The resources cpu/memory quotas require every container to state (a compatibility rule of Kubernetes).</summary>
    private static readonly HashSet<string> ValidationSet = ["cpu", "memory", "requests.cpu", "requests.memory", "limits.cpu", "limits.memory"];

    private static readonly HashSet<string> ServiceResources = ["count/services", "services", "services.nodeports", "services.loadbalancers"];
    private static readonly HashSet<string> ClaimResources = ["count/persistentvolumeclaims", "persistentvolumeclaims", "requests.storage"];

    /// <summary>The core kinds whose object count quota also has its legacy name ("configmaps" beside "count/configmaps").</summary>
    private static readonly HashSet<string> LegacyCounts = ["configmaps", "secrets", "replicationcontrollers", "resourcequotas"];

    /// <summary>The quota name counting objects of a resource: count/&lt;resource&gt;[.&lt;group&gt;].</summary>
    public static string CountName(string group, string resource) => group.Length == 0 ? $"count/{resource}" : $"count/{resource}.{group}";

    /// <summary>Whether a write of this kind can change usage (kube's evaluator.Handles): pods, and every counted
    /// object, on create; services and claims on update too (a type or a size can change).</summary>
    public static bool Handles(string group, string resource, string operation, string? subresource)
    {
        if (subresource is not null) return false;
        if (operation == "CREATE") return true;
        return group.Length == 0 && resource is "services" or "persistentvolumeclaims";
    }

    /// <summary>The names of <paramref name="hard"/> this kind is charged for.</summary>
    public static List<string> MatchingResources(string group, string resource, IEnumerable<string> hard)
    {
        var count = CountName(group, resource);
        return hard.Where(name => name == count || (group.Length == 0 && resource switch
        {
            "pods" => PodResources.Contains(name) || name.StartsWith("hugepages-", StringComparison.Ordinal)
                || name.StartsWith("requests.hugepages-", StringComparison.Ordinal) || IsExtendedRequest(name),
            "services" => ServiceResources.Contains(name),
            "persistentvolumeclaims" => ClaimResources.Contains(name)
                || name.EndsWith(StorageClassSuffix + "requests.storage", StringComparison.Ordinal)
                || name.EndsWith(StorageClassSuffix + "persistentvolumeclaims", StringComparison.Ordinal),
            _ => LegacyCounts.Contains(resource) && name == resource,
        })).ToList();
    }

    /// <summary>The usage one object adds (kube's evaluator.Usage). Finished pods count only as count/pods.</summary>
    public static Dictionary<string, ResourceQuantity> Usage(string group, string resource, IKubernetesObject<V1ObjectMeta> obj, DateTime now)
    {
        var one = ResourceLists.Quantity(1);
        var result = new Dictionary<string, ResourceQuantity> { [CountName(group, resource)] = one };
        if (group.Length != 0) return result;
        switch (obj)
        {
            case V1Pod pod:
                if (!Charged(pod, now)) return result;
                return ResourceLists.Add(result, ComputeUsage(PodRequests.Requests(pod), PodRequests.Limits(pod)));
            case V1Service service:
                result["services"] = one;
                var ports = service.Spec?.Ports?.Count ?? 0;
                var nodePorts = service.Spec?.Type switch
                {
                    "NodePort" => ports,
                    "LoadBalancer" when service.Spec.AllocateLoadBalancerNodePorts == false =>
                        service.Spec.Ports?.Count(p => p.NodePort is > 0) ?? 0,
                    "LoadBalancer" => ports,
                    _ => 0,
                };
                result["services.nodeports"] = ResourceLists.Quantity(nodePorts);
                result["services.loadbalancers"] = ResourceLists.Quantity(service.Spec?.Type == "LoadBalancer" ? 1 : 0);
                return result;
            case V1PersistentVolumeClaim claim:
                result["persistentvolumeclaims"] = one;
                var storageClass = claim.Metadata.Annotations is { } a && a.TryGetValue("volume.beta.kubernetes.io/storage-class", out var beta)
                    ? beta : claim.Spec?.StorageClassName ?? "";
                if (storageClass.Length > 0) result[storageClass + StorageClassSuffix + "persistentvolumeclaims"] = one;
                if (claim.Spec?.Resources?.Requests is { } requests && requests.TryGetValue("storage", out var storage))
                {
                    result["requests.storage"] = storage;
                    if (storageClass.Length > 0) result[storageClass + StorageClassSuffix + "requests.storage"] = storage;
                }
                return result;
            default:
                if (LegacyCounts.Contains(resource)) result[resource] = one;
                return result;
        }
    }

    /// <summary>Kubernetes' QuotaV1Pod: a pod in a terminal phase, or past its deletion grace period, is no longer charged.</summary>
    public static bool Charged(V1Pod pod, DateTime now)
    {
        if (pod.Status?.Phase is "Succeeded" or "Failed") return false;
        if (pod.Metadata.DeletionTimestamp is { } deleted && pod.Metadata.DeletionGracePeriodSeconds is { } grace)
            return now <= deleted.ToUniversalTime().AddSeconds(grace);
        return true;
    }

    /// <summary>kube's podComputeUsageHelper: one pod, and the requests and limits it states.</summary>
    private static Dictionary<string, ResourceQuantity> ComputeUsage(IDictionary<string, ResourceQuantity>? requests,
        IDictionary<string, ResourceQuantity>? limits)
    {
        var result = new Dictionary<string, ResourceQuantity> { ["pods"] = ResourceLists.Quantity(1) };
        requests ??= new Dictionary<string, ResourceQuantity>();
        limits ??= new Dictionary<string, ResourceQuantity>();
        foreach (var name in new[] { "cpu", "memory", "ephemeral-storage" })
        {
            if (requests.TryGetValue(name, out var request))
            {
                result[name] = request;
                result["requests." + name] = request;
            }
            if (limits.TryGetValue(name, out var limit)) result["limits." + name] = limit;
        }
        foreach (var (name, request) in requests)
        {
            if (name.StartsWith("hugepages-", StringComparison.Ordinal))
            {
                result[name] = request;
                result["requests." + name] = request;
            }
            else if (IsExtendedResource(name)) result["requests." + name] = request;
        }
        return result;
    }

    private static bool IsExtendedResource(string name) =>
        name.Contains('/') && !name.StartsWith("kubernetes.io/", StringComparison.Ordinal) && !name.StartsWith("requests.", StringComparison.Ordinal);

    private static bool IsExtendedRequest(string name) =>
        name.StartsWith("requests.", StringComparison.Ordinal) && IsExtendedResource(name["requests.".Length..]);

    /// <summary>The quota's scopes as selectors: spec.scopes (operator Exists) and spec.scopeSelector.</summary>
    public static List<V1ScopedResourceSelectorRequirement> ScopeSelectors(V1ResourceQuota quota)
    {
        var result = (quota.Spec?.Scopes ?? []).Select(s => new V1ScopedResourceSelectorRequirement { ScopeName = s, OperatorProperty = "Exists" }).ToList();
        result.AddRange(quota.Spec?.ScopeSelector?.MatchExpressions ?? []);
        return result;
    }

    /// <summary>Whether the quota counts this object (kube's generic.Matches): it limits something the object is charged
    /// for, and the object is in every scope. Only pods have scopes; a scoped quota counts nothing else.</summary>
    public static bool Matches(V1ResourceQuota quota, string group, string resource, IKubernetesObject<V1ObjectMeta> obj)
    {
        var hard = quota.Status?.Hard ?? quota.Spec?.Hard ?? new Dictionary<string, ResourceQuantity>();
        return MatchingResources(group, resource, hard.Keys).Count > 0 && InScopes(quota, obj);
    }

    public static bool InScopes(V1ResourceQuota quota, IKubernetesObject<V1ObjectMeta> obj) =>
        ScopeSelectors(quota).All(selector => obj is V1Pod pod && InScope(pod, selector));

    private static bool InScope(V1Pod pod, V1ScopedResourceSelectorRequirement selector)
    {
        var terminating = pod.Spec?.ActiveDeadlineSeconds is >= 0;
        var priorityClass = pod.Spec?.PriorityClassName ?? "";
        return selector.ScopeName switch
        {
            "Terminating" => terminating,
            "NotTerminating" => !terminating,
            "BestEffort" => PodRequests.IsBestEffort(pod),
            "NotBestEffort" => !PodRequests.IsBestEffort(pod),
            "PriorityClass" => selector.OperatorProperty switch
            {
                "Exists" => priorityClass.Length > 0,
                "DoesNotExist" => priorityClass.Length == 0,
                "In" => priorityClass.Length > 0 && (selector.Values ?? []).Contains(priorityClass),
                "NotIn" => priorityClass.Length == 0 || !(selector.Values ?? []).Contains(priorityClass),
                _ => false,
            },
            _ => false,
        };
    }

    /// <summary>kube's podEvaluator.Constraints: when a quota limits cpu or memory, every container must state it.
    /// Null when the pod complies, else "must specify limits.cpu for: a,b; requests.memory for: a".</summary>
    public static string? MissingCompute(IEnumerable<string> limited, V1Pod pod)
    {
        var required = limited.Where(ValidationSet.Contains).ToHashSet();
        if (required.Count == 0) return null;
        var missing = new SortedDictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        foreach (var container in (pod.Spec?.Containers ?? []).Concat(pod.Spec?.InitContainers ?? []))
        {
            var stated = ComputeUsage(container.Resources?.Requests, container.Resources?.Limits);
            foreach (var name in required.Where(n => !stated.ContainsKey(n)))
            {
                if (!missing.TryGetValue(name, out var names)) missing[name] = names = new SortedSet<string>(StringComparer.Ordinal);
                names.Add(container.Name);
            }
        }
        return missing.Count == 0 ? null : "must specify " + string.Join("; ", missing.Select(m => $"{m.Key} for: {string.Join(",", m.Value)}"));
    }

    /// <summary>A quota's usage in its namespace (the controller's CalculateUsage): for each kind that can use what the
    /// quota limits, the objects in its scopes, summed; every limited name the kinds know starts at zero.</summary>
    public static Dictionary<string, ResourceQuantity> CalculateUsage(V1ResourceQuota quota,
        IEnumerable<(string Group, string Resource, IEnumerable<IKubernetesObject<V1ObjectMeta>> Objects)> kinds, DateTime now)
    {
        var hard = quota.Spec?.Hard ?? new Dictionary<string, ResourceQuantity>();
        var used = new Dictionary<string, ResourceQuantity>();
        foreach (var (group, resource, objects) in kinds)
        {
            var matching = MatchingResources(group, resource, hard.Keys);
            if (matching.Count == 0) continue;
            var usage = matching.ToDictionary(n => n, _ => ResourceLists.Quantity(0));
            foreach (var obj in objects)
                if (InScopes(quota, obj)) usage = ResourceLists.Add(usage, ResourceLists.Mask(Usage(group, resource, obj, now), matching));
            foreach (var (name, value) in usage) used[name] = value;
        }
        return used;
    }

    /// <summary>The (group, resource) pairs a quota's hard names need counted: the core kinds with quota names of
    /// their own, and those its count/&lt;resource&gt;.&lt;group&gt; names name.</summary>
    public static IEnumerable<(string Group, string Resource)> CountedKinds(IEnumerable<string> hard)
    {
        var kinds = new HashSet<(string, string)>();
        foreach (var name in hard)
        {
            if (name.StartsWith("count/", StringComparison.Ordinal))
            {
                var rest = name["count/".Length..];
                var dot = rest.IndexOf('.');
                kinds.Add(dot < 0 ? ("", rest) : (rest[(dot + 1)..], rest[..dot]));
                continue;
            }
            foreach (var core in new[] { "pods", "services", "persistentvolumeclaims", "configmaps", "secrets", "replicationcontrollers", "resourcequotas" })
                if (MatchingResources("", core, [name]).Count > 0) kinds.Add(("", core));
        }
        return kinds;
    }
}
