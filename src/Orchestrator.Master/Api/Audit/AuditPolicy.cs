using System.Text.Json.Nodes;
using Orchestrator.Master.Api.Http;

namespace Orchestrator.Master.Api.Audit;

/// <summary>How much of a request the audit log keeps (audit.k8s.io/v1 Level), least first.</summary>
internal enum AuditLevel { None, Metadata, Request, RequestResponse }

/// <summary>The resources of a rule: a group, resources ("pods", "pods/log", "*", "*/status", "deployments/*") and names.</summary>
internal sealed record AuditGroupResources(string Group, IReadOnlyList<string> Resources, IReadOnlyList<string> ResourceNames);

/// <summary>One rule of an audit policy (audit.k8s.io/v1 PolicyRule).</summary>
internal sealed record AuditRule(AuditLevel Level, IReadOnlyList<string> Users, IReadOnlyList<string> UserGroups,
    IReadOnlyList<string> Verbs, IReadOnlyList<AuditGroupResources> Resources, IReadOnlyList<string> Namespaces,
    IReadOnlyList<string> NonResourceUrls, IReadOnlyList<string>? OmitStages, bool? OmitManagedFields);

/// <summary>What a request is, as the policy matches it (kube's authorizer.Attributes).</summary>
internal sealed record AuditRequest(string User, IReadOnlyList<string> Groups, string Verb, bool IsResourceRequest, string Path,
    string ApiGroup, string Resource, string Subresource, string Namespace, string Name);

/// <summary>What the policy decides for a request: the level, the stages not logged, whether managedFields are dropped.</summary>
internal sealed record AuditDecision(AuditLevel Level, IReadOnlySet<string> OmitStages, bool OmitManagedFields);

/// <summary>
/// An audit policy file (audit.k8s.io/v1 Policy) and kube's rule matching (k8s.io/apiserver/pkg/audit/policy): the
/// first rule that matches the request decides its level; no rule, no logging.
/// </summary>
internal sealed class AuditPolicy(IReadOnlyList<AuditRule> rules, IReadOnlyList<string> omitStages, bool omitManagedFields)
{
    public static readonly string[] Stages = ["RequestReceived", "ResponseStarted", "ResponseComplete", "Panic"];

    public IReadOnlyList<AuditRule> Rules { get; } = rules;

    public AuditDecision Decide(AuditRequest request)
    {
        foreach (var rule in Rules)
        {
            if (!Matches(rule, request)) continue;
            var stages = new HashSet<string>(omitStages);
            stages.UnionWith(rule.OmitStages ?? []);
            return new AuditDecision(rule.Level, stages, rule.OmitManagedFields ?? omitManagedFields);
        }
        return new AuditDecision(AuditLevel.None, new HashSet<string>(), omitManagedFields);
    }

    private static bool Matches(AuditRule rule, AuditRequest request)
    {
        if (rule.Users.Count > 0 && !rule.Users.Contains(request.User)) return false;
        if (rule.UserGroups.Count > 0 && !request.Groups.Any(rule.UserGroups.Contains)) return false;
        if (rule.Verbs.Count > 0 && !rule.Verbs.Contains(request.Verb)) return false;
        if (rule.Namespaces.Count > 0 || rule.Resources.Count > 0) return MatchesResource(rule, request);
        if (rule.NonResourceUrls.Count > 0)
            return !request.IsResourceRequest && rule.NonResourceUrls.Any(spec => PathMatches(request.Path, spec));
        return true;
    }

    private static bool PathMatches(string path, string spec) =>
        spec == "*" || spec == path || (spec.EndsWith('*') && path.StartsWith(spec.TrimEnd('*'), StringComparison.Ordinal));

    private static bool MatchesResource(AuditRule rule, AuditRequest request)
    {
        if (!request.IsResourceRequest) return false;
        // cluster-scoped resources have the namespace ""
        if (rule.Namespaces.Count > 0 && !rule.Namespaces.Contains(request.Namespace)) return false;
        if (rule.Resources.Count == 0) return true;
        var combined = request.Subresource.Length > 0 ? $"{request.Resource}/{request.Subresource}" : request.Resource;
        foreach (var group in rule.Resources)
        {
            if (group.Group != request.ApiGroup) continue;
            if (group.Resources.Count == 0) return true;
            if (group.ResourceNames.Count > 0 && !group.ResourceNames.Contains(request.Name)) continue;
            foreach (var resource in group.Resources)
            {
                if (resource == combined || resource == "*") return true;
                if (request.Subresource.Length > 0 && resource.StartsWith("*/", StringComparison.Ordinal) &&
                    request.Subresource == resource[2..])
                    return true;
                if (resource.EndsWith("/*", StringComparison.Ordinal) && request.Resource == resource[..^2]) return true;
            }
        }
        return false;
    }

