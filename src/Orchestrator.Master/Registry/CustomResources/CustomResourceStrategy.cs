using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Registry.CustomResources;

/// <summary>One served version of a custom resource as its strategy needs it.</summary>
internal sealed record CustomResourceVersion(string ApiVersion, SchemaNode Schema, bool StatusSubresource);

/// <summary>
/// The strategy of a custom resource (apiextensions-apiserver's customresource strategy): the generic custom-object
/// rules, then, with the schema of the object's version, pruning of unknown fields, defaulting and validation
/// (types, formats, bounds, required fields, list types, CEL rules with oldSelf on updates). The store writes every
/// version through the storage version's description, so the strategy knows every version's schema and picks it by
/// the object's apiVersion (conversion None: the objects are the same in every version).
/// </summary>
internal sealed class CustomResourceStrategy(IReadOnlyList<CustomResourceVersion> versions) : CustomObjectStrategy(false)
{
    private CustomResourceVersion VersionOf(CustomObject obj) =>
        versions.FirstOrDefault(v => v.ApiVersion == obj.ApiVersion) ?? versions[0];

    protected override bool StatusIsSubresource(CustomObject obj) => VersionOf(obj).StatusSubresource;

    protected override void Validate(CustomObject obj, CustomObject? old, List<StoreErrorCause> causes)
    {
        var schema = VersionOf(obj).Schema;
        var root = Root(obj);
        SchemaPruning.Prune(root, schema, isResourceRoot: true);
        SchemaDefaulting.Apply(root, schema);
        obj.Fields = FieldsOf(root);
        causes.AddRange(SchemaValidation.Validate(Root(obj), schema, "", old is null ? null : Root(old), celRules: true));
    }

    /// <summary>The schema's defaults of the object's version, without pruning: what kube's request decoder and the mutating
    /// webhook dispatcher's defaulter (apiextensions-apiserver's unstructuredDefaulter) apply before admission; pruning and
    /// validation stay the store's (<see cref="Validate"/>).</summary>
    public override void Default(IKubernetesObject<V1ObjectMeta> obj)
    {
        var custom = (CustomObject)obj;
        var root = Root(custom);
        SchemaDefaulting.Apply(root, VersionOf(custom).Schema);
        custom.Fields = FieldsOf(root);
    }

    /// <summary>The request's object as kube decodes it: pruned by the schema of its version, then defaulted.</summary>
    public override void DefaultDecoded(IKubernetesObject<V1ObjectMeta> obj)
    {
        var custom = (CustomObject)obj;
        var schema = VersionOf(custom).Schema;
        var root = Root(custom);
        SchemaPruning.Prune(root, schema, isResourceRoot: true);
        SchemaDefaulting.Apply(root, schema);
        custom.Fields = FieldsOf(root);
    }

    /// <summary>The object's own fields of a schema root (<see cref="Root"/>): all but apiVersion, kind and metadata.</summary>
    private static JsonObject FieldsOf(JsonObject root)
    {
        var fields = new JsonObject();
        foreach (var (key, value) in root.ToList())
        {
            if (key is "apiVersion" or "kind" or "metadata") continue;
            root.Remove(key);
            fields[key] = value;
        }
        return fields;
    }

    /// <summary>The object as the schema sees it: its fields, apiVersion, kind, and the metadata a schema may restrict.</summary>
    private static JsonObject Root(CustomObject obj)
    {
        var root = (JsonObject)obj.Fields.DeepClone();
        root["apiVersion"] = obj.ApiVersion;
        root["kind"] = obj.Kind;
        var metadata = new JsonObject();
        if (obj.Metadata.Name is { } name) metadata["name"] = name;
        if (obj.Metadata.GenerateName is { } generateName) metadata["generateName"] = generateName;
        root["metadata"] = metadata;
        return root;
    }
}
