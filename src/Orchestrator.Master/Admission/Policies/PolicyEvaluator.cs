using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using k8s;
using k8s.Models;
using Orchestrator.Master.Registry.Validation;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Admission.Policies;

/// <summary>What one validation said: admit, or deny with a message and reason (an evaluation error under
/// failurePolicy Fail is a deny without reason); <paramref name="Index"/> is the validation's index.</summary>
internal sealed record PolicyDecision(bool Deny, string Message, string? Reason, int Index);

/// <summary>What one audit annotation said: a value to publish, or an error (failurePolicy Fail denies the request).</summary>
internal sealed record PolicyAuditAnnotation(string Key, string? Value, string? Error);

/// <summary>The decisions of one policy for one binding and one param: kube's validating validator.Validate.</summary>
internal sealed record PolicyValidation(IReadOnlyList<PolicyDecision> Decisions, IReadOnlyList<PolicyAuditAnnotation> AuditAnnotations)
{
    public static readonly PolicyValidation None = new([], []);
}

/// <summary>
/// Evaluates a policy's CEL against a request with kube's variables: <c>object</c>, <c>oldObject</c>, <c>request</c> (the
/// AdmissionRequest: kind, resource, subResource, requestKind, requestResource, name, namespace, operation, userInfo,
/// dryRun), <c>params</c>, <c>namespaceObject</c> and the policy's <c>variables</c> (each evaluated in order; one that
/// fails fails the expressions that use it, as kube's lazy composition). Then matchConditions (any false: the policy says
/// nothing; an error: failurePolicy), validations (message from messageExpression, message, or "failed expression: …")
/// and auditAnnotations, as validator.go.
/// </summary>
internal static class PolicyEvaluator
{
    public static PolicyValidation Validate(V1ValidatingAdmissionPolicySpec spec, PolicyRequest request, IKubernetesObject<V1ObjectMeta>? param)
    {
        var fail = spec.FailurePolicy != "Ignore";
        var activation = Activation(request, param);
        // kube's RuntimeCELCostBudget: one for the match conditions, one for everything else of this evaluation
        var conditionBudget = new CelBudget();
        var budget = new CelBudget();
        var failedVariables = Variables(spec.Variables, activation, budget);

        if (spec.MatchConditions is { Count: > 0 } conditions)
        {
            var (matches, error) = MatchConditions(conditions, activation, failedVariables, conditionBudget);
            if (conditionBudget.Exhausted) return OutOfBudget(fail);
            if (error is not null)
                return fail ? new PolicyValidation([new PolicyDecision(true, error, null, 0)], []) : PolicyValidation.None;
            if (!matches) return PolicyValidation.None;
        }

        var decisions = new List<PolicyDecision>();
        for (var i = 0; i < (spec.Validations?.Count ?? 0); i++)
        {
            var validation = spec.Validations![i];
            var (value, error) = Run(validation.Expression, activation, failedVariables, budget);
            if (budget.Exhausted) return OutOfBudget(fail);
            if (error is null && value is not bool) error = $"expression '{validation.Expression}' resulted in error: must evaluate to bool";
            if (error is not null)
            {
                if (fail) decisions.Add(new PolicyDecision(true, error, null, i));
                continue;
            }
            if ((bool)value!) continue;
            decisions.Add(new PolicyDecision(true, Message(validation, activation, failedVariables, budget), validation.Reason ?? "Invalid", i));
            if (budget.Exhausted) return OutOfBudget(fail);
        }

        var annotations = new List<PolicyAuditAnnotation>();
        foreach (var annotation in spec.AuditAnnotations ?? [])
        {
            var (value, error) = Run(annotation.ValueExpression, activation, failedVariables, budget);
            if (budget.Exhausted) return OutOfBudget(fail);
            if (error is not null)
            {
                if (fail) annotations.Add(new PolicyAuditAnnotation(annotation.Key, null, error));
                continue;
            }
            switch (value)
            {
                case null:
                    break;
                case string text when text.Trim().Length == 0:
                    break;
                case string text:
                    annotations.Add(new PolicyAuditAnnotation(annotation.Key, text.Trim(), null));
                    break;
                default:
                    annotations.Add(new PolicyAuditAnnotation(annotation.Key, null,
                        $"valueExpression '{annotation.ValueExpression}' resulted in unsupported return type: {CelTypeName(value)}. Return type must be either string or null."));
                    break;
            }
        }
        return new PolicyValidation(decisions, annotations);
    }

