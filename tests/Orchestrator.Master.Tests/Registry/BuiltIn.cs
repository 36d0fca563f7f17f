using Orchestrator.Master.Registry;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Kinds;
using Orchestrator.Master.Registry.Kinds.Apps;
using Orchestrator.Master.Registry.Kinds.Core;
using Orchestrator.Master.Registry.Kinds.Events;

namespace Orchestrator.Master.Tests.Registry;

/// <summary>The built-in descriptions by the names the tests use, and lookups over them.</summary>
internal static class BuiltIn
{
    public static ResourceDescription Namespaces => CoreResources.Namespaces;
    public static ResourceDescription Nodes => CoreResources.Nodes;
    public static ResourceDescription Pods => CoreResources.Pods;
    public static ResourceDescription Services => CoreResources.Services;
    public static ResourceDescription Endpoints => CoreResources.Endpoints;
    public static ResourceDescription Events => CoreResources.Events;
    public static ResourceDescription ReplicationControllers => CoreResources.ReplicationControllers;
    public static ResourceDescription ConfigMaps => CoreResources.ConfigMaps;
    public static ResourceDescription Secrets => CoreResources.Secrets;
    public static ResourceDescription Deployments => AppsResources.Deployments;
    public static ResourceDescription ReplicaSets => AppsResources.ReplicaSets;
    public static ResourceDescription EventsV1 => EventsResources.Events;

    public static IReadOnlyList<ResourceDescription> All => BuiltInResources.All;

    /// <summary>A new catalog of the built-in kinds (each store under test gets its own).</summary>
    public static ResourceCatalog NewCatalog() => RegistryHosting.BuiltInCatalog();

    /// <summary>The description of a model type (core events win over events.k8s.io).</summary>
    public static ResourceDescription ForType(Type type) => All.First(r => r.ObjectType == type);

    public static ResourceDescription For<T>() => ForType(typeof(T));

    public static ResourceDescription? FindByKind(string apiVersion, string kind) =>
        All.FirstOrDefault(r => r.GroupVersion == apiVersion && r.Kind == kind);
}
