using k8s;
using k8s.Models;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Admission.PodSecurity;

/// <summary>What the PodSecurity plugin is configured with (PodSecurityConfiguration, --admission-control-config-file):
/// the policy of namespaces without labels (privileged, as in Kubernetes) and the exemptions.</summary>
internal sealed record PodSecurityOptions
{
    public NamespacePolicy Defaults { get; init; } = NamespacePolicy.Privileged;
    public IReadOnlySet<string> ExemptUsernames { get; init; } = new HashSet<string>();
    public IReadOnlySet<string> ExemptNamespaces { get; init; } = new HashSet<string>();
    public IReadOnlySet<string> ExemptRuntimeClasses { get; init; } = new HashSet<string>();
}

/// <summary>
/// Kubernetes' built-in PodSecurity admission (k8s.io/pod-security-admission/admission), run by the store on every
/// create and update. Pods: the namespace's enforce level refuses (403), audit adds an audit annotation, warn a
/// warning; updates count only when they change an image or the containers (isSignificantPodUpdate). Workloads with pod
/// templates: warn and audit only. Namespaces: bad label values are refused (422), and a stricter enforce level warns
/// about the existing pods that would violate it. Exempt namespaces and users (the requesting user of the API; the
/// control plane's own writes have none) skip the pod and workload checks, as do pods of an exempt runtime class.
/// </summary>
internal sealed class PodSecurityAdmission(PodSecurityOptions options) : IValidatingAdmission
{
    private const int MaxPodsToCheck = 3000;
    private const string AnnotationPrefix = PodSecurityLabels.Prefix;

    private static readonly HashSet<string> IgnoredPodSubresources =
        ["exec", "attach", "binding", "eviction", "log", "portforward", "proxy", "status"];

    /// <summary>The pod template resources (kube's defaultPodSpecResources), by group and resource.</summary>
    private static readonly HashSet<(string, string)> PodControllers =
    [
        ("", "replicationcontrollers"), ("", "podtemplates"), ("apps", "replicasets"), ("apps", "deployments"),
        ("apps", "statefulsets"), ("apps", "daemonsets"), ("batch", "jobs"), ("batch", "cronjobs"),
    ];

    public AdmissionVerdict? Validate(AdmissionAttributes attributes, IAdmissionContext context)
    {
        var resource = attributes.Resource;
        return (resource.Group, resource.Resource) switch
        {
            ("", "namespaces") => ValidateNamespace(attributes, context),
            ("", "pods") => ValidatePod(attributes, context),
            var key when PodControllers.Contains(key) => ValidatePodController(attributes, context),
            _ => null,
        };
    }

    private AdmissionVerdict? ValidateNamespace(AdmissionAttributes attributes, IAdmissionContext context)
    {
        if (attributes.Subresource is not null || attributes.Object is not V1Namespace ns) return null;
        var (policy, errors) = PodSecurityLabels.PolicyOf(ns.Metadata.Labels, options.Defaults);
        var name = ns.Metadata.Name ?? "";
        if (attributes.Operation == AdmissionAttributes.Create)
        {
            if (errors.Count > 0) return Invalid(attributes.Resource, name, errors);
            return ExemptNamespaceWarning(name, policy, ns.Metadata.Labels);
        }
        if (attributes.Old is not V1Namespace old) return null;
        var (oldPolicy, oldErrors) = PodSecurityLabels.PolicyOf(old.Metadata.Labels, options.Defaults);
        if (errors.Count > 0 && (oldErrors.Count == 0 || !errors.SequenceEqual(oldErrors)))
            return Invalid(attributes.Resource, name, errors);
        if (policy.Enforce == oldPolicy.Enforce || policy.Enforce.Level == PodSecurityLevel.Privileged) return null;
        if (policy.Enforce.Version == oldPolicy.Enforce.Version && policy.Enforce.Level <= oldPolicy.Enforce.Level) return null;
        if (options.ExemptNamespaces.Contains(name)) return ExemptNamespaceWarning(name, policy, ns.Metadata.Labels);
        var warnings = EvaluatePodsInNamespace(name, policy.Enforce, context);
        return warnings.Count == 0 ? null : new AdmissionVerdict(null, warnings, new Dictionary<string, string>());
    }

