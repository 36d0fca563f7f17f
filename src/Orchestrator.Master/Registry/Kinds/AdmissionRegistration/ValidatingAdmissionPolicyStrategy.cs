using System.Text.RegularExpressions;
using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Validation;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Registry.Kinds.AdmissionRegistration;

/// <summary>A ValidatingAdmissionPolicy, as kube's validatingadmissionpolicy strategy and v1 defaults: failurePolicy Fail,
/// the match constraints' matchPolicy Equivalent, empty selectors and scope "*"; validation as
/// pkg/apis/admissionregistration/validation, every expression compiled (a compile error is 422 on its field). Two things
/// this API server does not evaluate are refused here rather than stored and ignored: the <c>authorizer</c> variable and
/// CONNECT operations (connect requests pass no admission here).</summary>
internal sealed class ValidatingAdmissionPolicyStrategy : ModelStrategy<V1ValidatingAdmissionPolicy>
{
    protected override void PrepareForCreate(V1ValidatingAdmissionPolicy obj) => obj.Status = null;

    protected override void Default(V1ValidatingAdmissionPolicy obj)
    {
        if (obj.Spec is not { } spec) return;
        spec.FailurePolicy ??= "Fail";
        AdmissionPolicyRules.Default(spec.MatchConstraints);
    }

