using k8s;
using k8s.Models;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Store;

/// <summary>The identity of a stored object: its resource (plural, e.g. "pods"; unique across groups except
/// events, see <see cref="ApiResource"/>), namespace (null for cluster-scoped kinds) and name.</summary>
internal sealed record ResourceKey(string Resource, string? Namespace, string Name)
{
    public static ResourceKey Of(ApiResource resource, IKubernetesObject<V1ObjectMeta> obj) =>
        new(StoreName(resource), resource.Namespaced ? obj.Metadata.NamespaceProperty : null, obj.Metadata.Name);

    public static ResourceKey Of(ApiResource resource, string? @namespace, string name) =>
        new(StoreName(resource), resource.Namespaced ? @namespace : null, name);

    /// <summary>The store's resource name: the plural, qualified by group for non-core groups that reuse a
    /// core plural (events.k8s.io events are stored apart from core events).</summary>
    public static string StoreName(ApiResource resource) =>
        resource.Group.Length == 0 || ApiResources.All.All(r => r.Group.Length != 0 || r.Resource != resource.Resource)
            ? resource.Resource
            : $"{resource.Resource}.{resource.Group}";

    public override string ToString() => Namespace is null ? $"{Resource}/{Name}" : $"{Resource}/{Namespace}/{Name}";
}
