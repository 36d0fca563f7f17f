using System.Globalization;
using k8s.Models;
using Microsoft.Extensions.Configuration;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Admission.Pods;

/// <summary>
/// Kubernetes' DefaultTolerationSeconds admission plugin (plugin/pkg/admission/defaulttolerationseconds), on the
/// creation and update of pods (not their subresources): a pod that does not tolerate node.kubernetes.io/not-ready or
/// /unreachable with effect NoExecute (a toleration of that key or of every key, of that effect or of every effect) gets
/// <c>{key} Exists NoExecute</c> with tolerationSeconds from --default-not-ready-toleration-seconds and
/// --default-unreachable-toleration-seconds (300 each). The taint eviction controller then deletes it that long after
/// its node is tainted so, instead of at once.
/// </summary>
internal sealed class DefaultTolerationSeconds(DefaultTolerationSeconds.Settings settings) : IMutatingAdmission
{
    public const string NotReadyTaint = "node.kubernetes.io/not-ready";
    public const string UnreachableTaint = "node.kubernetes.io/unreachable";

    /// <summary>The tolerationSeconds the two tolerations get.</summary>
    internal sealed record Settings(long NotReadySeconds, long UnreachableSeconds)
    {
        public const string NotReadyFlag = "default-not-ready-toleration-seconds";
        public const string UnreachableFlag = "default-unreachable-toleration-seconds";
        /// <summary>The flag from before taint-based eviction ("a NotReady node's pods are deleted after this long"),
        /// kept as a shorthand for both: the eviction of a not-ready or unreachable node's pods now happens when their
        /// tolerations run out.</summary>
        public const string PodEvictionTimeoutFlag = "pod-eviction-timeout";

        public static Settings Default { get; } = new(300, 300);

        /// <summary>From the master flags: each of kube's two flags, else --pod-eviction-timeout (whole seconds, rounded
        /// up), else 300.</summary>
        public static Settings From(IConfiguration configuration)
        {
            long? alias = double.TryParse(configuration[PodEvictionTimeoutFlag], NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s >= 0
                ? (long)Math.Min(Math.Ceiling(s), int.MaxValue) : null;
            long Seconds(string flag, long fallback) =>
                long.TryParse(configuration[flag], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) ? v : alias ?? fallback;
            return new Settings(Seconds(NotReadyFlag, Default.NotReadySeconds), Seconds(UnreachableFlag, Default.UnreachableSeconds));
        }

        /// <summary>The flags' check: kube's int64 flags.</summary>
        public static string? Problem(string value) =>
            long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _) ? null : "must be a whole number of seconds";
    }

    public AdmissionMutation Admit(AdmissionAttributes attributes, IAdmissionContext context)
    {
        if (attributes is not { Operation: AdmissionAttributes.Create or AdmissionAttributes.Update, Subresource: null } ||
            attributes.Resource is not { Group: "", Resource: "pods" } || attributes.Object is not V1Pod pod)
            return AdmissionMutation.None;
        var spec = pod.Spec ??= new V1PodSpec();
        bool toleratesNotReady = false, toleratesUnreachable = false;
        foreach (var toleration in spec.Tolerations ?? [])
        {
            if (toleration is null || !(string.IsNullOrEmpty(toleration.Effect) || toleration.Effect == "NoExecute")) continue;
            toleratesNotReady |= string.IsNullOrEmpty(toleration.Key) || toleration.Key == NotReadyTaint;
            toleratesUnreachable |= string.IsNullOrEmpty(toleration.Key) || toleration.Key == UnreachableTaint;
        }
        if (toleratesNotReady && toleratesUnreachable) return AdmissionMutation.None;
        spec.Tolerations ??= new List<V1Toleration>();
        if (!toleratesNotReady) spec.Tolerations.Add(Toleration(NotReadyTaint, settings.NotReadySeconds));
        if (!toleratesUnreachable) spec.Tolerations.Add(Toleration(UnreachableTaint, settings.UnreachableSeconds));
        return AdmissionMutation.Mutated;
    }

    private static V1Toleration Toleration(string key, long seconds) =>
        new() { Key = key, OperatorProperty = "Exists", Effect = "NoExecute", TolerationSeconds = seconds };
}
