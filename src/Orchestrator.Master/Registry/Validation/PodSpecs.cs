using k8s.Models;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Registry.Validation;

/// <summary>Defaulting and validation of a pod spec, shared by pods and every pod template (Kubernetes'
/// SetDefaults_PodSpec/SetDefaults_Container and ValidatePodSpec, the parts our nodes use).</summary>
internal static class PodSpecs
{
    private static readonly string[] RestartPolicies = ["Always", "OnFailure", "Never"];
    private static readonly string[] PullPolicies = ["Always", "IfNotPresent", "Never"];
    private static readonly string[] Protocols = ["SCTP", "TCP", "UDP"];

    public static void Default(V1PodSpec? spec)
    {
        if (spec is null) return;
        spec.RestartPolicy ??= "Always";
        spec.DnsPolicy ??= "ClusterFirst";
        spec.SchedulerName ??= "default-scheduler";
        spec.TerminationGracePeriodSeconds ??= 30;
        spec.SecurityContext ??= new V1PodSecurityContext();
        spec.EnableServiceLinks ??= true;
        AliasServiceAccount(spec);
        PodConfigRules.Default(spec);
        foreach (var c in (spec.InitContainers ?? []).Concat(spec.Containers ?? []))
        {
            if (c.Image is not null) c.ImagePullPolicy ??= PullPolicyFor(c.Image);
            c.TerminationMessagePath ??= "/dev/termination-log";
            c.TerminationMessagePolicy ??= "File";
            c.Resources ??= new V1ResourceRequirements();
            foreach (var p in c.Ports ?? []) p.Protocol ??= "TCP";
        }
    }

    /// <summary>The deprecated serviceAccount is an alias of serviceAccountName (v1 conversion.go): on the way in it
    /// names the account only when serviceAccountName is empty; on the way out it is always serviceAccountName.</summary>
    private static void AliasServiceAccount(V1PodSpec spec)
    {
        var name = string.IsNullOrEmpty(spec.ServiceAccountName) ? spec.ServiceAccount : spec.ServiceAccountName;
        spec.ServiceAccountName = spec.ServiceAccount = string.IsNullOrEmpty(name) ? null : name;
    }

    /// <summary>Always for ":latest" or no tag, IfNotPresent for any other tag or a digest (Kubernetes' rule).</summary>
    public static string PullPolicyFor(string image)
    {
        if (image.Contains('@')) return "IfNotPresent";
        var lastSegment = image[(image.LastIndexOf('/') + 1)..];
        var colon = lastSegment.LastIndexOf(':');
        return colon < 0 || lastSegment[(colon + 1)..] == "latest" ? "Always" : "IfNotPresent";
    }

    public static void Validate(V1PodSpec? spec, string path, List<StoreErrorCause> causes, string[]? allowedRestartPolicies = null)
    {
        if (spec is null)
        {
            causes.Add(FieldErrors.Required($"{path}.containers"));
            return;
        }
        if (spec.Containers is null || spec.Containers.Count == 0) causes.Add(FieldErrors.Required($"{path}.containers"));
        ValidateContainers(spec.InitContainers, $"{path}.initContainers", causes);
        ValidateContainers(spec.Containers, $"{path}.containers", causes);
        PodHostAccess.Validate(spec, path, causes);
        PodConfigRules.ValidateVolumes(spec.Volumes, $"{path}.volumes", causes);
        ValidateReadinessGates(spec.ReadinessGates, $"{path}.readinessGates", causes);
        ValidateTolerations(spec.Tolerations, $"{path}.tolerations", causes);
        // validateOverhead: the overhead checked as a container's limits (so its errors read spec.overhead.limits[…])
        if (spec.Overhead is { } overhead) ResourceNames.ValidateRequirements(overhead, null, $"{path}.overhead", causes);

        var allowed = allowedRestartPolicies ?? RestartPolicies;
        if (spec.RestartPolicy is { } restart && !allowed.Contains(restart))
            causes.Add(FieldErrors.NotSupported($"{path}.restartPolicy", restart, allowed));
        if (spec.TerminationGracePeriodSeconds is < 0)
            causes.Add(FieldErrors.Invalid($"{path}.terminationGracePeriodSeconds", spec.TerminationGracePeriodSeconds,
                "must be greater than or equal to 0"));
    }

