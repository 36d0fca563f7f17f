using System.Text.Json.Nodes;
using k8s.Models;
using Orchestrator.Master.Registry.Validation;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Admission.Policies;

/// <summary>A kind's group, version and kind; <see cref="ToString"/> as kube's schema.GroupVersionKind prints it.</summary>
internal sealed record PolicyKind(string Group, string Version, string Kind)
{
    public override string ToString() => $"{Group}/{Version}, Kind={Kind}";
}

/// <summary>A kind's published OpenAPI schema and the resolver of the references in it.</summary>
internal sealed record PolicySchema(JsonObject Root, Func<string, JsonObject?> Refs);

/// <summary>What the type checker asks of the API (kube's RESTMapper and SchemaResolver): the kinds served under a group,
/// version and resource, and a kind's schema as the API publishes it (null when there is none).</summary>
internal interface IPolicySchemaSource
{
    IReadOnlyList<PolicyKind> KindsFor(string group, string version, string resource);

    PolicySchema? Resolve(PolicyKind kind);
}

/// <summary>
/// kube's ValidatingAdmissionPolicy type checking (apiserver admission/plugin/policy/validating typechecking.go), which
/// kube-controller-manager's status controller writes into <c>status.typeChecking</c>: each validation's expression and
/// messageExpression is checked once per kind the policy's matchConstraints.resourceRules name exactly (no wildcard
/// group or version, no wildcard or subresource resource; no more once one rule gave ten kinds; sorted by group, version, kind),
/// with <c>object</c> and <c>oldObject</c> typed by that kind's published schema, <c>params</c> by paramKind's, and
/// <c>request</c> and <c>namespaceObject</c> by kube's hand-made types. Each failing kind adds
/// "<c>group/version, Kind=K: </c>" and cel-go's issues; a kind without a schema is skipped. Warnings only: the policy
/// is enforced whatever they say. Conservative where kube's types are not known for sure (<see cref="CelTypeCheck"/>):
/// the variables are dyn, and so are params when paramKind has no schema, where kube would find params undeclared.
/// </summary>
internal static class PolicyTypeChecker
{
    private const int MaxTypesToCheck = 10;

    public static List<V1ExpressionWarning> Check(V1ValidatingAdmissionPolicy policy, IPolicySchemaSource source)
    {
        var warnings = new List<V1ExpressionWarning>();
        var spec = policy.Spec;
        if (spec?.Validations is not { Count: > 0 } validations) return warnings;
        var contexts = Contexts(spec, source);
        for (var i = 0; i < validations.Count; i++)
        {
            if (CheckExpression(validations[i].Expression, contexts) is { } issues)
                warnings.Add(Warning($"spec.validations[{i}].expression", issues));
            if (string.IsNullOrEmpty(validations[i].MessageExpression)) continue;
            if (CheckExpression(validations[i].MessageExpression, contexts) is { } messageIssues)
                warnings.Add(Warning($"spec.validations[{i}].messageExpression", messageIssues));
        }
        return warnings;
    }

    private static V1ExpressionWarning Warning(string fieldRef, string text) => new() { FieldRef = fieldRef, Warning = text };

    /// <summary>The expression checked against each kind: kube's TypeCheckingResults.String (each failing kind's
    /// issues followed by a newline, joined by newlines), or null when every kind passes.</summary>
    private static string? CheckExpression(string? expression, IReadOnlyList<(PolicyKind Kind, Dictionary<string, CelType> Variables)> contexts)
    {
        if (string.IsNullOrEmpty(expression)) return null;
        var messages = new List<string>();
        foreach (var (kind, variables) in contexts)
            if (CelRules.TypeCheck(expression, variables) is { Errors: { } errors })
                messages.Add($"{kind}: {errors}\n");
        return messages.Count == 0 ? null : string.Join("\n", messages);
    }

    /// <summary>The declarations per kind checked, as kube's buildEnvSet.</summary>
    private static List<(PolicyKind, Dictionary<string, CelType>)> Contexts(V1ValidatingAdmissionPolicySpec spec, IPolicySchemaSource source)
    {
        var paramsType = ParamKindOf(spec) is { } paramKind && source.Resolve(paramKind) is { } paramSchema
            ? CelType.FromSchema(paramSchema.Root, UniqueName(paramKind.Kind), resourceRoot: true, paramSchema.Refs)
            : null;
        var variables = CelType.Record("kubernetes.variables",
            (spec.Variables ?? []).Where(v => !string.IsNullOrEmpty(v.Name)).DistinctBy(v => v.Name)
                .ToDictionary(v => v.Name, _ => CelType.Dyn, StringComparer.Ordinal));
        var result = new List<(PolicyKind, Dictionary<string, CelType>)>();
        foreach (var kind in KindsToCheck(spec, source))
        {
            if (source.Resolve(kind) is not { } schema) continue;
            var objectType = CelType.FromSchema(schema.Root, UniqueName(kind.Kind), resourceRoot: true, schema.Refs) ?? CelType.Dyn;
            var declarations = new Dictionary<string, CelType>(StringComparer.Ordinal)
            {
                ["object"] = objectType,
                ["oldObject"] = objectType,
                ["request"] = RequestType,
                ["namespaceObject"] = NamespaceType,
                ["authorizer"] = CelType.Dyn,
                ["variables"] = variables,
            };
            if (spec.ParamKind is not null) declarations["params"] = paramsType ?? CelType.Dyn;
            result.Add((kind, declarations));
        }
        return result;
    }