    private static AdmissionVerdict Invalid(IStoredResource resource, string name, IReadOnlyList<LabelError> errors) =>
        new(StoreErrors.Invalid(resource, name,
            errors.Select(e => new StoreErrorCause(e.Field, "FieldValueInvalid", e.Message)).ToList()), [], new Dictionary<string, string>());

    /// <summary>The warnings of a namespace check: each distinct set of reasons once, with the first pod (by name)
    /// that has it and how many others do; one pod per controller first (kube's prioritizePods).</summary>
    private List<string> EvaluatePodsInNamespace(string ns, LevelVersion enforce, IAdmissionContext context)
    {
        var pods = context.List("pods", ns).OfType<V1Pod>()
            .Where(p => !IsExemptRuntimeClass(p.Spec?.RuntimeClassName)).ToList();
        var seenControllers = new HashSet<string>();
        var first = new List<V1Pod>();
        var duplicates = new List<V1Pod>();
        foreach (var pod in pods)
        {
            var controller = pod.Metadata.OwnerReferences?.FirstOrDefault(o => o.Controller == true)?.Uid;
            if (controller is null || seenControllers.Add(controller)) first.Add(pod);
            else duplicates.Add(pod);
        }
        var prioritized = first.Concat(duplicates).ToList();
        var total = prioritized.Count;
        if (prioritized.Count > MaxPodsToCheck) prioritized = prioritized.Take(MaxPodsToCheck).ToList();
        var order = new List<string>();
        var counts = new Dictionary<string, (string Pod, int Count)>();
        foreach (var pod in prioritized)
        {
            var result = PodSecurityEvaluator.Evaluate(enforce, pod.Metadata, pod.Spec ?? new V1PodSpec());
            if (result.Allowed) continue;
            var reason = result.ForbiddenReason;
            var podName = pod.Metadata.Name ?? "";
            if (!counts.TryGetValue(reason, out var seen))
            {
                order.Add(reason);
                counts[reason] = (podName, 1);
            }
            else counts[reason] = (string.CompareOrdinal(podName, seen.Pod) < 0 ? podName : seen.Pod, seen.Count + 1);
        }
        var warnings = new List<string>();
        if (prioritized.Count < total)
            warnings.Add($"new PodSecurity enforce level only checked against the first {prioritized.Count} of {total} existing pods");
        if (order.Count > 0)
            warnings.Add($"existing pods in namespace \"{ns}\" violate the new PodSecurity enforce level \"{enforce}\"");
        var podWarnings = order.Select(reason =>
        {
            var (pod, count) = counts[reason];
            return count switch
            {
                1 => $"{pod}: {reason}",
                2 => $"{pod} (and 1 other pod): {reason}",
                _ => $"{pod} (and {count - 1} other pods): {reason}",
            };
        }).Order(StringComparer.Ordinal);
        warnings.AddRange(podWarnings);
        return warnings;
    }

    private AdmissionVerdict? ValidatePod(AdmissionAttributes attributes, IAdmissionContext context)
    {
        if (attributes.Subresource is { } sub && IgnoredPodSubresources.Contains(sub)) return null;
        var nsName = attributes.Object.Metadata.NamespaceProperty ?? "";
        if (options.ExemptNamespaces.Contains(nsName)) return Exempt("namespace");
        if (IsExemptUser(attributes.User)) return Exempt("user");
        if (attributes.Object is not V1Pod pod) return null;
        var (policy, errors) = PolicyOfNamespace(nsName, context);
        if (errors.Count == 0 && policy.FullyPrivileged)
            return AdmissionVerdict.Annotated(new Dictionary<string, string>
            {
                [AnnotationPrefix + "enforce-policy"] = new LevelVersion(PodSecurityLevel.Privileged, PolicyVersion.LatestVersion).ToString(),
            });
        if (attributes.Operation == AdmissionAttributes.Update && attributes.Old is V1Pod oldPod && !IsSignificantPodUpdate(pod, oldPod))
            return null;
        return EvaluatePod(attributes, policy, errors, pod.Metadata, pod.Spec ?? new V1PodSpec(), enforce: true);
    }

