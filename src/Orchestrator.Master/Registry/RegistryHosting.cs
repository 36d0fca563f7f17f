using Akka.Actor;
using Akka.Hosting;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.CustomResources;
using Orchestrator.Master.Registry.Kinds;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Registry;

/// <summary>How the master puts the registry together: one <see cref="ResourceCatalog"/> of the built-in kinds and
/// CustomResourceDefinitions, shared by the API (routing, discovery, OpenAPI), the store (<see cref="IResourceCatalog"/>)
/// and the controllers; and the controller that serves each definition's resources.</summary>
internal static class RegistryHosting
{
    /// <summary>A new catalog serving every built-in kind.</summary>
    public static ResourceCatalog BuiltInCatalog() => new([.. BuiltInResources.All, .. CustomResourceDefinitionResources.All]);

    /// <summary>Registers a new built-in catalog as <see cref="ResourceCatalog"/> and <see cref="IResourceCatalog"/>.</summary>
    public static ResourceCatalog AddResourceRegistry(this IServiceCollection services)
    {
        var catalog = BuiltInCatalog();
        services.AddSingleton(catalog);
        services.AddSingleton<IResourceCatalog>(catalog);
        return catalog;
    }

    /// <summary>Starts the CustomResourceDefinition controller against the store (call after <c>WithObjectStore</c>).</summary>
    public static AkkaConfigurationBuilder WithCustomResources(this AkkaConfigurationBuilder builder, ResourceCatalog catalog) =>
        builder.WithActors((system, registry) => StartCustomResources(system, registry.Get<ObjectStore>(), catalog));

    public static IActorRef StartCustomResources(ActorSystem system, IActorRef store, ResourceCatalog catalog) =>
        system.ActorOf(CustomResourceDefinitionController.Props(store, catalog), "customresourcedefinition-controller");
}
