using k8s.Models;
using Orchestrator.Master.Registry.Validation;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Registry.Kinds.FlowControl;

/// <summary>
/// flowcontrol/v1 validation (pkg/apis/flowcontrol/validation): FlowSchema precedence, priority level reference,
/// subjects, resource and non-resource rules; PriorityLevelConfiguration types, shares, lending and borrowing
/// percentages, limit response and queuing (with shuffle sharding's entropy bound); conditions. A mandatory object's
/// spec must equal its fixed value.
/// </summary>
internal static class FlowControlRules
{
    public const int MaxMatchingPrecedence = 10000;
    public const int MaxQueues = 10_000_000;

    /// <summary>shufflesharding.MaxHashBits: a hand is dealt from one 64-bit hash, 60 bits of which are used.</summary>
    public const int MaxHashBits = 60;

    private static readonly string[] SupportedVerbs = ["create", "delete", "deletecollection", "get", "list", "patch", "proxy", "update", "watch"];
    private const string NamespaceIntro = "each member of this list must be '*' or a DNS-1123 label; ";

    public static void ValidateFlowSchema(V1FlowSchema fs, List<StoreErrorCause> causes)
    {
        var spec = fs.Spec ?? new V1FlowSchemaSpec();
        var precedence = spec.MatchingPrecedence ?? 0;
        if (precedence <= 0) causes.Add(FieldErrors.Invalid("spec.matchingPrecedence", precedence, "must be a positive value"));
        if (precedence > MaxMatchingPrecedence)
            causes.Add(FieldErrors.Invalid("spec.matchingPrecedence", precedence, $"must not be greater than {MaxMatchingPrecedence}"));
        if (precedence == 1 && fs.Metadata.Name != FlowControlDefaults.Exempt)
            causes.Add(FieldErrors.Invalid("spec.matchingPrecedence", precedence, "only the schema named 'exempt' may have matchingPrecedence 1"));
        if (spec.DistinguisherMethod is { } method && method.Type is not ("ByNamespace" or "ByUser"))
            causes.Add(FieldErrors.NotSupported("spec.distinguisherMethod.type", method.Type, ["ByNamespace", "ByUser"]));
        if (spec.PriorityLevelConfiguration?.Name is { Length: > 0 } level)
            foreach (var message in Names.Check(level, Names.Rule.Dns1123Subdomain))
                causes.Add(FieldErrors.Invalid("spec.priorityLevelConfiguration.name", level, message));
        else causes.Add(FieldErrors.Required("spec.priorityLevelConfiguration.name", "must reference a priority level"));
        for (var i = 0; i < (spec.Rules?.Count ?? 0); i++) ValidateRules(spec.Rules![i], $"spec.rules[{i}]", causes);
        if (FlowControlDefaults.MandatoryFlowSchemas().FirstOrDefault(m => m.Metadata.Name == fs.Metadata.Name) is { } mandatory &&
            !KubeObjects.SameJson(spec, mandatory.Spec))
            causes.Add(FieldErrors.Invalid("spec", new RawValue(KubeObjects.Serialize(spec)), $"spec of '{fs.Metadata.Name}' must equal the fixed value"));
        ValidateConditions(fs.Status?.Conditions?.Select(c => c.Type).ToList(), causes);
    }

    public static void ValidateConditions(IReadOnlyList<string?>? types, List<StoreErrorCause> causes)
    {
        var seen = new HashSet<string>();
        for (var i = 0; i < (types?.Count ?? 0); i++)
        {
            var type = types![i] ?? "";
            if (!seen.Add(type)) causes.Add(FieldErrors.Duplicate($"status.conditions[{i}].type", type));
            if (type.Length == 0) causes.Add(FieldErrors.Required($"status.conditions[{i}].type", "must not be empty"));
        }
    }