    protected override void Validate(V1ValidatingAdmissionPolicy obj, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        var spec = obj.Spec ?? new V1ValidatingAdmissionPolicySpec();
        if (spec.FailurePolicy is null) causes.Add(FieldErrors.Required("spec.failurePolicy"));
        else if (spec.FailurePolicy is not ("Fail" or "Ignore"))
            causes.Add(FieldErrors.NotSupported("spec.failurePolicy", spec.FailurePolicy, ["Fail", "Ignore"]));
        if (spec.ParamKind is { } paramKind) ValidateParamKind(paramKind, causes);
        if (spec.MatchConstraints is null) causes.Add(FieldErrors.Required("spec.matchConstraints"));
        else
        {
            AdmissionPolicyRules.ValidateMatchResources(spec.MatchConstraints, "spec.matchConstraints", causes);
            // at least one resourceRule must be defined to provide type information
            if (spec.MatchConstraints.ResourceRules is not { Count: > 0 }) causes.Add(FieldErrors.Required("spec.matchConstraints.resourceRules"));
        }

        var hasParams = spec.ParamKind is not null;
        var withVariables = spec.Variables is { Count: > 0 };
        ValidateMatchConditions(spec.MatchConditions, hasParams, causes);
        for (var i = 0; i < (spec.Variables?.Count ?? 0); i++)
        {
            var v = spec.Variables![i];
            var path = $"spec.variables[{i}]";
            if (string.IsNullOrWhiteSpace(v.Name)) causes.Add(FieldErrors.Required(path + ".name", "name is not specified"));
            else if (!IsCelIdentifier(v.Name)) causes.Add(FieldErrors.Invalid(path + ".name", v.Name, "name is not a valid CEL identifier"));
            if (string.IsNullOrWhiteSpace(v.Expression)) causes.Add(FieldErrors.Required(path + ".expression", "expression is not specified"));
            else Compile(v.Expression, path + ".expression", hasParams, withVariables, authorizer: true, causes);
        }

        if (spec.Validations is not { Count: > 0 } && spec.AuditAnnotations is not { Count: > 0 })
        {
            causes.Add(FieldErrors.Required("spec.validations", "validations or auditAnnotations must contain at least one item"));
            causes.Add(FieldErrors.Required("spec.auditAnnotations", "validations or auditAnnotations must contain at least one item"));
            return;
        }
        for (var i = 0; i < (spec.Validations?.Count ?? 0); i++)
            ValidateValidation(spec.Validations![i], $"spec.validations[{i}]", hasParams, withVariables, causes);
        if (spec.AuditAnnotations is { } annotations)
        {
            if (annotations.Count > 20)
                causes.Add(FieldErrors.Invalid("spec.auditAnnotations", new RawValue($"[{annotations.Count} items]"), "must not have more than 20 auditAnnotations"));
            var keys = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < annotations.Count; i++)
            {
                var a = annotations[i];
                var path = $"spec.auditAnnotations[{i}]";
                if (string.IsNullOrEmpty(obj.Metadata?.Name)) causes.Add(FieldErrors.Invalid(path + ".key", a.Key, "requires metadata.name be non-empty"));
                else foreach (var problem in LabelRules.CheckKey(obj.Metadata.Name + "/" + a.Key))
                    causes.Add(FieldErrors.Invalid(path + ".key", obj.Metadata.Name + "/" + a.Key, problem));
                var value = a.ValueExpression?.Trim() ?? "";
                if (value.Length == 0) causes.Add(FieldErrors.Required(path + ".valueExpression", "valueExpression is not specified"));
                else if (value.Length > 5 * 1024) causes.Add(FieldErrors.Required(path + ".valueExpression", "must not exceed 5120 bytes in length"));
                else Compile(a.ValueExpression!, path + ".valueExpression", hasParams, withVariables, authorizer: true, causes);
                if (!keys.Add(a.Key ?? "")) causes.Add(FieldErrors.Duplicate(path + ".key", a.Key));
            }
        }
    }

    private static void ValidateParamKind(V1ParamKind kind, List<StoreErrorCause> causes)
    {
        if (string.IsNullOrEmpty(kind.ApiVersion)) causes.Add(FieldErrors.Required("spec.paramKind.apiVersion"));
        else if (kind.ApiVersion.Count(c => c == '/') > 1)
            causes.Add(FieldErrors.Invalid("spec.paramKind.apiVersion", kind.ApiVersion, $"unexpected GroupVersion string: {kind.ApiVersion}"));
        else
        {
            var slash = kind.ApiVersion.IndexOf('/');
            var (group, version) = slash < 0 ? ("", kind.ApiVersion) : (kind.ApiVersion[..slash], kind.ApiVersion[(slash + 1)..]);
            if (group.Length > 0 && Names.Check(group, Names.Rule.Dns1123Subdomain).ToList() is { Count: > 0 } groupProblems)
                causes.Add(FieldErrors.Invalid("spec.paramKind.apiVersion", group, string.Join(",", groupProblems)));
            if (version.Length == 0) causes.Add(FieldErrors.Invalid("spec.paramKind.apiVersion", kind.ApiVersion, "version must be specified"));
            else if (Names.Check(version, Names.Rule.Dns1035Label).ToList() is { Count: > 0 } versionProblems)
                causes.Add(FieldErrors.Invalid("spec.paramKind.apiVersion", version, string.Join(",", versionProblems)));
        }
        if (string.IsNullOrEmpty(kind.Kind)) causes.Add(FieldErrors.Required("spec.paramKind.kind"));
        else if (Names.Check(kind.Kind.ToLowerInvariant(), Names.Rule.Dns1035Label).ToList() is { Count: > 0 } kindProblems)
            causes.Add(FieldErrors.Invalid("spec.paramKind.kind", kind.Kind, "may have mixed case, but should otherwise match: " + string.Join(",", kindProblems)));
    }

    internal static void ValidateMatchConditions(IList<V1MatchCondition>? conditions, bool hasParams, List<StoreErrorCause> causes,
        string field = "spec.matchConditions", bool namespaceObject = true)
    {
        if (conditions is null) return;
        if (conditions.Count > 64)
            causes.Add(new StoreErrorCause(field, "FieldValueTooMany", $"Too many: {conditions.Count}: must have at most 64 items"));
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < conditions.Count; i++)
        {
            var c = conditions[i];
            var path = $"{field}[{i}]";
            if (string.IsNullOrWhiteSpace(c.Expression)) causes.Add(FieldErrors.Required(path + ".expression"));
            // match conditions are compiled without variable composition (kube's stateless compiler)
            else Compile(c.Expression.Trim(), path + ".expression", hasParams, withVariables: false, authorizer: true, causes, namespaceObject);
            if (string.IsNullOrEmpty(c.Name)) causes.Add(FieldErrors.Required(path + ".name"));
            else
            {
                foreach (var problem in LabelRules.CheckKey(c.Name)) causes.Add(FieldErrors.Invalid(path + ".name", c.Name, problem));
                if (!names.Add(c.Name)) causes.Add(FieldErrors.Duplicate(path + ".name", c.Name));
            }
        }
    }

    private static void ValidateValidation(V1Validation v, string path, bool hasParams, bool withVariables, List<StoreErrorCause> causes)
    {
        if (string.IsNullOrWhiteSpace(v.Expression)) causes.Add(FieldErrors.Required(path + ".expression", "expression is not specified"));
        else Compile(v.Expression, path + ".expression", hasParams, withVariables, authorizer: true, causes);
        if (v.MessageExpression is { Length: > 0 } messageExpression)
        {
            if (string.IsNullOrWhiteSpace(messageExpression))
                causes.Add(FieldErrors.Invalid(path + ".messageExpression", messageExpression, "must be non-empty if specified"));
            else Compile(messageExpression, path + ".messageExpression", hasParams, withVariables, authorizer: false, causes);
        }
        if (v.Message is { Length: > 0 } message)
        {
            if (string.IsNullOrWhiteSpace(message)) causes.Add(FieldErrors.Invalid(path + ".message", message, "message must be non-empty if specified"));
            else if (message.Trim().AsSpan().IndexOfAny('\n', '\r') >= 0)
                causes.Add(FieldErrors.Invalid(path + ".message", message, "message must not contain line breaks"));
        }
        if (v.Reason is { } reason && reason is not ("Unauthorized" or "Forbidden" or "Invalid" or "RequestEntityTooLarge"))
            causes.Add(FieldErrors.NotSupported(path + ".reason", reason, ["Forbidden", "Invalid", "RequestEntityTooLarge", "Unauthorized"]));
    }

    /// <summary>kube compiles each expression against the declared variables (params only with a paramKind, variables only
    /// when the policy has some, authorizer everywhere but in messageExpression): a parse error or an undeclared name is 422
    /// "compilation failed: …" on the field.</summary>
    internal static void Compile(string expression, string path, bool hasParams, bool withVariables, bool authorizer, List<StoreErrorCause> causes,
        bool namespaceObject = true)
    {
        var error = CelRules.CompileError(expression);
        if (error is null && authorizer && AdmissionPolicyRules.UsesAuthorizer(expression))
        {
            causes.Add(FieldErrors.Forbidden(path, "the authorizer variable is not evaluated by this API server (no authorization checks from CEL), so a policy using it is refused rather than stored and ignored"));
            return;
        }
        if (error is null)
        {
            // a webhook's match conditions have no namespaceObject (kube's webhook matchconditions compiler)
            var declared = new HashSet<string>(StringComparer.Ordinal) { "object", "oldObject", "request" };
            if (namespaceObject) declared.Add("namespaceObject");
            if (hasParams) declared.Add("params");
            if (withVariables) declared.Add("variables");
            if (authorizer) declared.Add("authorizer");
            error = CelRules.UndeclaredReference(expression, declared);
        }
        else error = SyntaxError(error);
        if (error is not null) causes.Add(FieldErrors.Invalid(path, expression, "compilation failed: " + error));
    }

    /// <summary>The parser's "Line 1:3 mismatched input …" as cel-go words it: "ERROR: &lt;input&gt;:1:4: Syntax error: mismatched input …"
    /// (cel-go's columns are 1-based).</summary>
    private static string SyntaxError(string error) =>
        Regex.Match(error, @"^Line (\d+):(\d+) (.*)$") is { Success: true } m
            ? $"ERROR: <input>:{m.Groups[1].Value}:{int.Parse(m.Groups[2].Value) + 1}: Syntax error: {m.Groups[3].Value}"
            : "ERROR: <input>: " + error;

    private static readonly Regex CelIdentifier = new("^[_a-zA-Z][_a-zA-Z0-9]*$", RegexOptions.Compiled);

    private static readonly HashSet<string> CelReserved = new(StringComparer.Ordinal)
    {
        "true", "false", "null", "in", "as", "break", "const", "continue", "else", "for", "function", "if", "import", "let",
        "loop", "package", "namespace", "return", "var", "void", "while",
    };

    private static bool IsCelIdentifier(string name) => CelIdentifier.IsMatch(name) && !CelReserved.Contains(name);
}

