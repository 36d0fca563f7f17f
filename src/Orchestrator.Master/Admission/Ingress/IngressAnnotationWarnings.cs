using k8s.Models;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Admission.Ingress;

/// <summary>
/// Warns (the Warning header kubectl prints) when an Ingress carries an orchestrator.dev/ annotation the nodes' ingress
/// does not read or a value it does not take: the nodes ignore those, and without the warning a user would only learn it
/// from a node's log; the same for a regex path (use-regex) that does not compile. Never refuses: annotations are free-form in Kubernetes, and other controllers' ones are not ours.
/// </summary>
internal sealed class IngressAnnotationWarnings : IValidatingAdmission
{
    public AdmissionVerdict? Validate(AdmissionAttributes attributes, IAdmissionContext context)
    {
        if (attributes.Resource is not { Group: "networking.k8s.io", Resource: "ingresses" } || attributes.Subresource is not null ||
            attributes.Object is not V1Ingress ingress || ingress.Metadata.Annotations is not { } annotations)
            return null;
        var warnings = annotations
            .Where(a => a.Key.StartsWith(IngressAnnotations.AnnotationPrefix, StringComparison.Ordinal))
            .OrderBy(a => a.Key, StringComparer.Ordinal)
            .Select(a => IngressAnnotations.Problem(a.Key, a.Value) is { } problem
                ? $"metadata.annotations[{a.Key}]: {problem}; the orchestrator ingress ignores it"
                : null)
            .OfType<string>().ToList();
        if (IngressPathRegex.Implied(annotations))
            warnings.AddRange(RegexPathProblems(ingress));
        return warnings.Count == 0 ? null : new AdmissionVerdict(null, warnings, new Dictionary<string, string>());
    }

    /// <summary>With use-regex (or a rewrite-target with captures) ImplementationSpecific paths are regexes: one that
    /// does not compile is not served by the nodes.</summary>
    private static IEnumerable<string> RegexPathProblems(V1Ingress ingress) =>
        (ingress.Spec?.Rules ?? []).SelectMany((rule, r) => (rule.Http?.Paths ?? []).Select((path, p) => (r, p, path)))
            .Where(x => x.path.PathType == "ImplementationSpecific" && !string.IsNullOrEmpty(x.path.Path))
            .Select(x => IngressPathRegex.Compile(x.path.Path).Problem is { } problem
                ? $"spec.rules[{x.r}].http.paths[{x.p}].path: {problem}; the orchestrator ingress does not serve it"
                : null)
            .OfType<string>();
}