    private static void ValidateRules(V1PolicyRulesWithSubjects rules, string path, List<StoreErrorCause> causes)
    {
        if (rules.Subjects is { Count: > 0 } subjects)
            for (var i = 0; i < subjects.Count; i++) ValidateSubject(subjects[i], $"{path}.subjects[{i}]", causes);
        else causes.Add(FieldErrors.Required($"{path}.subjects", "subjects must contain at least one value"));
        if (rules.ResourceRules is not { Count: > 0 } && rules.NonResourceRules is not { Count: > 0 })
            causes.Add(FieldErrors.Required(path, "at least one of resourceRules and nonResourceRules has to be non-empty"));
        for (var i = 0; i < (rules.ResourceRules?.Count ?? 0); i++) ValidateResourceRule(rules.ResourceRules![i], $"{path}.resourceRules[{i}]", causes);
        for (var i = 0; i < (rules.NonResourceRules?.Count ?? 0); i++)
            ValidateNonResourceRule(rules.NonResourceRules![i], $"{path}.nonResourceRules[{i}]", causes);
    }

    private static void ValidateSubject(Flowcontrolv1Subject subject, string path, List<StoreErrorCause> causes)
    {
        void Forbid(object? present, string field, string kind)
        {
            if (present is not null) causes.Add(FieldErrors.Forbidden($"{path}.{field}", $"{field} is forbidden when subject kind is not '{kind}'"));
        }
        switch (subject.Kind)
        {
            case "ServiceAccount":
                if (subject.ServiceAccount is not { } sa)
                    causes.Add(FieldErrors.Required($"{path}.serviceAccount", "serviceAccount is required when subject kind is 'ServiceAccount'"));
                else
                {
                    if (string.IsNullOrEmpty(sa.Name)) causes.Add(FieldErrors.Required($"{path}.serviceAccount.name"));
                    else if (sa.Name != "*")
                        foreach (var message in Names.Check(sa.Name, Names.Rule.Dns1123Subdomain))
                            causes.Add(FieldErrors.Invalid($"{path}.serviceAccount.name", sa.Name, message));
                    if (string.IsNullOrEmpty(sa.NamespaceProperty))
                        causes.Add(FieldErrors.Required($"{path}.serviceAccount.namespace", "must specify namespace for service account"));
                    else
                        foreach (var message in Names.Check(sa.NamespaceProperty, Names.Rule.Dns1123Label))
                            causes.Add(FieldErrors.Invalid($"{path}.serviceAccount.namespace", sa.NamespaceProperty, message));
                }
                Forbid(subject.User, "user", "User");
                Forbid(subject.Group, "group", "Group");
                break;
            case "User":
                if (subject.User is null) causes.Add(FieldErrors.Required($"{path}.user", "user is required when subject kind is 'User'"));
                else if (string.IsNullOrEmpty(subject.User.Name)) causes.Add(FieldErrors.Required($"{path}.user.name"));
                Forbid(subject.ServiceAccount, "serviceAccount", "ServiceAccount");
                Forbid(subject.Group, "group", "Group");
                break;
            case "Group":
                if (subject.Group is null) causes.Add(FieldErrors.Required($"{path}.group", "group is required when subject kind is 'Group'"));
                else if (string.IsNullOrEmpty(subject.Group.Name)) causes.Add(FieldErrors.Required($"{path}.group.name"));
                Forbid(subject.ServiceAccount, "serviceAccount", "ServiceAccount");
                Forbid(subject.User, "user", "User");
                break;
            default:
                causes.Add(FieldErrors.NotSupported($"{path}.kind", subject.Kind, ["Group", "ServiceAccount", "User"]));
                break;
        }
    }

    private static void ValidateVerbs(IList<string>? verbs, string path, List<StoreErrorCause> causes)
    {
        if (verbs is not { Count: > 0 }) causes.Add(FieldErrors.Required($"{path}.verbs", "verbs must contain at least one value"));
        else if (verbs.Contains("*"))
        {
            if (verbs.Count > 1) causes.Add(FieldErrors.Invalid($"{path}.verbs", FieldErrors.GoStrings(verbs), "if '*' is present, must not specify other verbs"));
        }
        else if (verbs.Any(v => !SupportedVerbs.Contains(v)))
            causes.Add(FieldErrors.NotSupported($"{path}.verbs", FieldErrors.GoStrings(verbs), SupportedVerbs));
    }

