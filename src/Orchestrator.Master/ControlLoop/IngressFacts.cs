using k8s.Models;

namespace Orchestrator.Master.ControlLoop;

/// <summary>
/// Which Ingresses the cluster's own ingress controller (class <c>orchestrator</c>, controller
/// <see cref="ControllerName"/>) serves, and which TLS Secrets they reference: the IngressController writes their status
/// and the NodeGateway sends them (and those Secrets only) to the nodes. Served: spec.ingressClassName names an
/// IngressClass of our controller; or, without it, the legacy annotation <c>kubernetes.io/ingress.class</c> names one;
/// or neither is set and an IngressClass of ours is the default (the admission plugin sets the class at create, so
/// this covers Ingresses made before the class existed).
/// </summary>
internal static class IngressFacts
{
    public const string ClassName = "orchestrator";
    public const string ControllerName = "orchestrator.dev/ingress";
    public const string DefaultClassAnnotation = "ingressclass.kubernetes.io/is-default-class";
    public const string LegacyClassAnnotation = "kubernetes.io/ingress.class";
    public const string Ingresses = "ingresses";
    public const string IngressClasses = "ingressclasses";

    public static bool Served(V1Ingress ingress, IEnumerable<V1IngressClass> classes)
    {
        var ours = classes.Where(c => c.Spec?.Controller == ControllerName).ToList();
        if (ingress.Spec?.IngressClassName is { } name) return ours.Any(c => c.Metadata.Name == name);
        if (ingress.Metadata.Annotations?.TryGetValue(LegacyClassAnnotation, out var legacy) == true)
            return ours.Any(c => c.Metadata.Name == legacy);
        return ours.Any(c => c.Metadata.Annotations?.TryGetValue(DefaultClassAnnotation, out var v) == true && v == "true");
    }

    /// <summary>The names of the Secrets an Ingress's TLS section names, in its namespace.</summary>
    public static IEnumerable<string> TlsSecrets(V1Ingress ingress) =>
        (ingress.Spec?.Tls ?? []).Select(t => t.SecretName).Where(n => !string.IsNullOrEmpty(n)).Distinct()!;

    /// <summary>The IngressClass created at start when there is none of ours: default unless another class already is.</summary>
    public static V1IngressClass DefaultClass(bool markDefault) => new()
    {
        ApiVersion = "networking.k8s.io/v1",
        Kind = "IngressClass",
        Metadata = new V1ObjectMeta
        {
            Name = ClassName,
            Annotations = markDefault ? new Dictionary<string, string> { [DefaultClassAnnotation] = "true" } : null,
        },
        Spec = new V1IngressClassSpec { Controller = ControllerName },
    };
}