    /// <summary>kube's generateUniqueTypeName: the kind and the clock's nanoseconds.</summary>
    private static string UniqueName(string kind) => $"{kind}{DateTime.UtcNow.Ticks % 10_000_000 * 100}";

    private static PolicyKind? ParamKindOf(V1ValidatingAdmissionPolicySpec spec)
    {
        if (spec.ParamKind is not { ApiVersion: { Length: > 0 } apiVersion, Kind: { Length: > 0 } kind }) return null;
        return ApiVersions.Parse(apiVersion) is { } gv ? new PolicyKind(gv.Group, gv.Version, kind) : null;
    }

    /// <summary>kube's typesToCheck: every kind of each exactly named group, version and resource of the resourceRules,
    /// no more once one rule gave ten, sorted by group, version and kind.</summary>
    internal static List<PolicyKind> KindsToCheck(V1ValidatingAdmissionPolicySpec spec, IPolicySchemaSource source)
    {
        var kinds = new HashSet<PolicyKind>();
        foreach (var rule in spec.MatchConstraints?.ResourceRules ?? [])
        {
            // a wildcard group or version gives up on the rule; wildcard and subresource resources are skipped
            if (rule.ApiGroups is not { Count: > 0 } groups || groups.Any(g => g.Contains('*'))) continue;
            if (rule.ApiVersions is not { Count: > 0 } versions || versions.Any(v => v.Contains('*'))) continue;
            var resources = (rule.Resources ?? []).Where(r => !r.Contains('*') && !r.Contains('/')).ToList();
            if (resources.Count == 0) continue;
            var count = 0;
            foreach (var group in groups.Order(StringComparer.Ordinal))
            foreach (var version in versions.Order(StringComparer.Ordinal))
            foreach (var resource in resources.Order(StringComparer.Ordinal))
            foreach (var kind in source.KindsFor(group, version, resource))
            {
                kinds.Add(kind);
                // kube stops looking at all once one rule has given ten
                if (++count == MaxTypesToCheck) goto done;
            }
        }
        done:
        return kinds.OrderBy(k => k.Group, StringComparer.Ordinal).ThenBy(k => k.Version, StringComparer.Ordinal)
            .ThenBy(k => k.Kind, StringComparer.Ordinal).ToList();
    }

    private static Dictionary<string, CelType> Fields(params (string Name, CelType Type)[] fields) =>
        fields.ToDictionary(f => f.Name, f => f.Type, StringComparer.Ordinal);

    /// <summary>kube's BuildRequestType (admission/plugin/cel/compile.go).</summary>
    internal static readonly CelType RequestType = BuildRequestType();

    /// <summary>kube's BuildNamespaceType (its metadata's uid field is "UID", as kube declares it).</summary>
    internal static readonly CelType NamespaceType = BuildNamespaceType();

    private static CelType BuildRequestType()
    {
        var strings = CelType.List(CelType.String);
        var gvk = CelType.Record("kubernetes.GroupVersionKind",
            Fields(("group", CelType.String), ("version", CelType.String), ("kind", CelType.String)));
        var gvr = CelType.Record("kubernetes.GroupVersionResource",
            Fields(("group", CelType.String), ("version", CelType.String), ("resource", CelType.String)));
        var userInfo = CelType.Record("kubernetes.UserInfo", Fields(("username", CelType.String), ("uid", CelType.String),
            ("groups", strings), ("extra", CelType.Map(CelType.String, strings))));
        return CelType.Record("kubernetes.AdmissionRequest", Fields(
            ("kind", gvk), ("resource", gvr), ("subResource", CelType.String), ("requestKind", gvk), ("requestResource", gvr),
            ("requestSubResource", CelType.String), ("name", CelType.String), ("namespace", CelType.String),
            ("operation", CelType.String), ("userInfo", userInfo), ("dryRun", CelType.Bool), ("options", CelType.Dyn)));
    }

    private static CelType BuildNamespaceType()
    {
        var strings = CelType.List(CelType.String);
        var labels = CelType.Map(CelType.String, CelType.String);
        var spec = CelType.Record("kubernetes.NamespaceSpec", Fields(("finalizers", strings)));
        var condition = CelType.Record("kubernetes.NamespaceCondition", Fields(("status", CelType.String), ("type", CelType.String),
            ("lastTransitionTime", CelType.Timestamp), ("message", CelType.String), ("reason", CelType.String)));
        var status = CelType.Record("kubernetes.NamespaceStatus", Fields(("conditions", CelType.List(condition)), ("phase", CelType.String)));
        var metadata = CelType.Record("kubernetes.NamespaceMetadata", Fields(
            ("name", CelType.String), ("generateName", CelType.String), ("namespace", CelType.String), ("labels", labels),
            ("annotations", labels), ("UID", CelType.String), ("creationTimestamp", CelType.Timestamp),
            ("deletionGracePeriodSeconds", CelType.Int), ("deletionTimestamp", CelType.Timestamp), ("generation", CelType.Int),
            ("resourceVersion", CelType.String), ("finalizers", strings)));
        return CelType.Record("kubernetes.Namespace", Fields(("metadata", metadata), ("spec", spec), ("status", status)));
    }
}
