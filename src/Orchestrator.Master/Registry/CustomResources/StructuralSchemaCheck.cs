using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Orchestrator.Master.Registry.Validation;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Registry.CustomResources;

/// <summary>
/// Whether a CustomResourceDefinition's schema is one the API server accepts, with its reasons (apiextensions'
/// schema validation and ValidateStructural): only the supported OpenAPI keywords and types; a structural schema —
/// a type for the root, every specified field and every array's items (except int-or-string and preserve-unknown
/// nodes), nothing but value validations under allOf/anyOf/oneOf/not and nothing there that is not also specified
/// outside, metadata restricted to name and generateName; consistent vendor extensions (embedded resources, list and
/// map types, CEL rules that compile and type-check against their node's type, <see cref="CelTypeCheck"/>); defaults
/// that are valid for their node.
/// </summary>
internal static class StructuralSchemaCheck
{
    private static readonly string[] Types = ["array", "boolean", "integer", "number", "object", "string"];
    private static readonly string[] ListTypes = ["atomic", "set", "map"];
    private static readonly string[] MapTypes = ["atomic", "granular"];
    private static readonly string[] Reasons = ["FieldValueDuplicate", "FieldValueForbidden", "FieldValueInvalid", "FieldValueRequired"];
    private static readonly string[] Junctors = ["allOf", "anyOf", "oneOf"];

    private enum Level { Root, Item, Field }

    public static IReadOnlyList<StoreErrorCause> Check(JsonObject schema, string path)
    {
        var causes = new List<StoreErrorCause>();
        var celCauses = new List<StoreErrorCause>();
        Generic(schema, path, causes, insideMeta: false, new CelScope(Typed: true, ResourceRoot: true, Uncorrelatable: null, celCauses));
        if (causes.Count > 0) return causes;
        Invariants(schema, Level.Root, path, causes);
        Completeness(schema, schema, path, path, causes);
        // as kube, CEL rules are compiled only in a structural schema
        if (causes.Count > 0) return causes.OrderBy(c => $"{c.Field}: {c.Message}", StringComparer.Ordinal).ToList();
        Defaults(SchemaNode.Parse(schema), path, causes);
        causes.AddRange(celCauses);
        return causes.OrderBy(c => $"{c.Field}: {c.Message}", StringComparer.Ordinal).ToList();
    }

    /// <summary>The OpenAPI subset and the extensions' own rules, everywhere in the schema.</summary>
    /// <summary>Where a node's CEL rules are checked: whether they are type-checked (not under a junctor, where kube
    /// does not compile them), whether the node is a resource root (apiVersion, kind, metadata.name/generateName
    /// declared), the first array items above it that are no map list (oldSelf cannot be correlated there), and where
    /// the rules' errors go (kube's CELErrors: apart from the schema's own errors, which keep rules from being
    /// type-checked).</summary>
    private sealed record CelScope(bool Typed, bool ResourceRoot, string? Uncorrelatable, List<StoreErrorCause> Errors)
    {
        public CelScope Child(JsonObject child, string? uncorrelatable = null) =>
            this with { ResourceRoot = Flag(child, "x-kubernetes-embedded-resource"), Uncorrelatable = Uncorrelatable ?? uncorrelatable };
    }

