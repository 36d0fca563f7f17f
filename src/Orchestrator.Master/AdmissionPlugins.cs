using Orchestrator.Master.Admission.Ingress;
using Orchestrator.Master.Admission.LimitRanges;
using Orchestrator.Master.Admission.Nodes;
using Orchestrator.Master.Admission.Pods;
using Orchestrator.Master.Admission.PodSecurity;
using Orchestrator.Master.Admission.Policies;
using Orchestrator.Master.Admission.ResourceQuotas;
using Orchestrator.Master.Admission.ServiceAccount;
using Orchestrator.Master.Admission.Storage;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Kinds.Scheduling;
using Orchestrator.Master.Store;

namespace Orchestrator.Master;

/// <summary>
/// kube-apiserver's --enable-admission-plugins and --disable-admission-plugins over kube 1.32's plugin names
/// (pkg/kubeapiserver/options/plugins.go). The plugins implemented here as plugins of their own run in kube's order and
/// can be turned off; NodeRestriction is on by default here (kube needs it enabled, kubeadm enables it). Those built
/// into the kinds' strategies, the request path or the webhook dispatcher cannot be turned off, so disabling one is
/// refused rather than ignored; enabling a plugin of kube's that is not implemented here is refused too. Disabling one
/// that is not implemented is accepted: it is off.
/// </summary>
internal sealed class AdmissionPlugins
{
    public const string EnableFlag = "enable-admission-plugins";
    public const string DisableFlag = "disable-admission-plugins";

    /// <summary>kube 1.32's AllOrderedPlugins.</summary>
    public static readonly IReadOnlyList<string> KubeOrder =
    [
        "AlwaysAdmit", "NamespaceAutoProvision", "NamespaceLifecycle", "NamespaceExists",
        "LimitPodHardAntiAffinityTopology", "LimitRanger", "ServiceAccount", "NodeRestriction", "TaintNodesByCondition",
        "AlwaysPullImages", "ImagePolicyWebhook", "PodSecurity", "PodNodeSelector", "Priority",
        "DefaultTolerationSeconds",
        "PodTolerationRestriction", "EventRateLimit", "ExtendedResourceToleration", "DefaultStorageClass",
        "StorageObjectInUseProtection", "OwnerReferencesPermissionEnforcement", "PersistentVolumeClaimResize",
        "RuntimeClass", "CertificateApproval", "CertificateSigning", "ClusterTrustBundleAttest",
        "CertificateSubjectRestriction", "DefaultIngressClass", "DenyServiceExternalIPs", "MutatingAdmissionPolicy",
        "MutatingAdmissionWebhook", "ValidatingAdmissionPolicy", "ValidatingAdmissionWebhook", "ResourceQuota",
        "AlwaysDeny",
    ];

    /// <summary>Implemented here as plugins of their own, on by default, and turned off by --disable-admission-plugins.
    /// kube has all of them on by default but NodeRestriction.</summary>
    public static readonly IReadOnlySet<string> Separable = new HashSet<string>(StringComparer.Ordinal)
    {
        "LimitRanger", "ServiceAccount", "NodeRestriction", "TaintNodesByCondition", "PodSecurity", "Priority",
        "DefaultTolerationSeconds", "PersistentVolumeClaimResize", "ValidatingAdmissionPolicy", "ResourceQuota",
    };

