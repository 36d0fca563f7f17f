using System.Text.RegularExpressions;
using k8s.Models;
using Orchestrator.Master.Registry.Validation;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Registry.Kinds.AdmissionRegistration;

/// <summary>What a policy and a binding share: their match resources' defaults (SetDefaults_MatchResources,
/// SetDefaults_Rule) and validation (validateMatchResources, validateNamedRuleWithOperations, validateRule).</summary>
internal static partial class AdmissionPolicyRules
{
    public static void Default(V1MatchResources? match)
    {
        if (match is null) return;
        match.MatchPolicy ??= "Equivalent";
        match.NamespaceSelector ??= new V1LabelSelector();
        match.ObjectSelector ??= new V1LabelSelector();
        foreach (var rule in (match.ResourceRules ?? []).Concat(match.ExcludeResourceRules ?? [])) rule.Scope ??= "*";
    }

    public static void ValidateMatchResources(V1MatchResources match, string path, List<StoreErrorCause> causes)
    {
        if (match.MatchPolicy is null) causes.Add(FieldErrors.Required(path + ".matchPolicy"));
        else if (match.MatchPolicy is not ("Exact" or "Equivalent"))
            causes.Add(FieldErrors.NotSupported(path + ".matchPolicy", match.MatchPolicy, ["Equivalent", "Exact"]));
        if (match.NamespaceSelector is null) causes.Add(FieldErrors.Required(path + ".namespaceSelector"));
        else LabelRules.ValidateSelector(match.NamespaceSelector, path + ".namespaceSelector", causes);
        if (match.ObjectSelector is null) causes.Add(FieldErrors.Required(path + ".objectSelector"));
        else LabelRules.ValidateSelector(match.ObjectSelector, path + ".objectSelector", causes);
        for (var i = 0; i < (match.ResourceRules?.Count ?? 0); i++) ValidateRule(match.ResourceRules![i], $"{path}.resourceRules[{i}]", causes);
        for (var i = 0; i < (match.ExcludeResourceRules?.Count ?? 0); i++)
            ValidateRule(match.ExcludeResourceRules![i], $"{path}.excludeResourceRules[{i}]", causes);
    }

    private static readonly string[] Operations = ["*", "CONNECT", "CREATE", "DELETE", "UPDATE"];

    /// <summary>A webhook's rule (validateRuleWithOperations): a named rule without names; CONNECT is refused with
    /// <paramref name="connectRefusal"/>.</summary>
    public static void ValidateRule(V1RuleWithOperations rule, string path, List<StoreErrorCause> causes, string connectRefusal) =>
        ValidateRule(new V1NamedRuleWithOperations
        {
            ApiGroups = rule.ApiGroups, ApiVersions = rule.ApiVersions, Operations = rule.Operations, Resources = rule.Resources, Scope = rule.Scope,
        },
            path, causes, connectRefusal);