    private static void ValidateResourceRule(V1ResourcePolicyRule rule, string path, List<StoreErrorCause> causes)
    {
        ValidateVerbs(rule.Verbs, path, causes);
        if (rule.ApiGroups is not { Count: > 0 }) causes.Add(FieldErrors.Required($"{path}.apiGroups", "resource rules must supply at least one api group"));
        else if (rule.ApiGroups.Count > 1 && rule.ApiGroups.Contains("*"))
            causes.Add(FieldErrors.Invalid($"{path}.apiGroups", FieldErrors.GoStrings(rule.ApiGroups), "if '*' is present, must not specify other api groups"));
        if (rule.Resources is not { Count: > 0 }) causes.Add(FieldErrors.Required($"{path}.resources", "resource rules must supply at least one resource"));
        else if (rule.Resources.Count > 1 && rule.Resources.Contains("*"))
            causes.Add(FieldErrors.Invalid($"{path}.resources", FieldErrors.GoStrings(rule.Resources), "if '*' is present, must not specify other resources"));
        var namespaces = rule.Namespaces ?? [];
        if (namespaces.Count == 0 && rule.ClusterScope != true)
            causes.Add(FieldErrors.Required($"{path}.namespaces", "resource rules that are not cluster scoped must supply at least one namespace"));
        else if (namespaces.Contains("*"))
        {
            if (namespaces.Count > 1)
                causes.Add(FieldErrors.Invalid($"{path}.namespaces", FieldErrors.GoStrings(namespaces), "if '*' is present, must not specify other namespaces"));
        }
        else
            for (var i = 0; i < namespaces.Count; i++)
                foreach (var message in Names.Check(namespaces[i], Names.Rule.Dns1123Label))
                    causes.Add(FieldErrors.Invalid($"{path}.namespaces[{i}]", namespaces[i], NamespaceIntro + message));
    }

    private static void ValidateNonResourceRule(V1NonResourcePolicyRule rule, string path, List<StoreErrorCause> causes)
    {
        ValidateVerbs(rule.Verbs, path, causes);
        var urls = rule.NonResourceURLs ?? [];
        if (urls.Count == 0) causes.Add(FieldErrors.Required($"{path}.nonResourceURLs", "nonResourceURLs must contain at least one value"));
        else if (urls.Contains("*"))
        {
            if (urls.Count > 1)
                causes.Add(FieldErrors.Invalid($"{path}.nonResourceURLs", FieldErrors.GoStrings(urls), "if '*' is present, must not specify other non-resource URLs"));
        }
        else
            for (var i = 0; i < urls.Count; i++)
                if (NonResourceUrlProblem(urls[i]) is { } problem)
                    causes.Add(FieldErrors.Invalid($"{path}.nonResourceURLs[{i}]", urls[i], problem));
    }

    /// <summary>ValidateNonResourceURLPath: an absolute path without empty segments or a trailing slash, whose only
    /// wildcard is a last segment "*".</summary>
    internal static string? NonResourceUrlProblem(string url)
    {
        if (url is "" or "*") return null;
        if (!url.StartsWith('/')) return "must start with slash";
        if (url == "/") return null;
        if (url.EndsWith('/')) return "must not end with slash";
        var segments = url[1..].Split('/');
        for (var i = 0; i < segments.Length; i++)
        {
            if (segments[i].Length == 0) return "must not contain empty segment";
            if (segments[i] == "*" && i != segments.Length - 1) return "wildcard can only do suffix glob matching";
        }
        return null;
    }

    public static void ValidatePriorityLevel(V1PriorityLevelConfiguration pl, List<StoreErrorCause> causes)
    {
        var spec = pl.Spec ?? new V1PriorityLevelConfigurationSpec();
        if ((pl.Metadata.Name == FlowControlDefaults.Exempt) != (spec.Type == "Exempt"))
            causes.Add(FieldErrors.Invalid("spec.type", spec.Type ?? "", "type must be 'Exempt' if and only if name is 'exempt'"));
        switch (spec.Type)
        {
            case "Exempt":
                if (spec.Limited is not null) causes.Add(FieldErrors.Forbidden("spec.limited", "must be nil if the type is not Limited"));
                if (spec.Exempt is { } exempt)
                {
                    if (exempt.NominalConcurrencyShares is < 0)
                        causes.Add(FieldErrors.Invalid("spec.exempt.nominalConcurrencyShares", exempt.NominalConcurrencyShares, "must be a non-negative integer"));
                    if (exempt.LendablePercent is < 0 or > 100)
                        causes.Add(FieldErrors.Invalid("spec.exempt.lendablePercent", exempt.LendablePercent, "must be between 0 and 100, inclusive"));
                }
                break;
            case "Limited":
                if (spec.Exempt is not null) causes.Add(FieldErrors.Forbidden("spec.exempt", "must be nil if the type is Limited"));
                if (spec.Limited is not { } limited) causes.Add(FieldErrors.Required("spec.limited", "must not be empty when type is Limited"));
                else ValidateLimited(limited, causes);
                break;
            default:
                causes.Add(FieldErrors.NotSupported("spec.type", spec.Type ?? "", ["Exempt", "Limited"]));
                break;
        }
        if (FlowControlDefaults.MandatoryPriorityLevels().FirstOrDefault(m => m.Metadata.Name == pl.Metadata.Name) is { } mandatory &&
            !KubeObjects.SameJson(spec, mandatory.Spec))
            causes.Add(FieldErrors.Invalid("spec", new RawValue(KubeObjects.Serialize(spec)), $"spec of '{pl.Metadata.Name}' must equal the fixed value"));
        ValidateConditions(pl.Status?.Conditions?.Select(c => c.Type).ToList(), causes);
    }