    private static void Generic(JsonObject s, string path, List<StoreErrorCause> causes, bool insideMeta, CelScope cel)
    {
        foreach (var (key, message) in new[]
                 {
                     ("id", "id is not supported"), ("additionalItems", "additionalItems is not supported"),
                     ("patternProperties", "patternProperties is not supported"), ("definitions", "definitions is not supported"),
                     ("dependencies", "dependencies is not supported"), ("$ref", "$ref is not supported"),
                 })
            if (s.ContainsKey(key)) causes.Add(FieldErrors.Forbidden(FieldPath.Child(path, key), message));
        var type = Text(s, "type");
        if (type == "null") causes.Add(FieldErrors.Forbidden(FieldPath.Child(path, "type"), "type cannot be set to null, use nullable as an alternative"));
        else if (type is not null && !Types.Contains(type)) causes.Add(FieldErrors.NotSupported(FieldPath.Child(path, "type"), type, Types));
        if (s["items"] is JsonArray) causes.Add(FieldErrors.Forbidden(FieldPath.Child(path, "items"), "items must be a schema object and not an array"));
        if (Flag(s, "uniqueItems"))
            causes.Add(FieldErrors.Forbidden(FieldPath.Child(path, "uniqueItems"), "uniqueItems cannot be set to true since the runtime complexity becomes quadratic"));
        // additionalProperties: true may stand beside properties (it keeps unknown members); false or a schema may not.
        if (s["properties"] is JsonObject { Count: > 0 } && (s["additionalProperties"] is JsonObject || (s["additionalProperties"] is JsonValue a && !(a.TryGetValue<bool>(out var allows) && allows))))
            causes.Add(FieldErrors.Forbidden(FieldPath.Child(path, "additionalProperties"), "additionalProperties and properties are mutual exclusive"));
        if (s["x-kubernetes-preserve-unknown-fields"] is JsonValue p && p.TryGetValue<bool>(out var preserve) && !preserve)
            causes.Add(FieldErrors.Invalid(FieldPath.Child(path, "x-kubernetes-preserve-unknown-fields"), false, "must be true or undefined"));
        if (insideMeta && Flag(s, "x-kubernetes-embedded-resource"))
            causes.Add(FieldErrors.Forbidden(FieldPath.Child(path, "x-kubernetes-embedded-resource"), "must not be used inside of resource meta"));
        if (Text(s, "pattern") is { } pattern && !ValidRegex(pattern, out var regexError))
            causes.Add(FieldErrors.Invalid(FieldPath.Child(path, "pattern"), pattern, $"must be a valid regular expression, but isn't: {regexError}"));
        MapAndListTypes(s, type, path, causes);
        var before = causes.Count;
        var compileErrors = new List<StoreErrorCause>();
        var rules = Rules(s, path, causes, compileErrors);

        if (s["properties"] is JsonObject properties)
            foreach (var (name, child) in properties)
                if (child is JsonObject c)
                    Generic(c, FieldPath.Key(FieldPath.Child(path, "properties"), name), causes, insideMeta || name == "metadata", cel.Child(c));
        if (s["additionalProperties"] is JsonObject additional)
            Generic(additional, FieldPath.Child(path, "additionalProperties"), causes, insideMeta, cel.Child(additional));
        if (s["items"] is JsonObject items)
        {
            var itemsPath = FieldPath.Child(path, "items");
            Generic(items, itemsPath, causes, insideMeta, cel.Child(items, Text(s, "x-kubernetes-list-type") == "map" ? null : itemsPath));
        }
        var untyped = cel with { Typed = false };
        foreach (var junctor in Junctors)
            if (s[junctor] is JsonArray list)
                for (var i = 0; i < list.Count; i++)
                    if (list[i] is JsonObject j) Generic(j, FieldPath.Index(FieldPath.Child(path, junctor), i), causes, insideMeta, untyped);
        if (s["not"] is JsonObject not) Generic(not, FieldPath.Child(path, "not"), causes, insideMeta, untyped);
        // as kube, rules are compiled only when this node and those below it have no schema error
        if (causes.Count > before) return;
        cel.Errors.AddRange(compileErrors);
        if (cel.Typed && rules.Count > 0) TypeCheckRules(s, rules, path, cel);
    }

