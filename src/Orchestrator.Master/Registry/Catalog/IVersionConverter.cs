using k8s;
using k8s.Models;

namespace Orchestrator.Master.Registry.Catalog;

/// <summary>
/// Converts the objects of a served version that is not its resource's storage version (autoscaling/v1
/// HorizontalPodAutoscaler over the stored autoscaling/v2 one) to and from the storage version's type, as
/// kube-apiserver's conversion functions do: the API converts what it sends to the store and everything it answers
/// with; the store, the controllers and watches hold the storage version only.
/// </summary>
internal interface IVersionConverter
{
    IKubernetesObject<V1ObjectMeta> ToStorage(IKubernetesObject<V1ObjectMeta> served);

    IKubernetesObject<V1ObjectMeta> FromStorage(IKubernetesObject<V1ObjectMeta> stored);

    /// <summary>The served version's own decoding defaults, in place (kube's defaulting functions of that version).</summary>
    void DefaultServed(IKubernetesObject<V1ObjectMeta> served)
    {
    }
}
