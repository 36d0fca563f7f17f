using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Orchestrator.Master.Registry.Tables;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Registry.Catalog;

/// <summary>
/// One resource the API server serves, described once: where it lives (group, version, plural), how discovery
/// names it, its subresources, how its objects are held (the CLR model of the KubernetesClient package, or
/// <see cref="CustomObject"/>), stored and admitted (<see cref="Strategy"/>), printed (<see cref="Printer"/>),
/// selected, decoded from protobuf and described in OpenAPI. Routing, discovery, OpenAPI, Tables, protobuf bodies and
/// the store all read descriptions from the <see cref="ResourceCatalog"/>; nothing else is kind-specific.
/// </summary>
internal sealed record ResourceDescription : IStoredResource
{
    public static readonly IReadOnlyList<string> AllVerbs =
        ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

    public static readonly IReadOnlyList<string> ReadVerbs = ["get", "list"];

    public required string Group { get; init; }
    public required string Version { get; init; }

    /// <summary>The plural, as in URLs ("deployments").</summary>
    public required string Resource { get; init; }

    public required string Kind { get; init; }
    public required bool Namespaced { get; init; }

    /// <summary>The type objects are held in: a KubernetesClient model, or <see cref="CustomObject"/>.</summary>
    public required Type ObjectType { get; init; }

    public required IResourceStrategy Strategy { get; init; }

    public string Singular { get => field ?? Kind.ToLowerInvariant(); init; }
    public string ListKind { get => field ?? Kind + "List"; init; }
    public IReadOnlyList<string> ShortNames { get; init; } = [];
    public IReadOnlyList<string> Categories { get; init; } = [];
    public IReadOnlyList<string> Verbs { get; init; } = AllVerbs;
    public IReadOnlyList<SubresourceDescription> Subresources { get; init; } = [];

    /// <summary>The store's name for the resource: the plural unless given (see <see cref="IStoredResource.StoreName"/>).
    /// Every served version of a resource shares it.</summary>
    public string StoreName { get => field ?? Resource; init; }

    /// <summary>Whether objects are stored in this version (one per store name); other served versions are converted.</summary>
    public bool Storage { get; init; } = true;

    /// <summary>For a served version that is not stored (<see cref="Storage"/> false) and whose type differs from the
    /// storage version's: how its objects convert to and from the stored ones.</summary>
    public IVersionConverter? Conversion { get; init; }

    /// <summary>For a custom resource converted by a webhook: where the webhook is and the storage version (every served
    /// version, the stored one too, since objects stored in an older version are converted on read).</summary>
    public WebhookConversion? WebhookConversion { get; init; }

    /// <summary>The columns of <c>kubectl get</c>: the kind's printer, or NAME and AGE.</summary>
    public ITablePrinter Printer { get; init; } = DefaultTablePrinter.Instance;

    /// <summary>The warning every request to this version gets (a custom resource version marked deprecated), or null.</summary>
    public string? DeprecationWarning { get; init; }

    /// <summary>Fields a fieldSelector may name besides metadata.name and metadata.namespace.</summary>
    public IReadOnlyList<string> SelectableFields { get; init; } = [];

    /// <summary>Selectable fields whose value lives under another path of the served object (an event's "source" is
    /// its source's component).</summary>
    public IReadOnlyDictionary<string, string> SelectableFieldPaths { get; init; } = new Dictionary<string, string>();

    /// <summary>The full name of the wire message of protobuf bodies ("k8s.io.api.apps.v1.Deployment"), null when the
    /// kind is served as JSON only (custom resources, as in Kubernetes).</summary>
    public string? ProtobufMessage { get; init; }

    /// <summary>The OpenAPI v3 schema of a custom resource; null for built-in kinds, whose schemas are reflected from
    /// <see cref="ObjectType"/>.</summary>
    public JsonObject? Schema { get; init; }

    /// <summary>Finds the fields of a body the kind does not have (fieldValidation); null for built-in kinds, whose
    /// fields are their model's.</summary>
    public IFieldValidator? FieldValidator { get; init; }

    public string GroupVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

    /// <summary>The path prefix of the group version: "/api/v1" or "/apis/apps/v1".</summary>
    public string GroupVersionPath => Group.Length == 0 ? $"/api/{Version}" : $"/apis/{Group}/{Version}";

    /// <summary>"deployments.apps" or "pods": how Kubernetes names a resource in messages.</summary>
    public string QualifiedResource => Group.Length == 0 ? Resource : $"{Resource}.{Group}";

    public SubresourceDescription? Subresource(string name) => Subresources.FirstOrDefault(s => s.Name == name);

    public bool Allows(string verb) => Verbs.Contains(verb);

    /// <summary>kube-apiserver's defaulting of a decoded object (<see cref="IResourceStrategy.Default"/>), on the request's
    /// object before admission and on what each mutating webhook returns. An object of a served version held in another
    /// type than its storage version's (<see cref="Conversion"/>: autoscaling/v1, events.k8s.io) gets its version's own
    /// defaults (<see cref="IVersionConverter.DefaultServed"/>), not the storage type's; the store defaults it after
    /// conversion.</summary>
    public void Default(IKubernetesObject<V1ObjectMeta> obj)
    {
        if (Strategy.Accepts(obj)) Strategy.Default(obj);
        else Conversion?.DefaultServed(obj);
    }

    /// <summary><see cref="Default"/> of a request's object as it is decoded (<see cref="IResourceStrategy.DefaultDecoded"/>:
    /// a custom resource's unknown fields pruned first).</summary>
    public void DefaultDecoded(IKubernetesObject<V1ObjectMeta> obj)
    {
        if (Strategy.Accepts(obj)) Strategy.DefaultDecoded(obj);
        else Conversion?.DefaultServed(obj);
    }

    public override string ToString() => $"{QualifiedResource}/{Version}";
}

/// <summary>The fields of a JSON body its kind does not know, as paths (<c>spec.foo</c>, <c>spec.items[0].bar</c>).</summary>
internal interface IFieldValidator
{
    IReadOnlyList<string> UnknownFields(JsonObject body);
}

/// <summary>A subresource: what it answers with (group/version/kind; null group and version mean the parent's)
/// and its verbs. <see cref="Scale"/> is set for the scale subresource.</summary>
internal sealed record SubresourceDescription(string Name, string? Group, string? Version, string Kind,
    IReadOnlyList<string> Verbs, ScaleSubresource? Scale = null)
{
    private static readonly IReadOnlyList<string> ReadWrite = ["get", "patch", "update"];

    /// <summary>/status: the parent kind, read and written.</summary>
    public static SubresourceDescription Status(string kind) => new("status", null, null, kind, ReadWrite);

    /// <summary>/scale: an autoscaling/v1 Scale over the parent's fields at <paramref name="paths"/>.</summary>
    public static SubresourceDescription ScaleOf(ScaleSubresource paths) =>
        new("scale", "autoscaling", "v1", "Scale", ReadWrite, paths);
}

/// <summary>
/// Where a Scale reads and writes its parent (as a CRD's <c>subresources.scale</c> says): JSON paths of the desired
/// replicas, the observed replicas and the label selector (a string, or a LabelSelector or label map for built-in
/// kinds, printed in the selector syntax).
/// </summary>
internal sealed record ScaleSubresource(string SpecReplicasPath, string StatusReplicasPath, string? LabelSelectorPath);