    private AdmissionVerdict? ValidatePodController(AdmissionAttributes attributes, IAdmissionContext context)
    {
        if (attributes.Subresource is not null) return null;
        var nsName = attributes.Object.Metadata.NamespaceProperty ?? "";
        if (options.ExemptNamespaces.Contains(nsName)) return Exempt("namespace");
        if (IsExemptUser(attributes.User)) return Exempt("user");
        var (policy, errors) = PolicyOfNamespace(nsName, context);
        if (errors.Count == 0 && policy.Warn.Level == PodSecurityLevel.Privileged && policy.Audit.Level == PodSecurityLevel.Privileged)
            return null;
        var template = attributes.Object switch
        {
            V1PodTemplate t => t.Template,
            V1ReplicationController rc => rc.Spec?.Template,
            V1ReplicaSet rs => rs.Spec?.Template,
            V1Deployment d => d.Spec?.Template,
            V1DaemonSet ds => ds.Spec?.Template,
            V1StatefulSet ss => ss.Spec?.Template,
            V1Job job => job.Spec?.Template,
            V1CronJob cronJob => cronJob.Spec?.JobTemplate?.Spec?.Template,
            _ => null,
        };
        if (template is null) return null;
        return EvaluatePod(attributes, policy, errors, template.Metadata ?? new V1ObjectMeta(), template.Spec ?? new V1PodSpec(), enforce: false);
    }

    private AdmissionVerdict EvaluatePod(AdmissionAttributes attributes, NamespacePolicy policy, IReadOnlyList<LabelError> policyErrors,
        V1ObjectMeta meta, V1PodSpec spec, bool enforce)
    {
        if (IsExemptRuntimeClass(spec.RuntimeClassName)) return Exempt("runtimeClass");
        var annotations = new Dictionary<string, string>();
        if (policyErrors.Count > 0)
            annotations["error"] = "Failed to parse policy: " + Aggregate(policyErrors);
        var cache = new Dictionary<LevelVersion, PodSecurityResult>();
        PodSecurityResult Evaluate(LevelVersion lv)
        {
            if (!cache.TryGetValue(lv, out var result)) cache[lv] = result = PodSecurityEvaluator.Evaluate(lv, meta, spec);
            return result;
        }
        StoreError? refusal = null;
        if (enforce)
        {
            annotations[AnnotationPrefix + "enforce-policy"] = policy.Enforce.ToString();
            var result = Evaluate(policy.Enforce);
            if (!result.Allowed)
                refusal = StoreErrors.Forbidden(attributes.Resource, attributes.Object.Metadata.Name ?? "",
                    $"violates PodSecurity \"{policy.Enforce}\": {result.ForbiddenDetail}");
        }
        var audit = Evaluate(policy.Audit);
        if (!audit.Allowed)
            annotations[AnnotationPrefix + "audit-violations"] = $"would violate PodSecurity \"{policy.Audit}\": {audit.ForbiddenDetail}";
        var warnings = new List<string>();
        if (refusal is null && Evaluate(policy.Warn) is { Allowed: false } warn)
            warnings.Add($"would violate PodSecurity \"{policy.Warn}\": {warn.ForbiddenDetail}");
        // kube's audit annotations of admission plugins are the plugin's prefix plus the key ("error" included)
        var prefixed = annotations.ToDictionary(a => a.Key.StartsWith(AnnotationPrefix, StringComparison.Ordinal) ? a.Key : AnnotationPrefix + a.Key,
            a => a.Value);
        return new AdmissionVerdict(refusal, warnings, prefixed);
    }

