using System.Text.Json.Nodes;
using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Tables;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Registry.CustomResources;

/// <summary>
/// What a CustomResourceDefinition serves: one description per served version — names, scope, short names and
/// categories, the status and scale subresources, the printer columns (or Age), the selectable fields, the schema,
/// objects held as <see cref="CustomObject"/> under the store name <c>plural.group</c>, one strategy for all versions.
/// </summary>
internal static class CustomResourceDescriptions
{
    public const string SourcePrefix = "crd:";

    private static readonly JsonPathColumn AgeColumn = new("Age", "date", null,
        "CreationTimestamp is a timestamp representing the server time when this object was created.", 0, ".metadata.creationTimestamp");

    public static string SourceOf(string crdName) => SourcePrefix + crdName;

    public static IReadOnlyList<ResourceDescription> From(V1CustomResourceDefinition crd)
    {
        var spec = crd.Spec;
        var names = spec.Names;
        var versions = spec.Versions.Select(v => new CustomResourceVersion(
            $"{spec.Group}/{v.Name}", SchemaNode.Parse(SchemaOf(v)), v.Subresources?.Status is not null)).ToList();
        var strategy = new CustomResourceStrategy(versions);
        var fieldValidator = new SchemaFieldValidator(versions);
        var webhook = WebhookOf(crd);
        // kube-aware priority (v2 before v1 before v1beta1): discovery's preferred version is the first, as
        // apiextensions-apiserver sorts a definition's versions, so kubectl get PLURAL.GROUP reads the highest one
        return spec.Versions.Where(v => v.Served).OrderBy(v => KubeVersionPriority.Key(v.Name)).ThenBy(v => v.Name, StringComparer.Ordinal).Select(v =>
        {
            var subresources = new List<SubresourceDescription>();
            if (v.Subresources?.Status is not null) subresources.Add(SubresourceDescription.Status(names.Kind));
            if (v.Subresources?.Scale is { } scale)
                subresources.Add(SubresourceDescription.ScaleOf(new ScaleSubresource(scale.SpecReplicasPath, scale.StatusReplicasPath, scale.LabelSelectorPath)));
            var columns = v.AdditionalPrinterColumns is { Count: > 0 } printed
                ? printed.Select(c => new JsonPathColumn(c.Name, c.Type, c.Format, c.Description, c.Priority ?? 0, c.JsonPath)).ToList()
                : [AgeColumn];
            return new ResourceDescription
            {
                Group = spec.Group, Version = v.Name, Resource = names.Plural, Kind = names.Kind,
                Singular = names.Singular ?? names.Kind.ToLowerInvariant(), ListKind = names.ListKind ?? names.Kind + "List",
                Namespaced = spec.Scope == "Namespaced",
                ShortNames = names.ShortNames?.ToList() ?? [], Categories = names.Categories?.ToList() ?? [],
                StoreName = $"{names.Plural}.{spec.Group}", Storage = v.Storage,
                ObjectType = typeof(CustomObject), Strategy = strategy, FieldValidator = fieldValidator,
                Subresources = subresources, Printer = new JsonPathTablePrinter(columns),
                SelectableFields = v.SelectableFields?.Select(f => f.JsonPath.TrimStart('.')).ToList() ?? [],
                Schema = SchemaOf(v),
                WebhookConversion = webhook,
                DeprecationWarning = v.Deprecated == true ? v.DeprecationWarning ?? DefaultDeprecationWarning(spec, v.Name) : null,
            };
        }).ToList();
    }

    /// <summary>The definition's conversion webhook, or null for conversion None (only apiVersion differs between versions).</summary>
    private static WebhookConversion? WebhookOf(V1CustomResourceDefinition crd) =>
        crd.Spec.Conversion is { Strategy: "Webhook", Webhook: { ClientConfig: { } client } webhook }
            ? new WebhookConversion(crd.Metadata.Name, crd.Spec.Group, crd.Spec.Names.Kind,
                $"{crd.Spec.Group}/{crd.Spec.Versions.First(v => v.Storage).Name}", client, webhook.ConversionReviewVersions?.ToList() ?? [])
            : null;

    /// <summary>apiextensions-apiserver's default text for a deprecated version: "group/version Kind is deprecated",
    /// and "; use group/version Kind" naming the served, not deprecated version of highest priority, if any.</summary>
    private static string DefaultDeprecationWarning(V1CustomResourceDefinitionSpec spec, string version)
    {
        var message = $"{spec.Group}/{version} {spec.Names.Kind} is deprecated";
        var preferred = spec.Versions.Where(v => v.Served && v.Deprecated != true).Select(v => v.Name)
            .OrderBy(KubeVersionPriority.Key).ThenBy(n => n, StringComparer.Ordinal).FirstOrDefault();
        return preferred is null ? message : $"{message}; use {spec.Group}/{preferred} {spec.Names.Kind}";
    }

    /// <summary>A version's openAPIV3Schema as JSON (an object that keeps every field when a version has none).</summary>
    public static JsonObject SchemaOf(V1CustomResourceDefinitionVersion version) =>
        version.Schema?.OpenAPIV3Schema is { } schema
            ? JsonNode.Parse(KubeObjects.Serialize(schema))!.AsObject()
            : new JsonObject { ["type"] = "object", ["x-kubernetes-preserve-unknown-fields"] = true };
}
