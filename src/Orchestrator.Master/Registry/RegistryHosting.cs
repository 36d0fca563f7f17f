using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Kinds;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Registry;

/// <summary>How the master puts the registry together: one <see cref="ResourceCatalog"/> of the built-in kinds, shared
/// by the API (routing, discovery, OpenAPI), the store (<see cref="IResourceCatalog"/>) and the controllers.</summary>
internal static class RegistryHosting
{
    /// <summary>A new catalog serving every built-in kind.</summary>
    public static ResourceCatalog BuiltInCatalog() => new(BuiltInResources.All);

    /// <summary>Registers a new built-in catalog as <see cref="ResourceCatalog"/> and <see cref="IResourceCatalog"/>.</summary>
    public static ResourceCatalog AddResourceRegistry(this IServiceCollection services)
    {
        var catalog = BuiltInCatalog();
        services.AddSingleton(catalog);
        services.AddSingleton<IResourceCatalog>(catalog);
        return catalog;
    }
}