    /// <summary>A webhook's matchConditions (kube's matchconditions.Matcher): false when one is false, whatever the others'
    /// errors; else the errors aggregated, if any. A webhook's conditions have a cost budget of their own; one spent is an error.</summary>
    public static (bool Matches, string? Error) MatchConditions(IList<V1MatchCondition> conditions, PolicyRequest request)
    {
        var budget = new CelBudget();
        var (matches, error) = MatchConditions(conditions, Activation(request, null), new Dictionary<string, string>(), budget);
        return budget.Exhausted ? (false, CelCost.BudgetExhausted) : (matches, error);
    }

    private static (bool Matches, string? Error) MatchConditions(IList<V1MatchCondition> conditions, Dictionary<string, object?> activation,
        IReadOnlyDictionary<string, string> failedVariables, CelBudget budget)
    {
        var errors = new List<string>();
        foreach (var condition in conditions)
        {
            var (value, error) = Run(condition.Expression, activation, failedVariables, budget);
            if (budget.Exhausted) return (false, null);
            if (error is not null) errors.Add(error);
            else if (value is not bool holds) errors.Add($"matchCondition '{condition.Name}' evaluated to non-bool");
            // one condition false: the policy does not apply, whatever the others' errors
            else if (!holds) return (false, null);
        }
        return errors.Count > 0 ? (false, Aggregate(errors)) : (true, null);
    }

    /// <summary>messageExpression's string when it evaluates to one (trimmed, one line, at most 5000 bytes), else the
    /// message, else "failed expression: …".</summary>
    private static string Message(V1Validation validation, Dictionary<string, object?> activation, IReadOnlyDictionary<string, string> failedVariables,
        CelBudget budget)
    {
        if (!string.IsNullOrWhiteSpace(validation.MessageExpression) &&
            Run(validation.MessageExpression, activation, failedVariables, budget) is { Error: null, Value: string text } &&
            text.Trim() is { Length: > 0 and <= 5000 } trimmed && !trimmed.Contains('\n'))
            return trimmed;
        if (!string.IsNullOrWhiteSpace(validation.Message)) return validation.Message.Trim();
        return $"failed expression: {validation.Expression.Trim()}";
    }

    private static Dictionary<string, object?> Activation(PolicyRequest request, IKubernetesObject<V1ObjectMeta>? param) => new()
    {
        ["object"] = request.Object is null ? null : ToCel(request.Object),
        ["oldObject"] = request.OldObject is null ? null : ToCel(request.OldObject),
        ["request"] = RequestValue(request),
        ["params"] = param is null ? null : ToCel(param),
        ["namespaceObject"] = request.NamespaceObject is null ? null : NamespaceValue(request.NamespaceObject),
        ["variables"] = new Dictionary<string, object?>(),
    };

    /// <summary>Each variable in order, into <c>variables</c>; the ones that failed, with why.</summary>
    private static IReadOnlyDictionary<string, string> Variables(IList<V1Variable>? variables, Dictionary<string, object?> activation, CelBudget budget)
    {
        var failed = new Dictionary<string, string>(StringComparer.Ordinal);
        var values = (Dictionary<string, object?>)activation["variables"]!;
        foreach (var variable in variables ?? [])
        {
            var (value, error) = Run(variable.Expression, activation, failed, budget);
            if (error is null) values[variable.Name] = value;
            else failed[variable.Name] = error;
        }
        return failed;
    }

    /// <summary>An expression's value, or kube's "expression '…' resulted in error: …" (an expression using a variable that
    /// failed fails with the variable's error).</summary>
    private static (object? Value, string? Error) Run(string expression, Dictionary<string, object?> activation,
        IReadOnlyDictionary<string, string> failedVariables, CelBudget budget)
    {
        foreach (var (name, variableError) in failedVariables)
            if (Regex.IsMatch(expression, $@"\bvariables\s*\.\s*{Regex.Escape(name)}\b"))
                return (null, $"expression '{expression}' resulted in error: composited variable \"{name}\" fails to evaluate: {Unwrap(variableError)}");
        var (value, error) = CelRules.Run(expression, activation, budget);
        return error is null ? (value, null) : (null, $"expression '{expression}' resulted in error: {error}");
    }