    /// <summary>Reads a policy file; <see cref="FormatException"/> says in one line what is wrong with it.</summary>
    public static AuditPolicy Load(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FormatException($"--audit-policy-file {path}: {e.Message}");
        }
        try
        {
            return Parse(bytes);
        }
        catch (Exception e) when (e is FormatException or ApiException or InvalidOperationException)
        {
            throw new FormatException($"--audit-policy-file {path}: {e.Message}");
        }
    }

    public static AuditPolicy Parse(byte[] yaml)
    {
        if (YamlBody.Parse(yaml).Root is not JsonObject root) throw new FormatException("not an audit.k8s.io/v1 Policy object");
        var apiVersion = root["apiVersion"]?.ToString();
        if (apiVersion is not ("audit.k8s.io/v1" or "audit.k8s.io/v1beta1") || root["kind"]?.ToString() != "Policy")
            throw new FormatException($"expected apiVersion audit.k8s.io/v1 and kind Policy, found {apiVersion ?? "no apiVersion"} {root["kind"]?.ToString() ?? "and no kind"}");
        var omitStages = Strings(root, "omitStages", "omitStages");
        CheckStages(omitStages, "omitStages");
        var rules = new List<AuditRule>();
        if (root["rules"] is not JsonArray ruleArray || ruleArray.Count == 0) throw new FormatException("loaded illegal policy with 0 rules");
        for (var i = 0; i < ruleArray.Count; i++)
        {
            var at = $"rules[{i}]";
            if (ruleArray[i] is not JsonObject rule) throw new FormatException($"{at}: must be an object");
            var levelText = rule["level"]?.ToString() ?? "";
            if (!Enum.TryParse<AuditLevel>(levelText, ignoreCase: false, out var level) || !Enum.IsDefined(level) || levelText.Any(char.IsDigit))
                throw new FormatException($"{at}.level: Unsupported value: \"{levelText}\": supported values: \"None\", \"Metadata\", \"Request\", \"RequestResponse\"");
            var resources = new List<AuditGroupResources>();
            if (rule["resources"] is JsonArray groups)
                for (var g = 0; g < groups.Count; g++)
                {
                    var group = groups[g] as JsonObject ?? throw new FormatException($"{at}.resources[{g}]: must be an object");
                    resources.Add(new AuditGroupResources(group["group"]?.ToString() ?? "",
                        Strings(group, "resources", $"{at}.resources[{g}].resources"),
                        Strings(group, "resourceNames", $"{at}.resources[{g}].resourceNames")));
                }
            var nonResourceUrls = Strings(rule, "nonResourceURLs", $"{at}.nonResourceURLs");
            var namespaces = Strings(rule, "namespaces", $"{at}.namespaces");
            if (nonResourceUrls.Count > 0 && (resources.Count > 0 || namespaces.Count > 0))
                throw new FormatException($"{at}.nonResourceURLs: Invalid value: rules cannot apply to both regular resources and non-resource URLs");
            var ruleStages = rule.ContainsKey("omitStages") ? Strings(rule, "omitStages", $"{at}.omitStages") : null;
            if (ruleStages is not null) CheckStages(ruleStages, $"{at}.omitStages");
            rules.Add(new AuditRule(level, Strings(rule, "users", $"{at}.users"), Strings(rule, "userGroups", $"{at}.userGroups"),
                Strings(rule, "verbs", $"{at}.verbs"), resources, namespaces, nonResourceUrls, ruleStages,
                rule["omitManagedFields"] is JsonValue omit ? omit.GetValue<bool>() : null));
        }
        return new AuditPolicy(rules, omitStages, root["omitManagedFields"] is JsonValue all && all.GetValue<bool>());
    }

    private static void CheckStages(IEnumerable<string> stages, string at)
    {
        foreach (var stage in stages)
            if (!Stages.Contains(stage))
                throw new FormatException($"{at}: Unsupported value: \"{stage}\": supported values: \"{string.Join("\", \"", Stages)}\"");
    }

    private static IReadOnlyList<string> Strings(JsonObject obj, string field, string at) => obj[field] switch
    {
        null => [],
        JsonArray array => array.Select(v => v is JsonValue value && value.TryGetValue<string>(out var s)
            ? s
            : throw new FormatException($"{at}: must be a list of strings")).ToList(),
        _ => throw new FormatException($"{at}: must be a list of strings"),
    };
}
