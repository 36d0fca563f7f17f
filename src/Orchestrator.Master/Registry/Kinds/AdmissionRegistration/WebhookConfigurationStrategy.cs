using k8s;
using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Validation;
using Orchestrator.Shared.Api;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Registry.Kinds.AdmissionRegistration;

/// <summary>A ValidatingWebhookConfiguration or MutatingWebhookConfiguration, as kube's strategy.go, v1 defaults
/// (SetDefaults_ValidatingWebhook, SetDefaults_MutatingWebhook, SetDefaults_ServiceReference, SetDefaults_Rule) and
/// pkg/apis/admissionregistration/validation; metadata.generation follows the webhooks. CONNECT rules are refused:
/// exec, attach, port-forward and proxy requests are not sent to webhooks here (Api/Webhooks calls them on create, update
/// and delete).</summary>
internal sealed class WebhookConfigurationStrategy<T> : ModelStrategy<T>
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    private readonly Func<T, IReadOnlyList<V1ValidatingWebhook>> common;
    private readonly Func<T, IList<V1MutatingWebhook>?> mutating;
    private readonly Func<T, object?> webhooks;

    /// <summary><paramref name="common"/>: the webhooks as validating ones (their shared fields, the same objects' parts, for
    /// defaulting in place); <paramref name="mutating"/>: the mutating webhooks, for their own field.</summary>
    public WebhookConfigurationStrategy(Func<T, object?> webhooks, Func<T, IReadOnlyList<V1ValidatingWebhook>> common,
        Func<T, IList<V1MutatingWebhook>?> mutating)
    {
        (this.webhooks, this.common, this.mutating) = (webhooks, common, mutating);
        HasGeneration = true;
    }

    protected override bool GenerationChanged(T obj, T old) => !KubeObjects.SameJson(webhooks(obj), webhooks(old));

    protected override void Default(T obj)
    {
        foreach (var w in mutating(obj) ?? [])
        {
            w.FailurePolicy ??= "Fail";
            w.MatchPolicy ??= "Equivalent";
            w.NamespaceSelector ??= new V1LabelSelector();
            w.ObjectSelector ??= new V1LabelSelector();
            w.TimeoutSeconds ??= 10;
            w.ReinvocationPolicy ??= "Never";
            DefaultClient(w.ClientConfig, w.Rules);
        }
        if (mutating(obj) is not null) return;
        foreach (var w in common(obj))
        {
            w.FailurePolicy ??= "Fail";
            w.MatchPolicy ??= "Equivalent";
            w.NamespaceSelector ??= new V1LabelSelector();
            w.ObjectSelector ??= new V1LabelSelector();
            w.TimeoutSeconds ??= 10;
            DefaultClient(w.ClientConfig, w.Rules);
        }
    }

    private static void DefaultClient(Admissionregistrationv1WebhookClientConfig? client, IList<V1RuleWithOperations>? rules)
    {
        if (client?.Service is { } service) service.Port ??= 443;
        foreach (var rule in rules ?? []) rule.Scope ??= "*";
    }

    protected override void Validate(T obj, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        var all = common(obj);
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < all.Count; i++)
        {
            var path = $"webhooks[{i}]";
            var w = all[i];
            if (!string.IsNullOrEmpty(w.Name) && !names.Add(w.Name)) causes.Add(FieldErrors.Duplicate(path + ".name", w.Name));
            ValidateWebhook(w, path, causes);
        }
        var mutatingWebhooks = mutating(obj) ?? [];
        for (var i = 0; i < mutatingWebhooks.Count; i++)
            if (mutatingWebhooks[i].ReinvocationPolicy is { } policy && policy is not ("Never" or "IfNeeded"))
                causes.Add(FieldErrors.NotSupported($"webhooks[{i}].reinvocationPolicy", policy, ["IfNeeded", "Never"]));
    }

    /// <summary>Subresources whose requests are served by their own handlers, not the generic create, update, patch and
    /// delete that call webhooks (Api/Webhooks); "*/*" still matches the rest.</summary>
    private static readonly HashSet<string> NotSent = ["scale", "binding", "eviction", "token", "exec", "attach", "portforward", "proxy"];

    private const string ConnectRefusal =
        "CONNECT requests (exec, attach, port-forward, proxy) are not sent to admission webhooks by this API server, so a rule naming them is refused rather than stored and ignored";

    /// <summary>validateValidatingWebhook / validateMutatingWebhook's shared part, for v1 (sideEffects and
    /// admissionReviewVersions required).</summary>
    private static void ValidateWebhook(V1ValidatingWebhook w, string path, List<StoreErrorCause> causes)
    {
        if (string.IsNullOrEmpty(w.Name)) causes.Add(FieldErrors.Required(path + ".name"));
        else
        {
            foreach (var problem in Names.Check(w.Name, Names.Rule.Dns1123Subdomain)) causes.Add(FieldErrors.Invalid(path + ".name", w.Name, problem));
            if (w.Name.Split('.').Length < 3)
                causes.Add(FieldErrors.Invalid(path + ".name", w.Name, "should be a domain with at least three segments separated by dots"));
        }
        for (var i = 0; i < (w.Rules?.Count ?? 0); i++)
        {
            AdmissionPolicyRules.ValidateRule(w.Rules![i], $"{path}.rules[{i}]", causes, ConnectRefusal);
            var resources = w.Rules[i].Resources ?? [];
            for (var j = 0; j < resources.Count; j++)
                if (resources[j].IndexOf('/') is > 0 and var slash && NotSent.Contains(resources[j][(slash + 1)..]))
                    causes.Add(FieldErrors.Forbidden($"{path}.rules[{i}].resources[{j}]",
                        $"requests to the {resources[j][(slash + 1)..]} subresource are not sent to admission webhooks by this API server, so a rule naming it is refused rather than stored and ignored"));
        }
        if (w.FailurePolicy is { } failure && failure is not ("Fail" or "Ignore"))
            causes.Add(FieldErrors.NotSupported(path + ".failurePolicy", failure, ["Fail", "Ignore"]));
        if (w.MatchPolicy is { } match && match is not ("Exact" or "Equivalent"))
            causes.Add(FieldErrors.NotSupported(path + ".matchPolicy", match, ["Equivalent", "Exact"]));
        if (w.SideEffects is null) causes.Add(FieldErrors.Required(path + ".sideEffects", "must specify one of None, NoneOnDryRun"));
        else if (w.SideEffects is not ("None" or "NoneOnDryRun"))
            causes.Add(FieldErrors.NotSupported(path + ".sideEffects", w.SideEffects, ["None", "NoneOnDryRun"]));
        if (w.NamespaceSelector is { } ns) LabelRules.ValidateSelector(ns, path + ".namespaceSelector", causes);
        if (w.ObjectSelector is { } os) LabelRules.ValidateSelector(os, path + ".objectSelector", causes);
        if (w.TimeoutSeconds is { } timeout && timeout is < 1 or > 30)
            causes.Add(FieldErrors.Invalid(path + ".timeoutSeconds", timeout, "the timeout value must be between 1 and 30 seconds"));
        ValidateReviewVersions(w.AdmissionReviewVersions, path + ".admissionReviewVersions", causes);
        WebhookClientRules.ValidateClientConfig(w.ClientConfig, path + ".clientConfig", causes);
        ValidatingAdmissionPolicyStrategy.ValidateMatchConditions(w.MatchConditions, hasParams: false, causes, path + ".matchConditions",
            namespaceObject: false);
    }

    /// <summary>validateAdmissionReviewVersions: required in v1, one of them v1 or v1beta1, each a DNS-1035 label, no
    /// duplicates.</summary>
    private static void ValidateReviewVersions(IList<string>? versions, string path, List<StoreErrorCause> causes)
    {
        if (versions is not { Count: > 0 })
        {
            causes.Add(FieldErrors.Required(path, "must specify one of v1, v1beta1"));
            return;
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < versions.Count; i++)
        {
            foreach (var problem in Names.Check(versions[i], Names.Rule.Dns1035Label))
                causes.Add(FieldErrors.Invalid($"{path}[{i}]", versions[i], problem));
            if (!seen.Add(versions[i])) causes.Add(FieldErrors.Invalid($"{path}[{i}]", versions[i], "duplicate version"));
        }
        if (!versions.Contains("v1") && !versions.Contains("v1beta1"))
            causes.Add(FieldErrors.Invalid(path, FieldErrors.GoStrings(versions), "must include at least one of v1, v1beta1"));
    }
}