    private static void MapAndListTypes(JsonObject s, string? type, string path, List<StoreErrorCause> causes)
    {
        if (Text(s, "x-kubernetes-map-type") is { } mapType)
        {
            if (type != "object")
                causes.Add(type is null
                    ? FieldErrors.Required(FieldPath.Child(path, "type"), "must be object if x-kubernetes-map-type is specified")
                    : FieldErrors.Invalid(FieldPath.Child(path, "type"), type, "must be object if x-kubernetes-map-type is specified"));
            if (!MapTypes.Contains(mapType)) causes.Add(FieldErrors.NotSupported(FieldPath.Child(path, "x-kubernetes-map-type"), mapType, MapTypes));
        }
        var listType = Text(s, "x-kubernetes-list-type");
        if (listType is not null)
        {
            if (type != "array")
                causes.Add(type is null
                    ? FieldErrors.Required(FieldPath.Child(path, "type"), "must be array if x-kubernetes-list-type is specified")
                    : FieldErrors.Invalid(FieldPath.Child(path, "type"), type, "must be array if x-kubernetes-list-type is specified"));
            if (!ListTypes.Contains(listType)) causes.Add(FieldErrors.NotSupported(FieldPath.Child(path, "x-kubernetes-list-type"), listType, ListTypes));
            if (listType == "set" && s["items"] is JsonObject setItems && Text(setItems, "type") is "object" or "array" &&
                Text(setItems, "x-kubernetes-map-type") != "atomic" && Text(setItems, "x-kubernetes-list-type") != "atomic")
                causes.Add(FieldErrors.Invalid(FieldPath.Child(FieldPath.Child(path, "items"), "x-kubernetes-list-type"), Text(setItems, "x-kubernetes-list-type"),
                    "must be atomic as item of a list with x-kubernetes-list-type=set"));
        }
        var keys = (s["x-kubernetes-list-map-keys"] as JsonArray)?.Select(k => k?.ToString() ?? "").ToList() ?? [];
        if (keys.Count > 0 && listType != "map")
            causes.Add(listType is null
                ? FieldErrors.Required(FieldPath.Child(path, "x-kubernetes-list-type"), "must be map if x-kubernetes-list-map-keys is non-empty")
                : FieldErrors.Invalid(FieldPath.Child(path, "x-kubernetes-list-type"), listType, "must be map if x-kubernetes-list-map-keys is non-empty"));
        if (listType != "map") return;
        if (keys.Count == 0) causes.Add(FieldErrors.Required(FieldPath.Child(path, "x-kubernetes-list-map-keys"), "must not be empty if x-kubernetes-list-type is map"));
        if (s["items"] is not JsonObject items)
        {
            causes.Add(FieldErrors.Required(FieldPath.Child(path, "items"), "must have a schema if x-kubernetes-list-type is map"));
            return;
        }
        if (Text(items, "type") != "object")
            causes.Add(FieldErrors.Invalid(FieldPath.Child(FieldPath.Child(path, "items"), "type"), Text(items, "type"), "must be object if parent array's x-kubernetes-list-type is map"));
        var itemProperties = items["properties"] as JsonObject;
        if (keys.Any(k => itemProperties?.ContainsKey(k) != true))
            causes.Add(FieldErrors.Invalid(FieldPath.Child(path, "x-kubernetes-list-map-keys"), new RawValue($"[]string{{{string.Join(", ", keys.Select(k => FieldErrors.Format(k)))}}}"),
                "entries must all be names of item properties"));
        if (keys.Distinct().Count() != keys.Count)
            causes.Add(FieldErrors.Invalid(FieldPath.Child(path, "x-kubernetes-list-map-keys"), new RawValue($"[]string{{{string.Join(", ", keys.Select(k => FieldErrors.Format(k)))}}}"),
                "must not contain duplicate entries"));
    }

    /// <summary>The node's rules, checked on their own (what kube checks before compiling them): their indexes that
    /// compile, for <see cref="TypeCheckRules"/>. Compile errors go to <paramref name="celCauses"/>.</summary>
    private static List<int> Rules(JsonObject s, string path, List<StoreErrorCause> causes, List<StoreErrorCause> celCauses)
    {
        var compiled = new List<int>();
        if (s["x-kubernetes-validations"] is not JsonArray rules) return compiled;
        var rulesPath = FieldPath.Child(path, "x-kubernetes-validations");
        for (var i = 0; i < rules.Count; i++)
        {
            if (rules[i] is not JsonObject r) continue;
            var at = FieldPath.Index(rulesPath, i);
            var rule = ValidationRule.From(r);
            if (string.IsNullOrWhiteSpace(rule.Rule))
            {
                causes.Add(FieldErrors.Required(FieldPath.Child(at, "rule"), "rule is not specified"));
                continue;
            }
            if (rule.Message is { } message)
            {
                if (message.Trim().Length == 0) causes.Add(FieldErrors.Invalid(FieldPath.Child(at, "message"), message, "must be non-empty if specified"));
                else if (message.Contains('\n')) causes.Add(FieldErrors.Invalid(FieldPath.Child(at, "message"), message, "must not contain line breaks"));
            }
            else if (rule.Rule.Contains('\n'))
                causes.Add(FieldErrors.Required(FieldPath.Child(at, "message"), "message must be specified if rule contains line breaks"));
            if (rule.MessageExpression is { Length: > 0 } messageExpression)
            {
                if (messageExpression.Trim().Length == 0)
                    causes.Add(FieldErrors.Required(FieldPath.Child(at, "messageExpression"), "messageExpression must be non-empty if specified"));
                else if (CelRules.CompileError(messageExpression) is { } messageError)
                    celCauses.Add(FieldErrors.Invalid(FieldPath.Child(at, "messageExpression"), GoRule(r),
                        $"messageExpression compilation failed: {messageError}"));
            }
            if (rule.Reason is { } reason && !Reasons.Contains(reason))
                causes.Add(FieldErrors.NotSupported(FieldPath.Child(at, "reason"), reason, Reasons));
            if (rule.FieldPath is { } fieldPath && (fieldPath.Trim().Length == 0 || !fieldPath.StartsWith('.')))
                causes.Add(FieldErrors.Invalid(FieldPath.Child(at, "fieldPath"), fieldPath, "must be a valid path"));
            if (CelRules.CompileError(rule.Rule) is { } error)
                celCauses.Add(FieldErrors.Invalid(FieldPath.Child(at, "rule"), GoRule(r), $"compilation failed: {error}"));
            else compiled.Add(i);
        }
        return compiled;
    }