    /// <summary>kube's answer once an evaluation has spent its cost budget: under failurePolicy Fail a deny with
    /// "validation failed due to running out of cost budget, …", under Ignore nothing.</summary>
    private static PolicyValidation OutOfBudget(bool fail) =>
        fail ? new PolicyValidation([new PolicyDecision(true, CelCost.BudgetExhausted, null, 0)], []) : PolicyValidation.None;

    private static string Unwrap(string error) =>
        Regex.Match(error, "^expression '.*' resulted in error: (.*)$", RegexOptions.Singleline) is { Success: true } m ? m.Groups[1].Value : error;

    private static string Aggregate(List<string> errors) => errors.Count == 1 ? errors[0] : "[" + string.Join(", ", errors) + "]";

    private static string CelTypeName(object value) => value switch
    {
        bool => "bool",
        long => "int",
        ulong => "uint",
        double => "double",
        IList<object?> => "list",
        IDictionary<string, object?> => "map",
        _ => value.GetType().Name,
    };

    private static object? ToCel(IKubernetesObject<V1ObjectMeta> obj) => CelRules.ToCel(JsonNode.Parse(KubeObjects.SerializeToUtf8Bytes(obj)));

    /// <summary>kube's CreateNamespaceObject: the namespace's name, generateName, namespace, labels, annotations, uid,
    /// creationTimestamp, deletionTimestamp, spec and status.</summary>
    private static object? NamespaceValue(V1Namespace ns)
    {
        var meta = ns.Metadata ?? new V1ObjectMeta();
        var trimmed = new V1Namespace
        {
            Metadata = new V1ObjectMeta
            {
                Name = meta.Name, GenerateName = meta.GenerateName, NamespaceProperty = meta.NamespaceProperty, Labels = meta.Labels,
                Annotations = meta.Annotations, Uid = meta.Uid, CreationTimestamp = meta.CreationTimestamp, DeletionTimestamp = meta.DeletionTimestamp,
            },
            Spec = ns.Spec, Status = ns.Status,
        };
        return CelRules.ToCel(JsonNode.Parse(KubeObjects.SerializeToUtf8Bytes(trimmed)));
    }

    /// <summary>The AdmissionRequest as CEL's <c>request</c>: the matched kind and resource are the request's (one version
    /// per resource here).</summary>
    private static Dictionary<string, object?> RequestValue(PolicyRequest request)
    {
        var kind = new Dictionary<string, object?> { ["group"] = request.Resource.Group, ["version"] = request.Version, ["kind"] = request.Resource.Kind };
        var resource = new Dictionary<string, object?>
            { ["group"] = request.Resource.Group, ["version"] = request.Version, ["resource"] = request.Resource.Resource };
        var user = new Dictionary<string, object?> { ["username"] = request.User?.Name ?? "" };
        if (request.User is { } u)
        {
            if (u.Uid.Length > 0) user["uid"] = u.Uid;
            if (u.Groups.Count > 0) user["groups"] = u.Groups.Cast<object?>().ToList();
            if (u.Extra.Count > 0) user["extra"] = u.Extra.ToDictionary(kv => kv.Key, kv => (object?)kv.Value.Cast<object?>().ToList());
        }
        var value = new Dictionary<string, object?>
        {
            ["uid"] = "", ["kind"] = kind, ["resource"] = resource, ["requestKind"] = kind, ["requestResource"] = resource,
            ["operation"] = request.Operation, ["userInfo"] = user, ["dryRun"] = request.DryRun,
        };
        if (!string.IsNullOrEmpty(request.Subresource))
        {
            value["subResource"] = request.Subresource;
            value["requestSubResource"] = request.Subresource;
        }
        if (request.Name.Length > 0) value["name"] = request.Name;
        if (!string.IsNullOrEmpty(request.Namespace)) value["namespace"] = request.Namespace;
        return value;
    }
}