/// <summary>The two kinds' webhooks seen through their shared fields.</summary>
internal static class WebhookConfigurations
{
    public static WebhookConfigurationStrategy<V1ValidatingWebhookConfiguration> Validating() =>
        new(w => w.Webhooks, w => (IReadOnlyList<V1ValidatingWebhook>?)w.Webhooks?.ToList() ?? [], _ => null);

    public static WebhookConfigurationStrategy<V1MutatingWebhookConfiguration> Mutating() =>
        new(w => w.Webhooks, w => w.Webhooks?.Select(AsValidating).ToList() ?? [], w => w.Webhooks ?? []);

    /// <summary>A mutating webhook's shared fields as a validating webhook (the same selector and config objects).</summary>
    public static V1ValidatingWebhook AsValidating(V1MutatingWebhook m) => new()
    {
        Name = m.Name, ClientConfig = m.ClientConfig, Rules = m.Rules, FailurePolicy = m.FailurePolicy, MatchPolicy = m.MatchPolicy,
        NamespaceSelector = m.NamespaceSelector, ObjectSelector = m.ObjectSelector, SideEffects = m.SideEffects,
        TimeoutSeconds = m.TimeoutSeconds, AdmissionReviewVersions = m.AdmissionReviewVersions, MatchConditions = m.MatchConditions,
    };
}