    /// <summary>kube's cel.Compile of the node's rules against its type: a rule that does not type-check or is no
    /// bool, a messageExpression that does not type-check or is no string, oldSelf where it cannot be correlated,
    /// optionalOldSelf on a rule without oldSelf.</summary>
    private static void TypeCheckRules(JsonObject s, List<int> compiled, string path, CelScope cel)
    {
        var causes = cel.Errors;
        var rules = (JsonArray)s["x-kubernetes-validations"]!;
        // kube names the rule node's type selfType<nanoseconds>, afresh on every create and update
        // (a node kube has no type for, whose rules it cannot compile, is not checked)
        if (CelType.FromSchema(s, $"selfType{DateTime.UtcNow.Ticks % 10_000_000 * 100}", cel.ResourceRoot) is not { } self) return;
        var variables = new Dictionary<string, CelType>(StringComparer.Ordinal) { ["self"] = self, ["oldSelf"] = self };
        foreach (var i in compiled)
        {
            var r = (JsonObject)rules[i]!;
            var at = FieldPath.Index(FieldPath.Child(path, "x-kubernetes-validations"), i);
            var rule = ValidationRule.From(r);
            if (CelRules.TypeCheck(rule.Rule, variables) is not { } result) continue;
            if (result.Errors is { } errors)
            {
                causes.Add(FieldErrors.Invalid(FieldPath.Child(at, "rule"), GoRule(r), $"compilation failed: {errors}"));
                continue;
            }
            if (!result.Type.IsWild && result.Type.Kind != CelKind.Bool)
            {
                causes.Add(FieldErrors.Invalid(FieldPath.Child(at, "rule"), GoRule(r), "cel expression must evaluate to a bool"));
                continue;
            }
            if (rule.MessageExpression is { Length: > 0 } messageExpression && messageExpression.Trim().Length > 0 &&
                CelRules.TypeCheck(messageExpression, variables) is { } message)
            {
                if (message.Errors is { } messageErrors)
                    causes.Add(FieldErrors.Invalid(FieldPath.Child(at, "messageExpression"), GoRule(r),
                        $"messageExpression compilation failed: {messageErrors}"));
                else if (!message.Type.IsWild && message.Type.Kind != CelKind.String)
                    causes.Add(FieldErrors.Invalid(FieldPath.Child(at, "messageExpression"), GoRule(r), "messageExpression must evaluate to a string"));
            }
            if (result.UsesOldSelf)
            {
                if (cel.Uncorrelatable is { } uncorrelatable)
                    causes.Add(FieldErrors.Invalid(FieldPath.Child(at, "rule"), rule.Rule,
                        $"oldSelf cannot be used on the uncorrelatable portion of the schema within {uncorrelatable}"));
            }
            else if (r["optionalOldSelf"] is JsonValue optional && optional.TryGetValue<bool>(out var optionalOldSelf))
                causes.Add(FieldErrors.Invalid(FieldPath.Child(at, "optionalOldSelf"), optionalOldSelf, "may not be set if oldSelf is not used in rule"));
        }
    }

    /// <summary>A rule as kube's field error shows it (Go's %#v of the internal ValidationRule; a pointer that is set
    /// shows an address, as in kube, where it differs from call to call).</summary>
    private static RawValue GoRule(JsonObject r)
    {
        static string Quoted(JsonObject o, string key) => GoQuote.Quote(Text(o, key) ?? "");
        var reason = r["reason"] is null ? "nil" : "0xc000100000";
        var optional = r["optionalOldSelf"] is null ? "nil" : "0xc000100010";
        return new RawValue($"apiextensions.ValidationRule{{Rule:{Quoted(r, "rule")}, Message:{Quoted(r, "message")}, " +
            $"MessageExpression:{Quoted(r, "messageExpression")}, Reason:(*apiextensions.FieldValueErrorReason)({reason}), " +
            $"FieldPath:{Quoted(r, "fieldPath")}, OptionalOldSelf:(*bool)({optional})}}");
    }

