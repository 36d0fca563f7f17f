using System.Text.Json;
using k8s;
using k8s.Models;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Admission.Policies;

/// <summary>
/// kube-apiserver's ValidatingAdmissionPolicy plugin (admission/plugin/policy/validating dispatcher.go): on every create,
/// update and delete, each policy that has bindings and whose matchConstraints match is evaluated for each binding whose
/// matchResources match, once per param its paramRef selects. A failed validation does what the binding's
/// validationActions say: Deny refuses the request (the first denial's message, its reason's code: 422 Invalid by default,
/// 403 Forbidden, 401 Unauthorized, 413 RequestEntityTooLarge), Warn adds a Warning header, Audit an audit annotation.
/// A policy or binding that cannot be configured (its paramKind is not served, its params are missing with
/// parameterNotFoundAction Deny) refuses the request under failurePolicy Fail and is skipped under Ignore. Policies and
/// bindings are read from the state the write is planned against, so a policy applies from the write after its own.
/// </summary>
internal sealed class ValidatingAdmissionPolicyAdmission(IResourceCatalog catalog) : IValidatingAdmission
{
    public const string Policies = "validatingadmissionpolicies", Bindings = "validatingadmissionpolicybindings";
    private const string ValidationFailureKey = "validation.policy.admission.k8s.io/validation_failure";
    private const int MaxAuditAnnotationValueLength = 10 * 1024;

    public bool ValidatesDeletes => true;

    public AdmissionVerdict? Validate(AdmissionAttributes attributes, IAdmissionContext context)
    {
        var bindings = context.List(Bindings);
        if (bindings.Count == 0) return null;
        var policies = context.List(Policies);
        if (policies.Count == 0) return null;
        var request = RequestOf(attributes, context);

        var denied = new List<(V1ValidatingAdmissionPolicy Policy, V1ValidatingAdmissionPolicyBinding? Binding, string Message, string? Reason)>();
        var warnings = new List<string>();
        var audit = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var policy in policies.Cast<V1ValidatingAdmissionPolicy>().OrderBy(p => p.Metadata.Name, StringComparer.Ordinal))
        {
            var spec = policy.Spec;
            var own = bindings.Cast<V1ValidatingAdmissionPolicyBinding>().Where(b => b.Spec?.PolicyName == policy.Metadata.Name)
                .OrderBy(b => b.Metadata.Name, StringComparer.Ordinal).ToList();
            if (spec is null || own.Count == 0) continue;
            var fail = spec.FailurePolicy != "Ignore";
            var (matches, matchError) = PolicyMatcher.Matches(spec.MatchConstraints, request, context);
            if (matchError is not null)
            {
                if (fail) denied.Add((policy, null, "failed to configure policy: " + matchError, null));
                continue;
            }
            if (!matches) continue;
            IStoredResource? paramResource = null;
            if (spec.ParamKind is { } paramKind && (paramResource = catalog.FindByKind(paramKind.ApiVersion, paramKind.Kind)) is null)
            {
                if (fail)
                    denied.Add((policy, null,
                        $"failed to configure policy: failed to find resource referenced by paramKind: '{GroupVersionKind(paramKind)}'", null));
                continue;
            }

            var annotations = new Dictionary<string, List<string>>(StringComparer.Ordinal);
            foreach (var binding in own)
            {
                var (bindingMatches, bindingError) = PolicyMatcher.Matches(binding.Spec.MatchResources, request, context);
                if (bindingError is not null)
                {
                    if (fail) denied.Add((policy, binding, "failed to configure binding: " + bindingError, null));
                    continue;
                }
                if (!bindingMatches) continue;
                var (parameters, paramError) = Params(spec.ParamKind, paramResource, binding.Spec.ParamRef, request.Namespace, context);
                if (paramError is not null)
                {
                    if (fail) denied.Add((policy, binding, "failed to configure binding: " + paramError, null));
                    continue;
                }
                var actions = binding.Spec.ValidationActions ?? [];
                foreach (var param in parameters)
                {
                    var result = PolicyEvaluator.Validate(spec, request, param);
                    foreach (var decision in result.Decisions.Where(d => d.Deny))
                    {
                        if (actions.Contains("Deny")) denied.Add((policy, binding, decision.Message, decision.Reason));
                        if (actions.Contains("Warn"))
                            warnings.Add($"Validation failed for ValidatingAdmissionPolicy '{policy.Metadata.Name}' with binding '{binding.Metadata.Name}': {decision.Message}");
                        if (actions.Contains("Audit")) audit[ValidationFailureKey] = ValidationFailure(binding, decision);
                    }
                    foreach (var annotation in result.AuditAnnotations)
                    {
                        if (annotation.Error is not null) denied.Add((policy, binding, annotation.Error, null));
                        else if (annotation.Value is { } value)
                        {
                            if (value.Length > MaxAuditAnnotationValueLength) value = value[..MaxAuditAnnotationValueLength];
                            var values = annotations.TryGetValue(annotation.Key, out var list) ? list : annotations[annotation.Key] = [];
                            if (!values.Contains(value)) values.Add(value);
                        }
                    }
                }
            }
            foreach (var (key, values) in annotations) audit[$"{policy.Metadata.Name}/{key}"] = string.Join(", ", values);
        }