/// <summary>A ValidatingAdmissionPolicyBinding: its matchResources defaulted as a policy's; validation as kube's
/// validateValidatingAdmissionPolicyBindingSpec (its field path "spec.matchResouces" is kube's spelling).</summary>
internal sealed class ValidatingAdmissionPolicyBindingStrategy : ModelStrategy<V1ValidatingAdmissionPolicyBinding>
{
    protected override void Default(V1ValidatingAdmissionPolicyBinding obj) => AdmissionPolicyRules.Default(obj.Spec?.MatchResources);

    protected override void Validate(V1ValidatingAdmissionPolicyBinding obj, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        var spec = obj.Spec ?? new V1ValidatingAdmissionPolicyBindingSpec();
        if (string.IsNullOrEmpty(spec.PolicyName)) causes.Add(FieldErrors.Required("spec.policyName"));
        else foreach (var problem in Names.Check(spec.PolicyName, Names.Rule.Dns1123Subdomain))
            causes.Add(FieldErrors.Invalid("spec.policyName", spec.PolicyName, problem));
        if (spec.ParamRef is { } paramRef) ValidateParamRef(paramRef, causes);
        if (spec.MatchResources is { } match) AdmissionPolicyRules.ValidateMatchResources(match, "spec.matchResouces", causes);
        ValidateActions(spec.ValidationActions, causes);
    }

