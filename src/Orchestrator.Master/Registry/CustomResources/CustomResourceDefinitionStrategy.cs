using System.Text.RegularExpressions;
using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Validation;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Registry.CustomResources;

/// <summary>
/// apiextensions.k8s.io/v1 CustomResourceDefinition (apiextensions-apiserver's strategy and validation): defaults
/// (conversion None, singular and listKind from the kind), the name is <c>plural.group</c>, names are DNS labels and the
/// kind a CamelCase identifier, the scope is Namespaced or Cluster, versions are unique DNS labels with exactly one
/// storage version and a structural schema each (<see cref="StructuralSchemaCheck"/>), printer columns and the scale
/// subresource point where Kubernetes allows; conversion is None or a webhook (<see cref="CustomResourceConversionValidation"/>). On create the
/// status is reset to the storage version and the cleanup finalizer is added (the definition's objects are deleted
/// before it goes); scope and group never change.
/// </summary>
internal sealed partial class CustomResourceDefinitionStrategy : ModelStrategy<V1CustomResourceDefinition>
{
    public const string CleanupFinalizer = "customresourcecleanup.apiextensions.k8s.io";

    private static readonly string[] Scopes = ["Cluster", "Namespaced"];
    private static readonly string[] ColumnTypes = ["boolean", "date", "integer", "number", "string"];
    private static readonly string[] ColumnFormats = ["byte", "date", "date-time", "double", "float", "int32", "int64", "name", "password"];

    [GeneratedRegex("^[A-Za-z]([-A-Za-z0-9]*[A-Za-z0-9])?\\z")]
    private static partial Regex KindFormat();

    protected override void PrepareForCreate(V1CustomResourceDefinition crd)
    {
        crd.Status = new V1CustomResourceDefinitionStatus
        {
            AcceptedNames = new V1CustomResourceDefinitionNames { Plural = "", Kind = "" },
            Conditions = [],
            StoredVersions = crd.Spec?.Versions?.Where(v => v.Storage).Select(v => v.Name).Take(1).ToList() ?? [],
        };
        var finalizers = crd.Metadata.Finalizers ?? [];
        if (!finalizers.Contains(CleanupFinalizer)) crd.Metadata.Finalizers = [.. finalizers, CleanupFinalizer];
    }

    protected override void Default(V1CustomResourceDefinition crd)
    {
        var spec = crd.Spec ??= new V1CustomResourceDefinitionSpec();
        spec.Conversion ??= new V1CustomResourceConversion();
        spec.Conversion.Strategy ??= "None";
        // SetDefaults_ServiceReference
        if (spec.Conversion.Webhook?.ClientConfig?.Service is { } service) service.Port ??= 443;
        spec.Names ??= new V1CustomResourceDefinitionNames();
        if (string.IsNullOrEmpty(spec.Names.Singular) && !string.IsNullOrEmpty(spec.Names.Kind)) spec.Names.Singular = spec.Names.Kind.ToLowerInvariant();
        if (string.IsNullOrEmpty(spec.Names.ListKind) && !string.IsNullOrEmpty(spec.Names.Kind)) spec.Names.ListKind = spec.Names.Kind + "List";
        spec.Versions ??= [];
    }

    protected override void Validate(V1CustomResourceDefinition crd, IAdmissionContext context, List<StoreErrorCause> causes) =>
        ValidateSpec(crd, null, causes);

    /// <summary>The definition's rules; <paramref name="old"/> on updates relaxes two conversion rules as kube's update
    /// options do (a review version kube speaks is required only if the old definition had one or none, an unreadable
    /// caBundle is kept if the old one was unreadable too).</summary>
    private static void ValidateSpec(V1CustomResourceDefinition crd, V1CustomResourceDefinition? old, List<StoreErrorCause> causes)
    {
        var spec = crd.Spec!;
        var names = spec.Names!;
        if (crd.Metadata.Name != $"{names.Plural}.{spec.Group}")
            causes.Add(FieldErrors.Invalid("metadata.name", crd.Metadata.Name, "must be spec.names.plural+\".\"+spec.group"));

        if (string.IsNullOrEmpty(spec.Group)) causes.Add(FieldErrors.Required("spec.group"));
        else if (Names.Check(spec.Group, Names.Rule.Dns1123Subdomain).ToList() is { Count: > 0 } groupErrors)
            causes.Add(FieldErrors.Invalid("spec.group", spec.Group, string.Join(",", groupErrors)));
        else if (!spec.Group.Contains('.'))
            causes.Add(FieldErrors.Invalid("spec.group", spec.Group, "should be a domain with at least one dot"));

        if (!Scopes.Contains(spec.Scope)) causes.Add(spec.Scope is null
            ? FieldErrors.Required("spec.scope")
            : FieldErrors.NotSupported("spec.scope", spec.Scope, Scopes));

        ValidateNames(names, causes);
        ValidateVersions(spec, causes);

        CustomResourceConversionValidation.Validate(spec.Conversion!,
            requireRecognizedReviewVersion: old is null || CustomResourceConversionValidation.HasRecognizedReviewVersionOrNone(old.Spec?.Conversion),
            allowInvalidCaBundle: old is not null && CustomResourceConversionValidation.HasInvalidCaBundle(old), causes);
        if (spec.PreserveUnknownFields == true)
            causes.Add(FieldErrors.Invalid("spec.preserveUnknownFields", true,
                "cannot set to true, set x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead"));
    }

