using k8s;
using k8s.Models;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.ControlLoop;

/// <summary>ownerReference helpers: the controller reference that ties a child to the one object managing it.</summary>
internal static class OwnerReferences
{
    public static V1OwnerReference? ControllerOf(IKubernetesObject<V1ObjectMeta> obj) =>
        obj.Metadata.OwnerReferences?.FirstOrDefault(r => r.Controller == true);

    public static bool IsControlledBy(IKubernetesObject<V1ObjectMeta> obj, IKubernetesObject<V1ObjectMeta> owner) =>
        ControllerOf(obj)?.Uid is { } uid && uid == owner.Metadata.Uid;

    /// <summary>controller=true, blockOwnerDeletion=true, as Kubernetes' controllers set it.</summary>
    public static V1OwnerReference NewControllerRef(IKubernetesObject<V1ObjectMeta> owner) => new()
    {
        ApiVersion = string.IsNullOrEmpty(owner.ApiVersion) ? ModelTypes.ApiVersionOf(owner.GetType()) : owner.ApiVersion,
        Kind = string.IsNullOrEmpty(owner.Kind) ? ModelTypes.KindOf(owner.GetType()) : owner.Kind,
        Name = owner.Metadata.Name,
        Uid = owner.Metadata.Uid,
        Controller = true,
        BlockOwnerDeletion = true,
    };

    /// <summary>A copy of <paramref name="obj"/> with <paramref name="owner"/> as its controller.</summary>
    public static T Adopted<T>(T obj, IKubernetesObject<V1ObjectMeta> owner) where T : class, IKubernetesObject<V1ObjectMeta>
    {
        var copy = KubeObjects.Clone(obj);
        copy.Metadata.OwnerReferences ??= new List<V1OwnerReference>();
        copy.Metadata.OwnerReferences.Add(NewControllerRef(owner));
        return copy;
    }

    /// <summary>A copy of <paramref name="obj"/> without any reference to the owner with <paramref name="uid"/>.</summary>
    public static T Released<T>(T obj, string uid) where T : class, IKubernetesObject<V1ObjectMeta>
    {
        var copy = KubeObjects.Clone(obj);
        copy.Metadata.OwnerReferences = copy.Metadata.OwnerReferences?.Where(r => r.Uid != uid).ToList();
        return copy;
    }
}