    private static void ValidateRule(V1NamedRuleWithOperations rule, string path, List<StoreErrorCause> causes,
        string connectRefusal = "CONNECT requests are not admitted by policies in this API server, so a rule naming them is refused rather than stored and ignored")
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < (rule.ResourceNames?.Count ?? 0); i++)
        {
            var name = rule.ResourceNames![i];
            foreach (var problem in Names.Check(name, Names.Rule.PathSegment)) causes.Add(FieldErrors.Invalid($"{path}.resourceNames[{i}]", name, problem));
            if (!names.Add(name)) causes.Add(FieldErrors.Duplicate($"{path}.resourceNames[{i}]", name));
        }
        var operations = rule.Operations ?? [];
        if (operations.Count == 0) causes.Add(FieldErrors.Required(path + ".operations"));
        if (operations.Count > 1 && operations.Contains("*"))
            causes.Add(FieldErrors.Invalid(path + ".operations", GoStrings("admissionregistration.OperationType", operations), "if '*' is present, must not specify other operations"));
        for (var i = 0; i < operations.Count; i++)
        {
            if (!Operations.Contains(operations[i]))
                causes.Add(FieldErrors.NotSupported($"{path}.operations[{i}]", operations[i], Operations));
            // connect requests (exec, attach, port-forward, proxy) pass no admission in this API server
            else if (operations[i] == "CONNECT")
                causes.Add(FieldErrors.Forbidden($"{path}.operations[{i}]", connectRefusal));
        }
        var groups = rule.ApiGroups ?? [];
        if (groups.Count == 0) causes.Add(FieldErrors.Required(path + ".apiGroups"));
        if (groups.Count > 1 && groups.Contains("*"))
            causes.Add(FieldErrors.Invalid(path + ".apiGroups", FieldErrors.GoStrings(groups), "if '*' is present, must not specify other API groups"));
        var versions = rule.ApiVersions ?? [];
        if (versions.Count == 0) causes.Add(FieldErrors.Required(path + ".apiVersions"));
        if (versions.Count > 1 && versions.Contains("*"))
            causes.Add(FieldErrors.Invalid(path + ".apiVersions", FieldErrors.GoStrings(versions), "if '*' is present, must not specify other API versions"));
        for (var i = 0; i < versions.Count; i++)
            if (versions[i].Length == 0) causes.Add(FieldErrors.Required($"{path}.apiVersions[{i}]"));
        ValidateResources(rule.Resources ?? [], path + ".resources", causes);
        if (rule.Scope is { } scope && scope is not ("*" or "Cluster" or "Namespaced"))
            causes.Add(FieldErrors.NotSupported(path + ".scope", scope, ["*", "Cluster", "Namespaced"]));
    }

    private static void ValidateResources(IList<string> resources, string path, List<StoreErrorCause> causes)
    {
        if (resources.Count == 0) causes.Add(FieldErrors.Required(path));
        var withWildcardSub = new HashSet<string>(StringComparer.Ordinal);
        var subWithWildcardRes = new HashSet<string>(StringComparer.Ordinal);
        bool doubleWildcard = false, singleWildcard = false, withoutSub = false;
        for (var i = 0; i < resources.Count; i++)
        {
            var resSub = resources[i];
            if (resSub.Length == 0)
            {
                causes.Add(FieldErrors.Required($"{path}[{i}]"));
                continue;
            }
            if (resSub == "*/*") doubleWildcard = true;
            if (resSub == "*") singleWildcard = true;
            var slash = resSub.IndexOf('/');
            if (slash < 0)
            {
                withoutSub = resSub != "*";
                continue;
            }
            var (res, sub) = (resSub[..slash], resSub[(slash + 1)..]);
            if (withWildcardSub.Contains(res)) causes.Add(FieldErrors.Invalid($"{path}[{i}]", resSub, $"if '{res}/*' is present, must not specify {resSub}"));
            if (subWithWildcardRes.Contains(sub)) causes.Add(FieldErrors.Invalid($"{path}[{i}]", resSub, $"if '*/{sub}' is present, must not specify {resSub}"));
            if (sub == "*") withWildcardSub.Add(res);
            if (res == "*") subWithWildcardRes.Add(sub);
        }
        if (resources.Count > 1 && doubleWildcard)
            causes.Add(FieldErrors.Invalid(path, FieldErrors.GoStrings(resources), "if '*/*' is present, must not specify other resources"));
        if (singleWildcard && withoutSub)
            causes.Add(FieldErrors.Invalid(path, FieldErrors.GoStrings(resources), "if '*' is present, must not specify other resources without subresources"));
    }

    /// <summary>Whether an expression names the <c>authorizer</c> variable (outside its string literals).</summary>
    public static bool UsesAuthorizer(string expression) => Authorizer().IsMatch(StringLiteral().Replace(expression, ""));

    [GeneratedRegex(@"(?<![A-Za-z0-9_.])authorizer\b")]
    private static partial Regex Authorizer();

    [GeneratedRegex("\"(\\\\.|[^\"\\\\])*\"|'(\\\\.|[^'\\\\])*'")]
    private static partial Regex StringLiteral();

    public static RawValue GoValidationActions(IEnumerable<string> actions) => GoStrings("admissionregistration.ValidationAction", actions);

    /// <summary>A slice of a named string type in Go's %#v notation.</summary>
    private static RawValue GoStrings(string type, IEnumerable<string> values) =>
        new($"[]{type}{{{string.Join(", ", values.Select(GoQuote.Quote))}}}");
}
