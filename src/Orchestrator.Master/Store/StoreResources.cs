using k8s;
using k8s.Models;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Store;

/// <summary>Maps the store's resource names to <see cref="ApiResource"/>s and reaches the spec and status of any
/// model generically (every model with a spec or status names the property Spec / Status).</summary>
internal static class StoreResources
{
    private static readonly Dictionary<string, ApiResource> ByStoreName =
        ApiResources.All.ToDictionary(ResourceKey.StoreName);

    public static ApiResource? Find(string storeName) => ByStoreName.GetValueOrDefault(storeName);

    public static bool HasSpec(Type type) => type.GetProperty("Spec") is not null;

    public static object? GetSpec(object obj) => obj.GetType().GetProperty("Spec")?.GetValue(obj);

    public static object? GetStatus(object obj) => obj.GetType().GetProperty("Status")?.GetValue(obj);

    public static void SetStatus(object obj, object? status) => obj.GetType().GetProperty("Status")?.SetValue(obj, status);

    /// <summary>Sets apiVersion and kind from the resource, as the API server does on every stored object.</summary>
    public static void StampTypeMeta(ApiResource r, IKubernetesObject<V1ObjectMeta> obj)
    {
        obj.ApiVersion = r.GroupVersion;
        obj.Kind = r.Kind;
    }
}