        if (denied.Count > 0)
        {
            var (policy, binding, message, reason) = denied[0];
            var text = binding is null
                ? $"ValidatingAdmissionPolicy '{policy.Metadata.Name}' denied request: {message}"
                : $"ValidatingAdmissionPolicy '{policy.Metadata.Name}' with binding '{binding.Metadata.Name}' denied request: {message}";
            return new AdmissionVerdict(Refusal(attributes, request, text, reason ?? "Invalid"), warnings, audit);
        }
        return warnings.Count == 0 && audit.Count == 0 ? null : new AdmissionVerdict(null, warnings, audit);
    }

    /// <summary>admission.NewForbidden's message (<c>deployments.apps "name" is forbidden: …</c>) and details (the resource as
    /// kind, so kubectl prints <c>The deployments "name" is invalid</c>) with the policy's reason and its code, and the
    /// message again as the one cause, as the dispatcher returns it.</summary>
    private static StoreError Refusal(AdmissionAttributes attributes, PolicyRequest request, string message, string reason)
    {
        var resource = StoreErrors.QualifiedResource(attributes.Resource);
        var subject = request.Name.Length == 0 ? resource : $"{resource} \"{request.Name}\"";
        var code = reason switch { "Unauthorized" => 401, "Forbidden" => 403, "RequestEntityTooLarge" => 413, _ => 422 };
        return new StoreError(code, reason, $"{subject} is forbidden: {message}", [new StoreErrorCause("", "", message)],
            new StoreErrorSubject(attributes.Resource.Group, attributes.Resource.Resource, request.Name));
    }

    /// <summary>The params a binding gives the policy (kube's generic.CollectParams): [null] without paramKind or
    /// paramRef; the named object, or those the selector selects, in paramRef's namespace (else the request's) when the
    /// kind is namespaced; none found with parameterNotFoundAction Deny is an error.</summary>
    private static (IReadOnlyList<IKubernetesObject<V1ObjectMeta>?> Params, string? Error) Params(V1ParamKind? kind, IStoredResource? resource,
        V1ParamRef? paramRef, string? requestNamespace, IAdmissionContext context)
    {
        if (kind is null || paramRef is null || resource is null) return ([null], null);
        string? ns = null;
        if (resource.Namespaced)
        {
            ns = !string.IsNullOrEmpty(paramRef.NamespaceProperty) ? paramRef.NamespaceProperty : requestNamespace;
            if (string.IsNullOrEmpty(ns)) return ([], "cannot use namespaced paramRef in policy binding that matches cluster-scoped resources");
        }
        else if (!string.IsNullOrEmpty(paramRef.NamespaceProperty))
            return ([], "paramRef.namespace must not be provided for a cluster-scoped `paramKind`");

        var candidates = context.List(resource.StoreName, ns);
        List<IKubernetesObject<V1ObjectMeta>?> found;
        if (!string.IsNullOrEmpty(paramRef.Name))
            found = candidates.Where(o => o.Metadata.Name == paramRef.Name).Cast<IKubernetesObject<V1ObjectMeta>?>().ToList();
        else
        {
            var selector = LabelSelector.FromLabelSelector(paramRef.Selector);
            found = candidates.Where(o => selector.Matches(o.Metadata.Labels ?? new Dictionary<string, string>()))
                .Cast<IKubernetesObject<V1ObjectMeta>?>().ToList();
        }
        if (found.Count == 0 && paramRef.ParameterNotFoundAction == "Deny")
            return ([], "no params found for policy binding with `Deny` parameterNotFoundAction");
        return (found, null);
    }

    /// <summary>schema.GroupVersionKind's String(): "rules.example.com/v1, Kind=ReplicaLimit".</summary>
    private static string GroupVersionKind(V1ParamKind kind) =>
        kind.ApiVersion.Contains('/') ? $"{kind.ApiVersion}, Kind={kind.Kind}" : $"/{kind.ApiVersion}, Kind={kind.Kind}";

    /// <summary>The annotation's JSON as Go's encoding/json writes it (&lt;, &gt; and &amp; as \u003c, \u003e, \u0026).</summary>
    private static string ValidationFailure(V1ValidatingAdmissionPolicyBinding binding, PolicyDecision decision) =>
        JsonSerializer.Serialize(new[]
        {
            new Dictionary<string, object>
            {
                ["message"] = decision.Message, ["policy"] = binding.Spec.PolicyName, ["binding"] = binding.Metadata.Name,
                ["expressionIndex"] = decision.Index, ["validationActions"] = binding.Spec.ValidationActions,
            },
        }, GoJson).Replace("<", "\\u003c").Replace(">", "\\u003e").Replace("&", "\\u0026");

    private static readonly JsonSerializerOptions GoJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The write as the policies see it. A pod's /binding is kube's create of pods/binding.</summary>
    private static PolicyRequest RequestOf(AdmissionAttributes a, IAdmissionContext context)
    {
        var (operation, obj, old) = a.Operation switch
        {
            AdmissionAttributes.Delete => (a.Operation, null, a.Old ?? a.Object),
            AdmissionAttributes.Update when a.Subresource == "binding" => (AdmissionAttributes.Create, a.Object, null),
            _ => (a.Operation, a.Object, a.Old),
        };
        var meta = a.Object.Metadata;
        var ns = a.Resource.Namespaced ? meta.NamespaceProperty : null;
        var nsObject = ns is null ? null : context.List("namespaces").FirstOrDefault(n => n.Metadata.Name == ns) as V1Namespace;
        var version = context.RequestApiVersion is { } requested ? requested[(requested.IndexOf('/') + 1)..] : a.Resource.Version;
        return new PolicyRequest(a.Resource, version, operation, a.Subresource, meta.Name ?? "", ns, obj, old, nsObject, a.UserInfo, a.DryRun);
    }
}