    private static void ValidateLimited(V1LimitedPriorityLevelConfiguration limited, List<StoreErrorCause> causes)
    {
        // v1 allows zero shares (a level that only borrows)
        if (limited.NominalConcurrencyShares is < 0)
            causes.Add(FieldErrors.Invalid("spec.limited.nominalConcurrencyShares", limited.NominalConcurrencyShares, "must be a non-negative integer"));
        var response = limited.LimitResponse ?? new V1LimitResponse();
        switch (response.Type)
        {
            case "Reject":
                if (response.Queuing is not null)
                    causes.Add(FieldErrors.Forbidden("spec.limited.limitResponse.queuing", "must be nil if limited.limitResponse.type is not Limited"));
                break;
            case "Queue":
                if (response.Queuing is not { } queuing)
                    causes.Add(FieldErrors.Required("spec.limited.limitResponse.queuing", "must not be empty if limited.limitResponse.type is Limited"));
                else ValidateQueuing(queuing, causes);
                break;
            default:
                causes.Add(FieldErrors.NotSupported("spec.limited.limitResponse.type", response.Type ?? "", ["Queue", "Reject"]));
                break;
        }
        if (limited.LendablePercent is < 0 or > 100)
            causes.Add(FieldErrors.Invalid("spec.limited.lendablePercent", limited.LendablePercent, "must be between 0 and 100, inclusive"));
        if (limited.BorrowingLimitPercent is < 0)
            causes.Add(FieldErrors.Invalid("spec.limited.borrowingLimitPercent", limited.BorrowingLimitPercent, "if specified, must be a non-negative integer"));
    }

    private static void ValidateQueuing(V1QueuingConfiguration queuing, List<StoreErrorCause> causes)
    {
        const string path = "spec.limited.limitResponse.queuing";
        var (queues, handSize, length) = (queuing.Queues ?? 0, queuing.HandSize ?? 0, queuing.QueueLengthLimit ?? 0);
        if (length <= 0) causes.Add(FieldErrors.Invalid($"{path}.queueLengthLimit", length, "must be positive"));
        if (queues <= 0) causes.Add(FieldErrors.Invalid($"{path}.queues", queues, "must be positive"));
        else if (queues > MaxQueues) causes.Add(FieldErrors.Invalid($"{path}.queues", queues, $"must not be greater than {MaxQueues}"));
        if (handSize <= 0) causes.Add(FieldErrors.Invalid($"{path}.handSize", handSize, "must be positive"));
        else if (handSize > queues) causes.Add(FieldErrors.Invalid($"{path}.handSize", handSize, $"should not be greater than queues ({queues})"));
        else if (RequiredEntropyBits(queues, handSize) > MaxHashBits)
            causes.Add(FieldErrors.Invalid($"{path}.handSize", handSize,
                $"required entropy bits of deckSize {queues} and handSize {handSize} should not be greater than {MaxHashBits}"));
    }

    /// <summary>shufflesharding.RequiredEntropyBits: ceil(log2(deckSize) * handSize).</summary>
    public static int RequiredEntropyBits(int deckSize, int handSize) => (int)Math.Ceiling(Math.Log2(deckSize) * handSize);
}