    protected override void ValidateUpdate(V1CustomResourceDefinition crd, V1CustomResourceDefinition old, IAdmissionContext context,
        List<StoreErrorCause> causes)
    {
        ValidateSpec(crd, old, causes);
        if (old.Spec?.Scope is { } scope && crd.Spec?.Scope != scope)
            causes.Add(FieldErrors.Invalid("spec.scope", crd.Spec?.Scope, "field is immutable"));
        var stored = old.Status?.StoredVersions ?? [];
        var present = crd.Spec?.Versions?.Select(v => v.Name).ToHashSet() ?? [];
        for (var i = 0; i < stored.Count; i++)
            if (!present.Contains(stored[i]))
                causes.Add(FieldErrors.Invalid($"status.storedVersions[{i}]", stored[i],
                    $"missing from spec.versions; {stored[i]} was previously a storage version, and must remain in spec.versions until a storage migration ensures no data remains persisted in {stored[i]} and {stored[i]} is removed from status.storedVersions"));
    }

    private static void ValidateNames(V1CustomResourceDefinitionNames names, List<StoreErrorCause> causes)
    {
        void Label(string field, string? value)
        {
            if (string.IsNullOrEmpty(value)) causes.Add(FieldErrors.Required($"spec.names.{field}"));
            else if (Names.Check(value, Names.Rule.Dns1035Label).ToList() is { Count: > 0 } errors)
                causes.Add(FieldErrors.Invalid($"spec.names.{field}", value, string.Join(",", errors)));
        }
        void Kind(string field, string? value)
        {
            if (string.IsNullOrEmpty(value)) causes.Add(FieldErrors.Required($"spec.names.{field}"));
            else if (!KindFormat().IsMatch(value))
                causes.Add(FieldErrors.Invalid($"spec.names.{field}", value,
                    "may have mixed case, but should otherwise match: " + Names.Dns1035LabelMessage.Replace("lower case ", "")));
        }
        Label("plural", names.Plural);
        Label("singular", names.Singular);
        Kind("kind", names.Kind);
        Kind("listKind", names.ListKind);
        if (names.Kind is { Length: > 0 } && names.Kind == names.ListKind)
            causes.Add(FieldErrors.Invalid("spec.names.listKind", names.ListKind, "kind and listKind may not be the same"));
        for (var i = 0; i < (names.ShortNames?.Count ?? 0); i++)
            if (Names.Check(names.ShortNames![i], Names.Rule.Dns1035Label).ToList() is { Count: > 0 } errors)
                causes.Add(FieldErrors.Invalid($"spec.names.shortNames[{i}]", names.ShortNames[i], string.Join(",", errors)));
        for (var i = 0; i < (names.Categories?.Count ?? 0); i++)
            if (Names.Check(names.Categories![i], Names.Rule.Dns1035Label).ToList() is { Count: > 0 } errors)
                causes.Add(FieldErrors.Invalid($"spec.names.categories[{i}]", names.Categories[i], string.Join(",", errors)));
    }