    /// <summary>ValidateStructural's invariants.</summary>
    private static void Invariants(JsonObject s, Level level, string path, List<StoreErrorCause> causes)
    {
        var type = Text(s, "type");
        var embedded = Flag(s, "x-kubernetes-embedded-resource");
        var intOrString = Flag(s, "x-kubernetes-int-or-string");
        var preserve = Flag(s, "x-kubernetes-preserve-unknown-fields");
        var properties = s["properties"] as JsonObject;

        if (type == "array" && s["items"] is null) causes.Add(FieldErrors.Required(FieldPath.Child(path, "items"), "must be specified"));
        if (s["items"] is JsonObject items) Invariants(items, Level.Item, FieldPath.Child(path, "items"), causes);
        foreach (var (name, child) in properties ?? [])
            if (child is JsonObject c) Invariants(c, Level.Field, FieldPath.Key(FieldPath.Child(path, "properties"), name), causes);
        if (s["additionalProperties"] is { } additionalProperties)
        {
            if (level == Level.Root) causes.Add(FieldErrors.Forbidden(FieldPath.Child(path, "additionalProperties"), "must not be used at the root"));
            if (additionalProperties is JsonObject a) Invariants(a, Level.Field, FieldPath.Child(path, "additionalProperties"), causes);
        }
        if (intOrString && preserve)
            causes.Add(FieldErrors.Invalid(FieldPath.Child(path, "x-kubernetes-preserve-unknown-fields"), true, "must be false if x-kubernetes-int-or-string is true"));
        if (intOrString && embedded)
            causes.Add(FieldErrors.Invalid(FieldPath.Child(path, "x-kubernetes-embedded-resource"), true, "must be false if x-kubernetes-int-or-string is true"));

        var skipAnyOf = IsIntOrStringAnyOf(s["anyOf"]);
        var skipFirstAllOfAnyOf = s["allOf"] is JsonArray { Count: > 0 } allOf && allOf[0] is JsonObject first && IsIntOrStringAnyOf(first["anyOf"]);
        ValueValidation(s, skipAnyOf, skipFirstAllOfAnyOf, path, causes);

        if (embedded && type != "object")
            causes.Add(type is null
                ? FieldErrors.Required(FieldPath.Child(path, "type"), "must be object if x-kubernetes-embedded-resource is true")
                : FieldErrors.Invalid(FieldPath.Child(path, "type"), type, "must be object if x-kubernetes-embedded-resource is true"));
        else if (type is null && !intOrString && !preserve)
            causes.Add(FieldErrors.Required(FieldPath.Child(path, "type"), level switch
            {
                Level.Root => "must not be empty at the root",
                Level.Item => "must not be empty for specified array items",
                _ => "must not be empty for specified object fields",
            }));
        if (embedded && s["additionalProperties"] is not null)
            causes.Add(FieldErrors.Forbidden(FieldPath.Child(path, "additionalProperties"), "must not be used if x-kubernetes-embedded-resource is set"));
        if (level == Level.Root && type is not null && type != "object")
            causes.Add(FieldErrors.Invalid(FieldPath.Child(path, "type"), type, "must be object at the root"));

        var checkMetadata = level == Level.Root || embedded;
        var propertiesPath = FieldPath.Child(path, "properties");
        if (checkMetadata)
            foreach (var meta in new[] { "kind", "apiVersion" })
                if (properties?[meta] is JsonObject m && Text(m, "type") != "string")
                    causes.Add(FieldErrors.Invalid(FieldPath.Child(FieldPath.Key(propertiesPath, meta), "type"), Text(m, "type") ?? "", "must be string"));
        if (properties?["metadata"] is JsonObject metadata)
        {
            var metadataPath = FieldPath.Key(propertiesPath, "metadata");
            if (checkMetadata && Text(metadata, "type") != "object")
                causes.Add(FieldErrors.Invalid(FieldPath.Child(metadataPath, "type"), Text(metadata, "type") ?? "", "must be object"));
            if (level == Level.Root && !OnlyNameRestrictions(metadata))
                causes.Add(FieldErrors.Forbidden(metadataPath, "must not specify anything other than name and generateName, but metadata is implicitly specified"));
        }
        if (embedded && !preserve && (properties is null || properties.Count == 0))
            causes.Add(FieldErrors.Required(FieldPath.Child(path, "properties"),
                "must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields"));
    }

