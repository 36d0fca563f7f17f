namespace Orchestrator.Master.Api.Http;

/// <summary>The annotations of a request's audit event (kube's audit.AddAuditAnnotation): what authorization decided,
/// what admission said. Kept on the request; the audit log reads them when it writes the event.</summary>
internal static class AuditAnnotations
{
    public static void Add(HttpContext context, string key, string value)
    {
        if (context.Items[typeof(AuditAnnotations)] is not Dictionary<string, string> annotations)
            context.Items[typeof(AuditAnnotations)] = annotations = new Dictionary<string, string>(StringComparer.Ordinal);
        annotations.TryAdd(key, value);
    }

    public static IReadOnlyDictionary<string, string>? Of(HttpContext context) =>
        context.Items[typeof(AuditAnnotations)] as Dictionary<string, string>;
}

/// <summary>The object a request wrote, for its audit event's objectRef (a create names its object only in the body).</summary>
internal sealed record AuditObjects(string? Namespace, string? Name)
{
    public static void Record(HttpContext context, k8s.IKubernetesObject<k8s.Models.V1ObjectMeta> obj) =>
        context.Items[typeof(AuditObjects)] = new AuditObjects(obj.Metadata?.NamespaceProperty, obj.Metadata?.Name);

    public static AuditObjects? Of(HttpContext context) => context.Items[typeof(AuditObjects)] as AuditObjects;
}