    private static readonly string[] TolerationOperators = ["Equal", "Exists"];
    private static readonly string[] TaintEffects = ["NoSchedule", "PreferNoSchedule", "NoExecute"];

    /// <summary>Kubernetes 1.32's ValidateTolerations: a qualified-name key, Exists when the key is empty, a
    /// tolerationSeconds only with NoExecute, the operator Equal (or none, with a label value) or Exists (with no value),
    /// and a taint effect when one is given. Before, any operator was taken: the docs' numeric toleration
    /// (<c>operator: Gt</c>, a later release's) was stored and never matched a taint.</summary>
    private static void ValidateTolerations(IList<V1Toleration>? tolerations, string path, List<StoreErrorCause> causes)
    {
        for (var i = 0; i < (tolerations?.Count ?? 0); i++)
        {
            var t = tolerations![i] ?? new V1Toleration();
            var at = $"{path}[{i}]";
            if (!string.IsNullOrEmpty(t.Key))
                foreach (var message in LabelRules.CheckKey(t.Key)) causes.Add(FieldErrors.Invalid($"{at}.key", t.Key, message));
            if (string.IsNullOrEmpty(t.Key) && t.OperatorProperty != "Exists")
                causes.Add(FieldErrors.Invalid($"{at}.operator", t.OperatorProperty ?? "",
                    "operator must be Exists when `key` is empty, which means \"match all values and all keys\""));
            if (t.TolerationSeconds is not null && t.Effect != "NoExecute")
                causes.Add(FieldErrors.Invalid($"{at}.effect", t.Effect ?? "", "effect must be 'NoExecute' when `tolerationSeconds` is set"));
            switch (t.OperatorProperty)
            {
                case null or "" or "Equal":
                    var problems = LabelRules.CheckValue(t.Value ?? "").ToList();
                    if (problems.Count > 0) causes.Add(FieldErrors.Invalid($"{at}.operator", t.Value ?? "", string.Join(";", problems)));
                    break;
                case "Exists":
                    if (!string.IsNullOrEmpty(t.Value))
                        causes.Add(FieldErrors.Invalid($"{at}.operator", new RawValue(
                            $"core.Toleration{{Key:{FieldErrors.Format(t.Key ?? "")}, Operator:\"Exists\", Value:{FieldErrors.Format(t.Value)}, " +
                            $"Effect:{FieldErrors.Format(t.Effect ?? "")}, TolerationSeconds:{(t.TolerationSeconds is { } s ? $"(*int64)({s})" : "(*int64)(nil)")}}}"),
                            "value must be empty when `operator` is 'Exists'"));
                    break;
                default:
                    causes.Add(FieldErrors.NotSupported($"{at}.operator", t.OperatorProperty, TolerationOperators));
                    break;
            }
            if (!string.IsNullOrEmpty(t.Effect) && !TaintEffects.Contains(t.Effect))
                causes.Add(FieldErrors.NotSupported($"{at}.effect", t.Effect, TaintEffects));
        }
    }

    /// <summary>Each gate's condition type is a qualified name (validateReadinessGates); a JSON null entry is a gate
    /// with an empty type, refused as the API server refuses it.</summary>
    private static void ValidateReadinessGates(IList<V1PodReadinessGate>? gates, string path, List<StoreErrorCause> causes)
    {
        for (var i = 0; i < (gates?.Count ?? 0); i++)
        {
            var type = gates![i]?.ConditionType ?? "";
            foreach (var message in LabelRules.CheckKey(type))
                causes.Add(FieldErrors.Invalid($"{path}[{i}].conditionType", type, message));
        }
    }