    private static void ValidateVersions(V1CustomResourceDefinitionSpec spec, List<StoreErrorCause> causes)
    {
        var versions = spec.Versions!;
        if (versions.Count == 0)
        {
            causes.Add(FieldErrors.Required("spec.versions", "must have exactly one version marked as storage version"));
            return;
        }
        if (versions.Select(v => v.Name).Distinct().Count() != versions.Count)
            causes.Add(FieldErrors.Invalid("spec.versions", new RawValue("[…]"), "must contain unique version names"));
        if (versions.Count(v => v.Storage) != 1)
            causes.Add(FieldErrors.Invalid("spec.versions", new RawValue("[…]"), "must have exactly one version marked as storage version"));
        if (!versions.Any(v => v.Served))
            causes.Add(FieldErrors.Invalid("spec.versions", new RawValue("[…]"), "must have at least one served version"));
        for (var i = 0; i < versions.Count; i++)
        {
            var v = versions[i];
            var at = $"spec.versions[{i}]";
            if (string.IsNullOrEmpty(v.Name)) causes.Add(FieldErrors.Required($"{at}.name"));
            else if (Names.Check(v.Name, Names.Rule.Dns1035Label).ToList() is { Count: > 0 } errors)
                causes.Add(FieldErrors.Invalid($"{at}.name", v.Name, string.Join(",", errors)));
            if (v.Schema?.OpenAPIV3Schema is null) causes.Add(FieldErrors.Required($"{at}.schema.openAPIV3Schema", "schemas are required"));
            else
            {
                var schema = CustomResourceDescriptions.SchemaOf(v);
                causes.AddRange(StructuralSchemaCheck.Check(schema, $"{at}.schema.openAPIV3Schema"));
                if (v.Subresources?.Status is not null && schema["type"]?.ToString() is { } rootType && rootType != "object")
                    causes.Add(FieldErrors.Invalid($"{at}.schema.openAPIV3Schema.type", rootType,
                        "only \"object\" is allowed as the type at the root of the schema if the status subresource is enabled"));
            }
            ValidateColumns(v, at, causes);
            ValidateScale(v, at, causes);
        }
    }

    private static void ValidateColumns(V1CustomResourceDefinitionVersion version, string at, List<StoreErrorCause> causes)
    {
        for (var i = 0; i < (version.AdditionalPrinterColumns?.Count ?? 0); i++)
        {
            var column = version.AdditionalPrinterColumns![i];
            var path = $"{at}.additionalPrinterColumns[{i}]";
            if (string.IsNullOrEmpty(column.Name)) causes.Add(FieldErrors.Required($"{path}.name"));
            if (string.IsNullOrEmpty(column.Type))
                causes.Add(FieldErrors.Required($"{path}.type", $"must be one of {string.Join(",", ColumnTypes)}"));
            else if (!ColumnTypes.Contains(column.Type))
                causes.Add(FieldErrors.Invalid($"{path}.type", column.Type, $"must be one of {string.Join(",", ColumnTypes)}"));
            if (column.Format is { Length: > 0 } format && !ColumnFormats.Contains(format))
                causes.Add(FieldErrors.Invalid($"{path}.format", format, $"must be one of {string.Join(",", ColumnFormats)}"));
            if (string.IsNullOrEmpty(column.JsonPath)) causes.Add(FieldErrors.Required($"{path}.JSONPath"));
            else
                try
                {
                    Tables.JsonPath.Parse(column.JsonPath);
                }
                catch (FormatException e)
                {
                    causes.Add(FieldErrors.Invalid($"{path}.JSONPath", column.JsonPath, e.Message));
                }
        }
    }

    private static void ValidateScale(V1CustomResourceDefinitionVersion version, string at, List<StoreErrorCause> causes)
    {
        if (version.Subresources?.Scale is not { } scale) return;
        var path = $"{at}.subresources.scale";
        void Path(string field, string? value, bool required, string[] roots, string message)
        {
            if (string.IsNullOrEmpty(value))
            {
                if (required) causes.Add(FieldErrors.Required($"{path}.{field}"));
                return;
            }
            if (!value.StartsWith('.')) causes.Add(FieldErrors.Invalid($"{path}.{field}", value, "must be a simple json path starting with ."));
            else if (!roots.Any(r => value.StartsWith(r + ".", StringComparison.Ordinal))) causes.Add(FieldErrors.Invalid($"{path}.{field}", value, message));
        }
        Path("specReplicasPath", scale.SpecReplicasPath, true, [".spec"], "should be a json path under .spec");
        Path("statusReplicasPath", scale.StatusReplicasPath, true, [".status"], "should be a json path under .status");
        Path("labelSelectorPath", scale.LabelSelectorPath, false, [".spec", ".status"], "should be a json path under either .spec or .status");
    }
}
