using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Validation;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Registry.Kinds.Networking;

/// <summary>networking/v1 Ingress (ValidateIngress): a default backend or rules; hosts are DNS names (wildcards
/// allowed, IPs not); every path has a pathType (Exact and Prefix paths absolute and clean); every backend is a
/// service (DNS-1035 name, a port name or number, not both) or a resource; TLS hosts and secret names; the class name a
/// DNS subdomain. On create an Ingress without a class gets the default IngressClass (the DefaultIngressClass admission
/// plugin). Status is written through /status.</summary>
internal sealed class IngressStrategy : ModelStrategy<V1Ingress>
{
    public const string ClassAnnotation = "kubernetes.io/ingress.class";
    private static readonly string[] PathTypes = ["Exact", "ImplementationSpecific", "Prefix"];
    private static readonly string[] InvalidSequences = ["//", "/./", "/../", "%2f", "%2F"];
    private static readonly string[] InvalidSuffixes = ["/..", "/."];

    protected override void PrepareForCreate(V1Ingress ingress) => ingress.Status = new V1IngressStatus();

    protected override void Validate(V1Ingress ingress, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        AssignDefaultClass(ingress, context);
        ValidateSpec(ingress.Spec ?? new V1IngressSpec(), causes);
    }

    protected override void ValidateUpdate(V1Ingress ingress, V1Ingress old, IAdmissionContext context, List<StoreErrorCause> causes) =>
        ValidateSpec(ingress.Spec ?? new V1IngressSpec(), causes);

    private static void AssignDefaultClass(V1Ingress ingress, IAdmissionContext context)
    {
        var spec = ingress.Spec ??= new V1IngressSpec();
        if (spec.IngressClassName is not null || ingress.Metadata.Annotations?.ContainsKey(ClassAnnotation) == true) return;
        var defaultClass = context.List(NetworkingResources.IngressClasses.StoreName).OfType<V1IngressClass>()
            .Where(c => c.Metadata.Annotations?.TryGetValue(IngressClassStrategy.DefaultAnnotation, out var v) == true && v == "true")
            .OrderByDescending(c => c.Metadata.CreationTimestamp).ThenBy(c => c.Metadata.Name, StringComparer.Ordinal)
            .FirstOrDefault();
        if (defaultClass is not null) spec.IngressClassName = defaultClass.Metadata.Name;
    }

    private static void ValidateSpec(V1IngressSpec spec, List<StoreErrorCause> causes)
    {
        if (spec.Rules is not { Count: > 0 } && spec.DefaultBackend is null)
            causes.Add(FieldErrors.Invalid("spec", new RawValue("[]networking.IngressRule(nil)"), "either `defaultBackend` or `rules` must be specified"));
        if (spec.DefaultBackend is { } backend) ValidateBackend(backend, "spec.defaultBackend", causes);
        for (var i = 0; i < (spec.Rules?.Count ?? 0); i++)
        {
            var rule = spec.Rules![i];
            var at = $"spec.rules[{i}]";
            if (!string.IsNullOrEmpty(rule.Host)) NetworkRules.ValidateHost(rule.Host, $"{at}.host", causes);
            if (rule.Http is not { } http) continue;
            if (http.Paths is not { Count: > 0 }) causes.Add(FieldErrors.Required($"{at}.http.paths"));
            for (var j = 0; j < (http.Paths?.Count ?? 0); j++) ValidatePath(http.Paths![j], $"{at}.http.paths[{j}]", causes);
        }
        for (var i = 0; i < (spec.Tls?.Count ?? 0); i++)
        {
            var tls = spec.Tls![i];
            for (var j = 0; j < (tls.Hosts?.Count ?? 0); j++)
            {
                var host = tls.Hosts![j];
                var messages = host.Contains('*') ? NetworkRules.CheckWildcardHost(host) : Names.Check(host, Names.Rule.Dns1123Subdomain);
                foreach (var message in messages) causes.Add(FieldErrors.Invalid($"spec.tls[{i}].hosts[{j}]", host, message));
            }
            if (!string.IsNullOrEmpty(tls.SecretName))
                foreach (var message in Names.Check(tls.SecretName, Names.Rule.Dns1123Subdomain))
                    causes.Add(FieldErrors.Invalid($"spec.tls[{i}].secretName", tls.SecretName, message));
        }
        if (spec.IngressClassName is { } className)
            foreach (var message in Names.Check(className, Names.Rule.Dns1123Subdomain))
                causes.Add(FieldErrors.Invalid("spec.ingressClassName", className, message));
    }

    private static void ValidatePath(V1HTTPIngressPath path, string at, List<StoreErrorCause> causes)
    {
        if (path.PathType is null)
        {
            causes.Add(FieldErrors.Required($"{at}.pathType", "pathType must be specified"));
            return;
        }
        var value = path.Path ?? "";
        switch (path.PathType)
        {
            case "Exact" or "Prefix":
                if (!value.StartsWith('/')) causes.Add(FieldErrors.Invalid($"{at}.path", value, "must be an absolute path"));
                if (value.Length > 0)
                {
                    foreach (var sequence in InvalidSequences.Where(value.Contains))
                        causes.Add(FieldErrors.Invalid($"{at}.path", value, $"must not contain '{sequence}'"));
                    foreach (var suffix in InvalidSuffixes.Where(value.EndsWith))
                        causes.Add(FieldErrors.Invalid($"{at}.path", value, $"cannot end with '{suffix}'"));
                }
                break;
            case "ImplementationSpecific":
                if (value.Length > 0 && !value.StartsWith('/'))
                    causes.Add(FieldErrors.Invalid($"{at}.path", value, "must be an absolute path"));
                break;
            default:
                causes.Add(FieldErrors.NotSupported($"{at}.pathType", path.PathType, PathTypes));
                break;
        }
        ValidateBackend(path.Backend ?? new V1IngressBackend(), $"{at}.backend", causes);
    }

