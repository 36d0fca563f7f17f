using Orchestrator.Cli.Parsing;

namespace Orchestrator.Cli.Kube;

/// <summary>A resource orchctl knows by name, plural, short name or kind, and where it lives in the REST API.</summary>
internal sealed record ResourceType(string Plural, string Singular, string Kind, string Group, string Version, bool Namespaced, params string[] ShortNames)
{
    public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

    /// <summary>kubectl's name for the type in messages and -o name: "deployment.apps", "service".</summary>
    public string Qualified => Group.Length == 0 ? Singular : $"{Singular}.{Group}";

    /// <summary>"deployments.apps" as the server's NotFound messages say it.</summary>
    public string QualifiedPlural => Group.Length == 0 ? Plural : $"{Plural}.{Group}";

    public string CollectionPath(string? ns)
    {
        var root = Group.Length == 0 ? $"/api/{Version}" : $"/apis/{Group}/{Version}";
        return Namespaced && ns is not null ? $"{root}/namespaces/{ns}/{Plural}" : $"{root}/{Plural}";
    }

    public string ObjectPath(string? ns, string name) => $"{CollectionPath(ns)}/{Uri.EscapeDataString(name)}";

    public static readonly IReadOnlyList<ResourceType> All =
    [
        new("nodes", "node", "Node", "", "v1", false, "no"),
        new("pods", "pod", "Pod", "", "v1", true, "po"),
        new("deployments", "deployment", "Deployment", "apps", "v1", true, "deploy"),
        new("replicasets", "replicaset", "ReplicaSet", "apps", "v1", true, "rs"),
        new("replicationcontrollers", "replicationcontroller", "ReplicationController", "", "v1", true, "rc"),
        new("services", "service", "Service", "", "v1", true, "svc"),
        new("endpoints", "endpoints", "Endpoints", "", "v1", true, "ep"),
        new("events", "event", "Event", "", "v1", true, "ev"),
        new("namespaces", "namespace", "Namespace", "", "v1", false, "ns"),
    ];

    /// <summary>Resolves what a user typed: "deploy", "deployments", "deployment.apps", "svc", "Service".</summary>
    public static ResourceType? Find(string typed)
    {
        var name = typed.ToLowerInvariant();
        var dot = name.IndexOf('.');
        if (dot > 0) name = name[..dot];
        return All.FirstOrDefault(r => r.Plural == name || r.Singular == name || r.Kind.Equals(name, StringComparison.OrdinalIgnoreCase) || r.ShortNames.Contains(name));
    }

    public static ResourceType Resolve(string typed) =>
        Find(typed) ?? throw new CliException($"error: the server doesn't have a resource type \"{typed}\"");

    public static ResourceType? ForKind(string apiVersion, string kind) =>
        All.FirstOrDefault(r => r.Kind == kind && r.ApiVersion == apiVersion);
}