    /// <summary>Root metadata may only restrict name and generateName (with type object and value validations).</summary>
    private static bool OnlyNameRestrictions(JsonObject metadata)
    {
        foreach (var (key, value) in metadata)
        {
            switch (key)
            {
                case "type" or "default":
                    continue;
                case "properties" when value is JsonObject props:
                    if (props.Any(p => p.Key is not ("name" or "generateName"))) return false;
                    continue;
                default:
                    if (key is "description" or "title" or "nullable" or "additionalProperties" or "required" or "items"
                        || key.StartsWith("x-kubernetes-", StringComparison.Ordinal))
                        return false;
                    continue; // value validations (pattern, maxLength, …) are restrictions kubectl may not see but are allowed
            }
        }
        return true;
    }

    private static void ValueValidation(JsonObject s, bool skipAnyOf, bool skipFirstAllOfAnyOf, string path, List<StoreErrorCause> causes)
    {
        void Each(string junctor, Func<int, bool> skip)
        {
            if (s[junctor] is not JsonArray list) return;
            for (var i = 0; i < list.Count; i++)
                if (list[i] is JsonObject j) Nested(j, skip(i), FieldPath.Index(FieldPath.Child(path, junctor), i), causes);
        }
        if (!skipAnyOf) Each("anyOf", _ => false);
        Each("allOf", i => skipFirstAllOfAnyOf && i == 0);
        Each("oneOf", _ => false);
        if (s["not"] is JsonObject not) Nested(not, false, FieldPath.Child(path, "not"), causes);
    }

    /// <summary>A schema under a logic junctor: value validations only.</summary>
    private static void Nested(JsonObject v, bool skipAnyOf, string path, List<StoreErrorCause> causes)
    {
        ValueValidation(v, skipAnyOf, false, path, causes);
        if (v["items"] is JsonObject items) Nested(items, false, FieldPath.Child(path, "items"), causes);
        if (v["properties"] is JsonObject properties)
            foreach (var (name, child) in properties)
                if (child is JsonObject c) Nested(c, false, FieldPath.Key(FieldPath.Child(path, "properties"), name), causes);
        if (v.ContainsKey("type")) causes.Add(FieldErrors.Forbidden(FieldPath.Child(path, "type"), "must be empty to be structural"));
        if (v.ContainsKey("additionalProperties")) causes.Add(FieldErrors.Forbidden(FieldPath.Child(path, "additionalProperties"), "must be undefined to be structural"));
        if (v.ContainsKey("default")) causes.Add(FieldErrors.Forbidden(FieldPath.Child(path, "default"), "must be undefined to be structural"));
        if (Text(v, "title") is { Length: > 0 }) causes.Add(FieldErrors.Forbidden(FieldPath.Child(path, "title"), "must be empty to be structural"));
        if (Text(v, "description") is { Length: > 0 }) causes.Add(FieldErrors.Forbidden(FieldPath.Child(path, "description"), "must be empty to be structural"));
        if (Flag(v, "nullable")) causes.Add(FieldErrors.Forbidden(FieldPath.Child(path, "nullable"), "must be false to be structural"));
        foreach (var (key, message) in new[]
                 {
                     ("x-kubernetes-preserve-unknown-fields", "must be false to be structural"),
                     ("x-kubernetes-embedded-resource", "must be false to be structural"),
                     ("x-kubernetes-int-or-string", "must be false to be structural"),
                 })
            if (Flag(v, key)) causes.Add(FieldErrors.Forbidden(FieldPath.Child(path, key), message));
        if (v["x-kubernetes-list-map-keys"] is JsonArray { Count: > 0 })
            causes.Add(FieldErrors.Forbidden(FieldPath.Child(path, "x-kubernetes-list-map-keys"), "must be empty to be structural"));
        if (v.ContainsKey("x-kubernetes-list-type")) causes.Add(FieldErrors.Forbidden(FieldPath.Child(path, "x-kubernetes-list-type"), "must be undefined to be structural"));
        if (v.ContainsKey("x-kubernetes-map-type")) causes.Add(FieldErrors.Forbidden(FieldPath.Child(path, "x-kubernetes-map-type"), "must be undefined to be structural"));
        if (v["x-kubernetes-validations"] is JsonArray { Count: > 0 })
            causes.Add(FieldErrors.Forbidden(FieldPath.Child(path, "x-kubernetes-validations"), "must be empty to be structural"));
        if (v["properties"] is JsonObject p && p.ContainsKey("metadata"))
            causes.Add(FieldErrors.Forbidden(FieldPath.Key(FieldPath.Child(path, "properties"), "metadata"), "must not be specified in a nested context"));
    }