    private static void ValidateParamRef(V1ParamRef r, List<StoreErrorCause> causes)
    {
        if (!string.IsNullOrEmpty(r.Name))
        {
            foreach (var problem in Names.Check(r.Name, Names.Rule.PathSegment)) causes.Add(FieldErrors.Invalid("spec.paramRef.name", r.Name, problem));
            if (r.Selector is not null) causes.Add(FieldErrors.Forbidden("spec.paramRef.name", "name and selector are mutually exclusive"));
        }
        if (r.Selector is not null)
        {
            LabelRules.ValidateSelector(r.Selector, "spec.paramRef.selector", causes);
            if (!string.IsNullOrEmpty(r.Name)) causes.Add(FieldErrors.Forbidden("spec.paramRef.selector", "name and selector are mutually exclusive"));
        }
        if (string.IsNullOrEmpty(r.Name) && r.Selector is null) causes.Add(FieldErrors.Required("spec.paramRef", "one of name or selector must be specified"));
        if (string.IsNullOrEmpty(r.ParameterNotFoundAction)) causes.Add(FieldErrors.Required("spec.paramRef.parameterNotFoundAction"));
        else if (r.ParameterNotFoundAction is not ("Deny" or "Allow"))
            causes.Add(FieldErrors.NotSupported("spec.paramRef.parameterNotFoundAction", r.ParameterNotFoundAction, ["Deny", "Allow"]));
    }

    private static void ValidateActions(IList<string>? actions, List<StoreErrorCause> causes)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < (actions?.Count ?? 0); i++)
        {
            var action = actions![i];
            if (action is not ("Deny" or "Warn" or "Audit"))
                causes.Add(FieldErrors.NotSupported($"spec.validationActions[{i}]", action, ["Audit", "Deny", "Warn"]));
            if (!seen.Add(action)) causes.Add(FieldErrors.Duplicate($"spec.validationActions[{i}]", action));
        }
        if (seen.Contains("Deny") && seen.Contains("Warn"))
            causes.Add(FieldErrors.Invalid("spec.validationActions", AdmissionPolicyRules.GoValidationActions(actions!),
                "must not contain both Deny and Warn (repeating the same validation failure information in the API response and headers serves no purpose)"));
        if (seen.Count == 0) causes.Add(FieldErrors.Required("spec.validationActions", "at least one validation action is required"));
    }
}
