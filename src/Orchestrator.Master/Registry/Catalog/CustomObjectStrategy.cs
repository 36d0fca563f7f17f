using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Orchestrator.Master.Registry.Validation;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Registry.Catalog;

/// <summary>
/// The generic strategy of objects held as <see cref="CustomObject"/>, as apiextensions-apiserver's customresource
/// strategy: with a status subresource, status is cleared on create, kept on updates of the main resource and
/// replaced only through /status; metadata.generation counts every change but those of metadata (and of status,
/// where it is a subresource). Subclasses add the schema's validation (<see cref="Validate"/>).
/// </summary>
internal class CustomObjectStrategy(bool statusSubresource) : IResourceStrategy
{
    /// <summary>Whether status is a subresource for objects of this one's version (versions may differ).</summary>
    protected virtual bool StatusIsSubresource(CustomObject obj) => statusSubresource;

    public bool Accepts(IKubernetesObject<V1ObjectMeta> obj) => obj is CustomObject;

    bool IResourceStrategy.StatusIsSubresource(IKubernetesObject<V1ObjectMeta> obj) => StatusIsSubresource((CustomObject)obj);

    public bool HasGeneration => true;

    public void PrepareForCreate(IKubernetesObject<V1ObjectMeta> obj, List<string> warnings)
    {
        var custom = (CustomObject)obj;
        if (StatusIsSubresource(custom)) custom.Fields.Remove("status");
    }

    public bool PrepareForUpdate(IKubernetesObject<V1ObjectMeta> obj, IKubernetesObject<V1ObjectMeta> old)
    {
        var (next, previous) = ((CustomObject)obj, (CustomObject)old);
        var statusIsSubresource = StatusIsSubresource(next);
        if (statusIsSubresource)
        {
            next.Fields.Remove("status");
            if (previous.Fields["status"] is { } status) next.Fields["status"] = status.DeepClone();
        }
        return !JsonNode.DeepEquals(Content(next, statusIsSubresource), Content(previous, statusIsSubresource));
    }

    public IKubernetesObject<V1ObjectMeta>? PrepareForSubresourceUpdate(string subresource, IKubernetesObject<V1ObjectMeta> obj,
        IKubernetesObject<V1ObjectMeta> old)
    {
        if (subresource != "status") return null;
        var (next, stored) = ((CustomObject)obj, (CustomObject)old);
        stored.Fields.Remove("status");
        if (next.Fields["status"] is { } status) stored.Fields["status"] = status.DeepClone();
        return stored;
    }

    public bool HasFinalizers(IKubernetesObject<V1ObjectMeta> obj) => obj.Metadata.Finalizers is { Count: > 0 };

    public void PrepareForDeletion(IKubernetesObject<V1ObjectMeta> marked)
    {
    }

    public StoreError? RefuseDeletion(IStoredResource resource, IKubernetesObject<V1ObjectMeta> stored) => null;

    public IReadOnlyList<StoreErrorCause> Admit(IKubernetesObject<V1ObjectMeta> obj, IKubernetesObject<V1ObjectMeta>? old,
        IAdmissionContext context, string? subresource = null)
    {
        var causes = new List<StoreErrorCause>();
        MetadataRules.Validate(obj.Metadata, Names.Rule.Dns1123Subdomain, causes, old?.Metadata);
        Validate((CustomObject)obj, (CustomObject?)old, causes);
        return causes;
    }

    /// <summary>The kind's own defaults alone (the schema's, for a custom resource definition).</summary>
    public virtual void Default(IKubernetesObject<V1ObjectMeta> obj)
    {
    }

    /// <summary>The kind's decoding of a request's object (the schema's pruning, then its defaults).</summary>
    public virtual void DefaultDecoded(IKubernetesObject<V1ObjectMeta> obj) => Default(obj);

    /// <summary>The kind's own defaulting and validation (the schema's, for a custom resource definition).</summary>
    protected virtual void Validate(CustomObject obj, CustomObject? old, List<StoreErrorCause> causes)
    {
    }

    /// <summary>What metadata.generation follows: every field but metadata (and status, where it is a subresource).</summary>
    private static JsonObject Content(CustomObject obj, bool withoutStatus)
    {
        var content = (JsonObject)obj.Fields.DeepClone();
        if (withoutStatus) content.Remove("status");
        return content;
    }
}
