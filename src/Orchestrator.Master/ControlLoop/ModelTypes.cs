using k8s.Models;

namespace Orchestrator.Master.ControlLoop;

/// <summary>The apiVersion and kind of a KubernetesClient model type, from its KubernetesEntity attribute (for objects
/// a controller built itself, before the store stamped them).</summary>
internal static class ModelTypes
{
    public static string ApiVersionOf(Type type) => Entity(type) is { } e
        ? (string.IsNullOrEmpty(e.Group) ? e.ApiVersion : $"{e.Group}/{e.ApiVersion}")
        : throw new ArgumentException($"{type.Name} is not a Kubernetes model");

    public static string KindOf(Type type) => Entity(type)?.Kind ?? throw new ArgumentException($"{type.Name} is not a Kubernetes model");

    private static KubernetesEntityAttribute? Entity(Type type) =>
        (KubernetesEntityAttribute?)Attribute.GetCustomAttribute(type, typeof(KubernetesEntityAttribute));
}