    /// <summary>On by default in kube and here, but part of something that cannot be turned off here: where it
    /// lives.</summary>
    public static readonly IReadOnlyDictionary<string, string> BuiltIn =
        new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["NamespaceLifecycle"] = "the store's namespace checks",
        ["DefaultStorageClass"] = "the PersistentVolumeClaim strategy",
        ["StorageObjectInUseProtection"] = "the PersistentVolume and PersistentVolumeClaim strategies",
        ["RuntimeClass"] = "the Pod strategy",
        ["DefaultIngressClass"] = "the Ingress strategy",
        ["CertificateApproval"] = "the CertificateSigningRequest approval subresource",
        ["CertificateSigning"] = "the CertificateSigningRequest status subresource",
        ["CertificateSubjectRestriction"] = "the CertificateSigningRequest admission",
        ["MutatingAdmissionWebhook"] = "the webhook dispatcher",
        ["ValidatingAdmissionWebhook"] = "the webhook dispatcher",
    };

    private readonly HashSet<string> _disabled;

    private AdmissionPlugins(IEnumerable<string> disabled) => _disabled = new(disabled, StringComparer.Ordinal);

    public static AdmissionPlugins Default { get; } = new([]);

    public bool IsOn(string name) => !_disabled.Contains(name);

    /// <summary>The selection, or a FormatException with every problem in kube's words
    /// (AdmissionOptions.Validate).</summary>
    public static AdmissionPlugins Parse(string? enable, string? disable)
    {
        var enabled = Split(enable);
        var disabled = Split(disable);
        var problems = new List<string>();
        foreach (var name in enabled) problems.AddRange(Problem(EnableFlag, name).Select(p => $"{EnableFlag} {p}"));
        foreach (var name in disabled) problems.AddRange(Problem(DisableFlag, name).Select(p => $"{DisableFlag} {p}"));
        var overlap = enabled.Intersect(disabled, StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (overlap.Count > 0)
            problems.Add($"[{string.Join(" ", overlap)}] in {EnableFlag} and {DisableFlag} overlapped");
        if (problems.Count > 0) throw new FormatException(string.Join("; ", problems.Distinct()));
        return new AdmissionPlugins(disabled);
    }

    public static string? EnableProblem(string value) => ListProblem(EnableFlag, value);

    public static string? DisableProblem(string value) => ListProblem(DisableFlag, value);

    private static string? ListProblem(string flag, string value) =>
        Split(value).SelectMany(name => Problem(flag, name)).FirstOrDefault();

    private static IEnumerable<string> Problem(string flag, string name)
    {
        if (!KubeOrder.Contains(name)) yield return $"plugin \"{name}\" is unknown";
        else if (flag == EnableFlag && !Separable.Contains(name) && !BuiltIn.ContainsKey(name))
            yield return $"plugin \"{name}\" is not implemented by orchestrator-master";
        else if (flag == DisableFlag && BuiltIn.TryGetValue(name, out var where))
            yield return $"plugin \"{name}\" cannot be turned off here: it is part of {where}";
    }

    private static List<string> Split(string? value) =>
        (value ?? "").Split(',', StringSplitOptions.TrimEntries).Where(n => n.Length > 0).ToList();

    /// <summary>The store's chain of plugins that are on, in kube's order (ResourceQuota last: it charges what the
    /// others admit). Our ingress annotations' and pod specs' warnings (kube's strategies give those) are no plugins of
    /// kube's and always run, before ValidatingAdmissionPolicy.</summary>
    public IReadOnlyList<IAdmissionPlugin> StoreChain(IConfiguration configuration, IResourceCatalog catalog)
    {
        var chain = new List<IAdmissionPlugin>();
        void Add(string name, Func<IAdmissionPlugin> plugin)
        {
            if (IsOn(name)) chain.Add(plugin());
        }
        Add("LimitRanger", () => new LimitRanger());
        Add("ServiceAccount", () => new ServiceAccountAdmission());
        Add("TaintNodesByCondition", () => new TaintNodesByCondition());
        Add("Priority", () => new PodPriority());
        Add("DefaultTolerationSeconds",
            () => new DefaultTolerationSeconds(DefaultTolerationSeconds.Settings.From(configuration)));
        Add("PodSecurity", () => new PodSecurityAdmission(
            AdmissionConfigurationFile.Load(configuration[AdmissionConfigurationFile.Flag])));
        Add("PersistentVolumeClaimResize", () => new PersistentVolumeClaimResize());
        chain.Add(new IngressAnnotationWarnings());
        chain.Add(new PodSpecWarnings());
        Add("ValidatingAdmissionPolicy", () => new ValidatingAdmissionPolicyAdmission(catalog));
        Add("ResourceQuota", () => new ResourceQuotaAdmission(catalog));
        return chain;
    }
}
