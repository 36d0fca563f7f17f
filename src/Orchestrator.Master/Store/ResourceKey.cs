namespace Orchestrator.Master.Store;

/// <summary>The identity of a stored object: its resource's store name (<see cref="IStoredResource.StoreName"/>),
/// namespace (null for cluster-scoped kinds) and name.</summary>
internal sealed record ResourceKey(string Resource, string? Namespace, string Name)
{
    public static ResourceKey Of(IStoredResource resource, string? @namespace, string name) =>
        new(resource.StoreName, resource.Namespaced ? @namespace : null, name);

    public override string ToString() => Namespace is null ? $"{Resource}/{Name}" : $"{Resource}/{Namespace}/{Name}";
}
