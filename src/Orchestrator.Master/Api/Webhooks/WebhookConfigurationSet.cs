using k8s.Models;

namespace Orchestrator.Master.Api.Webhooks;

/// <summary>
/// The admission webhooks of one state of the configurations, in kube's order: the mutating ones by configuration name,
/// then each configuration's webhooks in their order (keyed "CONFIGURATION/WEBHOOK" for reinvocation); the validating
/// ones likewise. Immutable: a change of the configurations makes a new set.
/// </summary>
internal sealed class WebhookConfigurationSet
{
    public static readonly WebhookConfigurationSet None = new([], []);

    private WebhookConfigurationSet(IReadOnlyList<(string Key, V1MutatingWebhook Webhook)> mutating, IReadOnlyList<V1ValidatingWebhook> validating) =>
        (Mutating, Validating) = (mutating, validating);

    public IReadOnlyList<(string Key, V1MutatingWebhook Webhook)> Mutating { get; }
    public IReadOnlyList<V1ValidatingWebhook> Validating { get; }
    public bool Empty => Mutating.Count == 0 && Validating.Count == 0;

    public static WebhookConfigurationSet Of(IEnumerable<V1MutatingWebhookConfiguration> mutating, IEnumerable<V1ValidatingWebhookConfiguration> validating)
    {
        var m = mutating.OrderBy(c => c.Metadata.Name, StringComparer.Ordinal)
            .SelectMany(c => (c.Webhooks ?? []).Select(w => (Key: c.Metadata.Name + "/" + w.Name, Webhook: w))).ToList();
        var v = validating.OrderBy(c => c.Metadata.Name, StringComparer.Ordinal).SelectMany(c => c.Webhooks ?? []).ToList();
        return m.Count == 0 && v.Count == 0 ? None : new WebhookConfigurationSet(m, v);
    }

    /// <summary>Whether the rules of any webhook match the request's operation, resource and subresource: the selectors and
    /// match conditions are left to <see cref="WebhookMatcher"/>, since they need the namespace's labels and the objects.
    /// False means no webhook can be called for it.</summary>
    public bool RulesMatch(WebhookRequest request)
    {
        foreach (var (_, webhook) in Mutating)
            if ((webhook.Rules ?? []).Any(rule => WebhookMatcher.MatchesRule(rule, request))) return true;
        foreach (var webhook in Validating)
            if ((webhook.Rules ?? []).Any(rule => WebhookMatcher.MatchesRule(rule, request))) return true;
        return false;
    }
}