    /// <summary>Every field or array specified under a junctor is specified outside it too.</summary>
    private static void Completeness(JsonObject v, JsonObject? s, string sPath, string vPath, List<StoreErrorCause> causes)
    {
        foreach (var junctor in Junctors)
            if (v[junctor] is JsonArray list)
                for (var i = 0; i < list.Count; i++)
                    if (list[i] is JsonObject j) NestedCompleteness(j, s, sPath, FieldPath.Index(FieldPath.Child(vPath, junctor), i), causes);
        if (v["not"] is JsonObject not) NestedCompleteness(not, s, sPath, FieldPath.Child(vPath, "not"), causes);
    }

    private static void NestedCompleteness(JsonObject v, JsonObject? s, string sPath, string vPath, List<StoreErrorCause> causes)
    {
        if (s is null)
        {
            causes.Add(FieldErrors.Required(sPath, $"because it is defined in {vPath}"));
            return;
        }
        Completeness(v, s, sPath, vPath, causes);
        if (v["items"] is JsonObject items)
            NestedCompleteness(items, s["items"] as JsonObject, FieldPath.Child(sPath, "items"), FieldPath.Child(vPath, "items"), causes);
        if (v["properties"] is JsonObject properties)
            foreach (var (name, child) in properties)
            {
                if (child is not JsonObject c) continue;
                var sChild = (s["properties"] as JsonObject)?[name] as JsonObject;
                if (sChild is null)
                    causes.Add(FieldErrors.Required(FieldPath.Key(FieldPath.Child(sPath, "properties"), name),
                        $"because it is defined in {FieldPath.Key(FieldPath.Child(vPath, "properties"), name)}"));
                else NestedCompleteness(c, sChild, FieldPath.Key(FieldPath.Child(sPath, "properties"), name),
                    FieldPath.Key(FieldPath.Child(vPath, "properties"), name), causes);
            }
    }

    /// <summary>Every default validates against its own node and carries no field the schema would prune.</summary>
    private static void Defaults(SchemaNode node, string path, List<StoreErrorCause> causes)
    {
        if (node.Default is { } value)
        {
            var at = FieldPath.Child(path, "default");
            var copy = value.DeepClone();
            var pruned = SchemaPruning.Prune(copy, node, isResourceRoot: false);
            foreach (var field in pruned) causes.Add(FieldErrors.Invalid(FieldPath.Child(at, field), "", "must not have unknown fields"));
            if (copy is not null)
                SchemaDefaulting.Apply(copy, node);
            causes.AddRange(SchemaValidation.Validate(copy, node, at, old: null, celRules: false));
        }
        foreach (var (name, child) in node.Properties) Defaults(child, FieldPath.Key(FieldPath.Child(path, "properties"), name), causes);
        if (node.AdditionalProperties is { } additional) Defaults(additional, FieldPath.Child(path, "additionalProperties"), causes);
        if (node.Items is { } items) Defaults(items, FieldPath.Child(path, "items"), causes);
    }

    private static bool IsIntOrStringAnyOf(JsonNode? anyOf) =>
        anyOf is JsonArray { Count: 2 } list && list[0] is JsonObject a && list[1] is JsonObject b &&
        a.Count == 1 && b.Count == 1 && Text(a, "type") == "integer" && Text(b, "type") == "string";

    private static bool ValidRegex(string pattern, out string? error)
    {
        try
        {
            _ = new Regex(pattern, RegexOptions.None, TimeSpan.FromSeconds(1));
            error = null;
            return true;
        }
        catch (ArgumentException e)
        {
            error = e.Message;
            return false;
        }
    }

    private static string? Text(JsonObject o, string key) => o[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static bool Flag(JsonObject o, string key) => o[key] is JsonValue v && v.TryGetValue<bool>(out var b) && b;
}