    private static void ValidateBackend(V1IngressBackend backend, string at, List<StoreErrorCause> causes)
    {
        switch (backend.Resource, backend.Service)
        {
            case ({ }, { }):
                causes.Add(FieldErrors.Invalid(at, "", "cannot set both resource and service backends"));
                return;
            case ({ } resource, null):
                if (resource.ApiGroup is { Length: > 0 } group)
                    foreach (var message in Names.Check(group, Names.Rule.Dns1123Subdomain))
                        causes.Add(FieldErrors.Invalid($"{at}.resource.apiGroup", group, message));
                if (string.IsNullOrEmpty(resource.Kind)) causes.Add(FieldErrors.Required($"{at}.resource.kind"));
                else
                    foreach (var message in Names.Check(resource.Kind, Names.Rule.PathSegment))
                        causes.Add(FieldErrors.Invalid($"{at}.resource.kind", resource.Kind, message));
                if (string.IsNullOrEmpty(resource.Name)) causes.Add(FieldErrors.Required($"{at}.resource.name"));
                else
                    foreach (var message in Names.Check(resource.Name, Names.Rule.PathSegment))
                        causes.Add(FieldErrors.Invalid($"{at}.resource.name", resource.Name, message));
                return;
            case (null, { } service):
                if (string.IsNullOrEmpty(service.Name)) causes.Add(FieldErrors.Required($"{at}.service.name"));
                else
                    foreach (var message in Names.Check(service.Name, Names.Rule.Dns1035Label))
                        causes.Add(FieldErrors.Invalid($"{at}.service.name", service.Name, message));
                var name = service.Port?.Name ?? "";
                var number = service.Port?.Number ?? 0;
                if (name.Length > 0 && number != 0)
                    causes.Add(FieldErrors.Invalid(at, "", "cannot set both port name & port number"));
                else if (name.Length > 0)
                    foreach (var message in PortNames.Check(name))
                        causes.Add(FieldErrors.Invalid($"{at}.service.port.name", name, message));
                else if (number != 0)
                    foreach (var message in NetworkRules.CheckPort(number))
                        causes.Add(FieldErrors.Invalid($"{at}.service.port.number", number, message));
                else causes.Add(FieldErrors.Required(at, "port name or number is required"));
                return;
            default:
                causes.Add(FieldErrors.Invalid(at, "", "resource or service backend is required"));
                return;
        }
    }
}

/// <summary>networking/v1 IngressClass: the controller is a domain-prefixed path of at most 250 characters and may
/// not change; parameters name a kind and a name, with a scope of Cluster (no namespace) or Namespace (a
/// namespace).</summary>
internal sealed class IngressClassStrategy : ModelStrategy<V1IngressClass>
{
    public const string DefaultAnnotation = "ingressclass.kubernetes.io/is-default-class";
    private static readonly string[] Scopes = ["Cluster", "Namespace"];

    protected override void Default(V1IngressClass ingressClass)
    {
        if (ingressClass.Spec?.Parameters is { } parameters) parameters.Scope ??= "Cluster";
    }

    protected override void Validate(V1IngressClass ingressClass, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        var spec = ingressClass.Spec ?? new V1IngressClassSpec();
        var controller = spec.Controller ?? "";
        if (controller.Length > 250)
            causes.Add(new StoreErrorCause("spec.controller", "FieldValueTooLong", "Too long: may not be more than 250 bytes"));
        NetworkRules.ValidateDomainPrefixedPath(controller, "spec.controller", causes);
        if (spec.Parameters is not { } parameters) return;
        if (parameters.ApiGroup is { Length: > 0 } group)
            foreach (var message in Names.Check(group, Names.Rule.Dns1123Subdomain))
                causes.Add(FieldErrors.Invalid("spec.parameters.apiGroup", group, message));
        if (string.IsNullOrEmpty(parameters.Kind)) causes.Add(FieldErrors.Required("spec.parameters.kind"));
        if (string.IsNullOrEmpty(parameters.Name)) causes.Add(FieldErrors.Required("spec.parameters.name"));
        switch (parameters.Scope)
        {
            case null:
                causes.Add(FieldErrors.Required("spec.parameters.scope"));
                break;
            case "Namespace":
                if (string.IsNullOrEmpty(parameters.NamespaceProperty))
                    causes.Add(FieldErrors.Required("spec.parameters.namespace", "`parameters.scope` is set to 'Namespace'"));
                else
                    foreach (var message in Names.Check(parameters.NamespaceProperty, Names.Rule.Dns1123Label))
                        causes.Add(FieldErrors.Invalid("spec.parameters.namespace", parameters.NamespaceProperty, message));
                break;
            case "Cluster":
                if (parameters.NamespaceProperty is not null)
                    causes.Add(FieldErrors.Forbidden("spec.parameters.namespace", "`parameters.scope` is set to 'Cluster'"));
                break;
            default:
                causes.Add(FieldErrors.NotSupported("spec.parameters.scope", parameters.Scope, Scopes));
                break;
        }
    }

    protected override void ValidateUpdate(V1IngressClass ingressClass, V1IngressClass old, IAdmissionContext context,
        List<StoreErrorCause> causes)
    {
        Validate(ingressClass, context, causes);
        if (ingressClass.Spec?.Controller != old.Spec?.Controller)
            causes.Add(FieldErrors.Invalid("spec.controller", ingressClass.Spec?.Controller ?? "", "field is immutable"));
    }
}