    /// <summary>field.ErrorList.ToAggregate's text: one error as is, several in brackets.</summary>
    private static string Aggregate(IReadOnlyList<LabelError> errors)
    {
        var texts = errors.Select(e => $"{e.Field}: {e.Message}").ToList();
        return texts.Count == 1 ? texts[0] : $"[{string.Join(", ", texts)}]";
    }

    private (NamespacePolicy Policy, IReadOnlyList<LabelError> Errors) PolicyOfNamespace(string name, IAdmissionContext context)
    {
        var ns = context.List("namespaces").FirstOrDefault(n => n.Metadata.Name == name);
        return PodSecurityLabels.PolicyOf(ns?.Metadata.Labels, options.Defaults);
    }

    private static AdmissionVerdict Exempt(string reason) =>
        AdmissionVerdict.Annotated(new Dictionary<string, string> { [AnnotationPrefix + "exempt"] = reason });

    private bool IsExemptUser(string? user) => !string.IsNullOrEmpty(user) && options.ExemptUsernames.Contains(user);

    private bool IsExemptRuntimeClass(string? runtimeClass) =>
        !string.IsNullOrEmpty(runtimeClass) && options.ExemptRuntimeClasses.Contains(runtimeClass);

    private AdmissionVerdict? ExemptNamespaceWarning(string name, NamespacePolicy policy, IDictionary<string, string>? labels)
    {
        if (!options.ExemptNamespaces.Contains(name) || policy.FullyPrivileged || Equivalent(policy, options.Defaults)) return null;
        labels ??= new Dictionary<string, string>();
        var parts = new List<string>();
        void Mode(string mode, LevelVersion lv, string levelLabel, string versionLabel)
        {
            if (lv.Level != PodSecurityLevel.Privileged && (labels.ContainsKey(levelLabel) || labels.ContainsKey(versionLabel)))
                parts.Add($"{mode}={lv}");
        }
        Mode("enforce", policy.Enforce, PodSecurityLabels.Enforce, PodSecurityLabels.EnforceVersion);
        Mode("audit", policy.Audit, PodSecurityLabels.Audit, PodSecurityLabels.AuditVersion);
        Mode("warn", policy.Warn, PodSecurityLabels.Warn, PodSecurityLabels.WarnVersion);
        return new AdmissionVerdict(null,
            [$"namespace \"{name}\" is exempt from Pod Security, and the policy ({string.Join(", ", parts)}) will be ignored"],
            new Dictionary<string, string>());
    }

    private static bool Equivalent(NamespacePolicy a, NamespacePolicy b)
    {
        static bool Same(LevelVersion x, LevelVersion y) =>
            (x.Level == PodSecurityLevel.Privileged && y.Level == PodSecurityLevel.Privileged) || x == y;
        return Same(a.Enforce, b.Enforce) && Same(a.Audit, b.Audit) && Same(a.Warn, b.Warn);
    }

    /// <summary>kube's isSignificantPodUpdate: only a changed image or a changed number of containers, or a new or
    /// changed ephemeral container, is evaluated again (a pod's other fields are immutable or harmless).</summary>
    private static bool IsSignificantPodUpdate(V1Pod pod, V1Pod old)
    {
        var (spec, oldSpec) = (pod.Spec ?? new V1PodSpec(), old.Spec ?? new V1PodSpec());
        var (containers, oldContainers) = (spec.Containers ?? [], oldSpec.Containers ?? []);
        var (inits, oldInits) = (spec.InitContainers ?? [], oldSpec.InitContainers ?? []);
        if (containers.Count != oldContainers.Count || inits.Count != oldInits.Count) return true;
        for (var i = 0; i < containers.Count; i++)
            if (containers[i].Image != oldContainers[i].Image) return true;
        for (var i = 0; i < inits.Count; i++)
            if (inits[i].Image != oldInits[i].Image) return true;
        foreach (var ephemeral in spec.EphemeralContainers ?? [])
        {
            var before = (oldSpec.EphemeralContainers ?? []).FirstOrDefault(e => e.Name == ephemeral.Name);
            if (before is null || before.Image != ephemeral.Image) return true;
        }
        return false;
    }
}