    private static void ValidateContainers(IList<V1Container>? containers, string path, List<StoreErrorCause> causes)
    {
        var names = new HashSet<string>();
        for (var i = 0; i < (containers?.Count ?? 0); i++)
        {
            var c = containers![i];
            var at = $"{path}[{i}]";
            if (string.IsNullOrEmpty(c.Name)) causes.Add(FieldErrors.Required($"{at}.name"));
            else
            {
                foreach (var message in Names.Check(c.Name, Names.Rule.Dns1123Label))
                    causes.Add(FieldErrors.Invalid($"{at}.name", c.Name, message));
                if (!names.Add(c.Name)) causes.Add(FieldErrors.Duplicate($"{at}.name", c.Name));
            }
            if (string.IsNullOrWhiteSpace(c.Image)) causes.Add(FieldErrors.Required($"{at}.image"));
            if (c.VolumeDevices is { Count: > 0 })
                causes.Add(FieldErrors.Forbidden($"{at}.volumeDevices", "raw block devices are not supported by this cluster: its volumes are directories (use volumeMounts)"));
            PodConfigRules.ValidateContainer(c, at, causes);
            if (c.Resources is { } resources) ResourceNames.ValidateRequirements(resources.Limits, resources.Requests, $"{at}.resources", causes);
            if (c.ImagePullPolicy is { } pull && !PullPolicies.Contains(pull))
                causes.Add(FieldErrors.NotSupported($"{at}.imagePullPolicy", pull, PullPolicies));
            var portNames = new HashSet<string>();
            for (var j = 0; j < (c.Ports?.Count ?? 0); j++)
            {
                var p = c.Ports![j];
                var portPath = $"{at}.ports[{j}]";
                if (!string.IsNullOrEmpty(p.Name))
                {
                    var problems = PortNames.Check(p.Name).ToList();
                    foreach (var message in problems) causes.Add(FieldErrors.Invalid($"{portPath}.name", p.Name, message));
                    if (problems.Count == 0 && !portNames.Add(p.Name)) causes.Add(FieldErrors.Duplicate($"{portPath}.name", p.Name));
                }
                if (p.ContainerPort is < 1 or > 65535)
                    causes.Add(FieldErrors.Invalid($"{portPath}.containerPort", p.ContainerPort, PortRange));
                if (p.HostPort is { } host && host != 0 && host is < 1 or > 65535)
                    causes.Add(FieldErrors.Invalid($"{portPath}.hostPort", host, PortRange));
                if (p.Protocol is { } protocol && !Protocols.Contains(protocol))
                    causes.Add(FieldErrors.NotSupported($"{portPath}.protocol", protocol, Protocols));
            }
        }
    }

    public const string PortRange = "must be between 1 and 65535, inclusive";

    /// <summary>Kubernetes' QoS class of a pod: BestEffort without any request or limit, Guaranteed when every
    /// container limits cpu and memory with requests equal to limits, Burstable otherwise.</summary>
    public static string QosClass(V1PodSpec spec)
    {
        var containers = spec.Containers ?? [];
        bool Empty(IDictionary<string, ResourceQuantity>? d) => d is null || d.Count == 0;
        if (containers.All(c => Empty(c.Resources?.Requests) && Empty(c.Resources?.Limits))) return "BestEffort";
        var guaranteed = containers.All(c =>
        {
            var limits = c.Resources?.Limits;
            if (limits is null || !limits.ContainsKey("cpu") || !limits.ContainsKey("memory")) return false;
            var requests = c.Resources?.Requests;
            return requests is null || requests.All(r => limits.TryGetValue(r.Key, out var l) && l.ToString() == r.Value.ToString());
        });
        return guaranteed ? "Guaranteed" : "Burstable";
    }
}
