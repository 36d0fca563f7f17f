using k8s;
using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Tests.Registry;

/// <summary>The store's view for a strategy under test: the given Services, nothing else.</summary>
internal sealed class FakeContext(params V1Service[] services) : IAdmissionContext
{
    public IReadOnlyList<IKubernetesObject<V1ObjectMeta>> List(string storeName, string? @namespace = null) =>
        storeName == "services" ? services : [];
}

/// <summary>Runs a resource's strategy as the store does: on create, PrepareForCreate then Admit; on update, Admit.</summary>
internal static class Strategies
{
    public static List<StoreErrorCause> Admit(ResourceDescription resource, IKubernetesObject<V1ObjectMeta> obj,
        IKubernetesObject<V1ObjectMeta>? old = null, IAdmissionContext? context = null)
    {
        if (old is null) resource.Strategy.PrepareForCreate(obj, []);
        return resource.Strategy.Admit(obj, old, context ?? new FakeContext()).ToList();
    }
}
