using System.Net.Http.Headers;
using System.Security.Authentication;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Orchestrator.Master.Api.Bodies;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Api.Patching;
using Orchestrator.Master.Api.Rest;
using Orchestrator.Master.Api.Storage;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Kinds.AdmissionRegistration;
using Orchestrator.Master.Registry.Kinds.Core;
using Orchestrator.Master.Registry.Validation;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Api.Webhooks;

/// <summary>
/// kube-apiserver's MutatingAdmissionWebhook and ValidatingAdmissionWebhook plugins, on the request's path (never in the
/// store's), on objects the kind's defaults were applied to: the mutating webhooks in order (configurations by name, then
/// each one's webhooks), each JSONPatch applied and the result defaulted again before the next is called, those with
/// reinvocationPolicy IfNeeded called once more when a later one changed the object; then the validating webhooks, all at
/// once. A denial is the webhook's status ("admission webhook "NAME" denied the request: …", at least 400); a webhook
/// that cannot be called, times out or answers nonsense refuses the request under failurePolicy Fail (500) and is
/// skipped under Ignore. Warnings go to the Warning headers, audit annotations to the audit
/// event as "NAME/KEY". Requests for the admission configurations themselves never go to webhooks.
/// </summary>
internal sealed class WebhookDispatcher(ObjectStoreClient store, WebhookClients clients, ILogger<WebhookDispatcher> log) : IWebhookAdmission
{
    private const int MaxResponseBytes = 3 * 1024 * 1024;

    public async Task<bool> ConfiguredAsync(ResourceDescription resource, CancellationToken ct) =>
        !Exempt(resource) &&
        ((await store.ListAsync(AdmissionRegistrationResources.MutatingWebhookConfigurations, null, ct)).Items.Count > 0 ||
         (await store.ListAsync(AdmissionRegistrationResources.ValidatingWebhookConfigurations, null, ct)).Items.Count > 0);

    /// <summary>kube's rules.IsExemptAdmissionConfigurationResource.</summary>
    public static bool Exempt(ResourceDescription resource) =>
        resource.Group == AdmissionRegistrationResources.Group && resource.Resource is "validatingwebhookconfigurations"
            or "mutatingwebhookconfigurations" or "validatingadmissionpolicies" or "validatingadmissionpolicybindings"
            or "mutatingadmissionpolicies" or "mutatingadmissionpolicybindings";

    public async Task<WebhookAdmitted> AdmitAsync(HttpContext context, ResourceDescription resource, string operation, string? subresource,
        IKubernetesObject<V1ObjectMeta>? obj, IKubernetesObject<V1ObjectMeta>? old)
    {
        if (Exempt(resource)) return new WebhookAdmitted(obj, false);
        var ct = context.RequestAborted;
        var webhooks = WebhookConfigurationSet.Of(
            (await store.ListAsync(AdmissionRegistrationResources.MutatingWebhookConfigurations, null, ct)).Items.Cast<V1MutatingWebhookConfiguration>(),
            (await store.ListAsync(AdmissionRegistrationResources.ValidatingWebhookConfigurations, null, ct)).Items.Cast<V1ValidatingWebhookConfiguration>());
        if (webhooks.Empty) return new WebhookAdmitted(obj, false);

        var meta = (obj ?? old)!.Metadata;
        var ns = resource.Namespaced ? meta.NamespaceProperty : null;
        var request = new WebhookRequest(resource, operation, subresource, meta.Name ?? "", ns, obj, old,
            await NamespaceLabelsAsync(ns, ct), RequestAdmissionUser.Get(context), WriteOptions.DryRun(context),
            operation == "DELETE" ? WebhookDeleteOptions.Of(context) : WebhookRequest.WriteOptionsOf(context, operation));
        return await AdmitAsync(webhooks, request, new RequestNotes(context), ct);
    }

    /// <summary>The core both paths share (the API's requests and the controllers' writes through
    /// <see cref="ControllerAdmissionGateway"/>): the mutating webhooks of <paramref name="webhooks"/> that match, then the
    /// validating ones, on <paramref name="request"/>. Throws an <see cref="ApiException"/> to refuse.</summary>
    public async Task<WebhookAdmitted> AdmitAsync(WebhookConfigurationSet webhooks, WebhookRequest request, IWebhookNotes notes, CancellationToken ct)
    {
        if (Exempt(request.Resource) || webhooks.Empty) return new WebhookAdmitted(request.Object, false);
        var called = false;
        (request, called) = await MutateAsync(notes, webhooks.Mutating, request, ct);
        called |= await ValidateAsync(notes, webhooks.Validating, request, ct);
        return new WebhookAdmitted(request.Object, called);
    }

    private async Task<IDictionary<string, string>?> NamespaceLabelsAsync(string? ns, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(ns)) return null;
        try
        {
            return (await store.GetAsync(CoreResources.Namespaces, null, ns, ct)).Metadata.Labels;
        }
        catch (ApiException e) when (e.Code == 404)
        {
            return null;
        }
    }

    /// <summary>The mutating webhooks in order, then once more those with reinvocationPolicy IfNeeded that a later
    /// webhook's change concerns (kube's webhookReinvokeContext).</summary>
    private async Task<(WebhookRequest Request, bool Called)> MutateAsync(IWebhookNotes notes,
        IReadOnlyList<(string Key, V1MutatingWebhook Webhook)> webhooks, WebhookRequest request, CancellationToken ct)
    {
        var called = false;
        var previouslyInvoked = new HashSet<string>(StringComparer.Ordinal);
        var reinvoke = new HashSet<string>(StringComparer.Ordinal);
        for (var round = 0; round < 2; round++)
        {
            for (var i = 0; i < webhooks.Count; i++)
            {
                var (key, webhook) = webhooks[i];
                if (round == 1 && !reinvoke.Contains(key)) continue;
                var common = WebhookConfigurations.AsValidating(webhook);
                if (!WebhookMatcher.Matches(common, request)) continue;
                called = true;
                var reply = await CallAsync(common, request, mutating: true, ct);
                if (reply is null)
                {
                    notes.AuditAnnotation($"failed-open.mutating.webhook.admission.k8s.io/round_{round}_index_{i}", webhook.Name);
                    continue;
                }
                Note(notes, webhook.Name, reply);
                if (reply.Patch is { } patch)
                {
                    var patched = Patched(request, patch);
                    // kube compares the patched object as decoded, then defaults it: a webhook that removes a default
                    // changed the object, and the next webhook and the validation see the default again
                    var changed = !KubeObjects.SameJson(patched, request.Object);
                    request.Resource.Default(patched);
                    if (changed)
                    {
                        request = request with { Object = patched };
                        foreach (var earlier in previouslyInvoked) reinvoke.Add(earlier);
                        previouslyInvoked.Clear();
                    }
                }
                if (round == 0 && webhook.ReinvocationPolicy == "IfNeeded") previouslyInvoked.Add(key);
            }
            if (reinvoke.Count == 0) break;
        }
        return (request, called);
    }

    /// <summary>Every matching validating webhook at once; the first denial in their order refuses the request.</summary>
    private async Task<bool> ValidateAsync(IWebhookNotes notes, IReadOnlyList<V1ValidatingWebhook> webhooks, WebhookRequest request,
        CancellationToken ct)
    {
        var calls = new List<(int Index, V1ValidatingWebhook Webhook, Task<WebhookReply?> Reply)>();
        for (var i = 0; i < webhooks.Count; i++)
            if (WebhookMatcher.Matches(webhooks[i], request))
                calls.Add((i, webhooks[i], CallAsync(webhooks[i], request, mutating: false, ct)));
        if (calls.Count == 0) return false;
        try
        {
            await Task.WhenAll(calls.Select(c => c.Reply));
        }
        catch (ApiException)
        {
            // each call's outcome is read below, in order
        }
        ApiException? refusal = null;
        foreach (var (index, webhook, reply) in calls)
        {
            if (reply.IsFaulted)
            {
                refusal ??= reply.Exception!.InnerException as ApiException ?? throw reply.Exception!.InnerException!;
                continue;
            }
            if (reply.Result is not { } answer)
            {
                notes.AuditAnnotation($"failed-open.validating.webhook.admission.k8s.io/round_0_index_{index}", webhook.Name);
                continue;
            }
            Note(notes, webhook.Name, answer);
        }
        if (refusal is not null) throw refusal;
        return true;
    }

    /// <summary>Warnings to the response, audit annotations (a qualified-name key under the webhook's name) to the audit event.</summary>
    private void Note(IWebhookNotes notes, string webhook, WebhookReply reply)
    {
        foreach (var warning in reply.Warnings) notes.Warning(webhook, warning);
        foreach (var (key, value) in reply.AuditAnnotations)
        {
            var qualified = webhook + "/" + key;
            if (LabelRules.CheckKey(qualified).Any())
            {
                log.LogWarning("Webhook {Webhook} returned an invalid audit annotation key {Key}", webhook, key);
                continue;
            }
            notes.AuditAnnotation(qualified, value);
        }
    }

    /// <summary>The object with a mutating webhook's JSONPatch applied (kube: an internal error when it does not apply).</summary>
    private static IKubernetesObject<V1ObjectMeta> Patched(WebhookRequest request, JsonNode patch)
    {
        if (request.Object is null)
            throw Internal("the webhook returned a patch for a request without an object");
        try
        {
            var patched = PatchApplier.Apply(ObjectJson.ToJson(request.Object, request.Resource), patch, PatchApplier.JsonPatchType);
            var obj = RequestBodies.ToObject(patched, request.Resource, problem => Internal("the patched object does not decode: " + problem));
            WriteOptions.Reconcile(obj, request.Resource, request.Namespace, request.Object.Metadata.Name);
            return obj;
        }
        catch (ApiException e) when (e.Code != 500)
        {
            throw Internal(e.Message);
        }
    }

    private static ApiException Internal(string message) =>
        new(500, "InternalError", "Internal error occurred: " + message,
            new V1StatusDetails { Causes = [new V1StatusCause { Message = message }] });

    /// <summary>One call: the webhook's answer when it allowed the request; throws its denial, or — under failurePolicy
    /// Fail — why it could not be called; null when it could not be called under Ignore.</summary>
    private async Task<WebhookReply?> CallAsync(V1ValidatingWebhook webhook, WebhookRequest request, bool mutating, CancellationToken ct)
    {
        // kube: a webhook with side effects must not see a dry run
        if (request.DryRun && webhook.SideEffects is not ("None" or "NoneOnDryRun"))
            throw ApiException.BadRequest($"admission webhook \"{webhook.Name}\" does not support dry run");
        var timeout = webhook.TimeoutSeconds ?? 10;
        var uid = Guid.NewGuid().ToString();
        // kube sends the first version of admissionReviewVersions it speaks (validation requires v1 or v1beta1 in it)
        var version = (webhook.AdmissionReviewVersions ?? []).FirstOrDefault(v => v is "v1" or "v1beta1") ?? "v1";
        Uri? address = null;
        WebhookReply reply;
        try
        {
            address = WebhookClients.Address(webhook.ClientConfig, timeout);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
            deadline.CancelAfter(TimeSpan.FromSeconds(timeout));
            string text;
            try
            {
                var client = clients.For(webhook.ClientConfig);
                using var message = new HttpRequestMessage(HttpMethod.Post, address)
                {
                    Content = new StringContent(request.Review(uid, version).ToJsonString(), Encoding.UTF8, "application/json"),
                };
                message.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
                using var response = await client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
                text = await WebhookClients.ReadBodyAsync(response, MaxResponseBytes, "failed to call webhook: the response is larger than 3 MiB", deadline.Token);
                if (!response.IsSuccessStatusCode)
                    throw new WebhookCallException($"failed to call webhook: the server responded with the status code {(int)response.StatusCode} " +
                                                   $"but did not return more information (post {address?.OriginalString})");
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw new WebhookCallException($"failed to call webhook: Post \"{address?.OriginalString}\": context deadline exceeded");
            }
            catch (Exception e) when (e is HttpRequestException or IOException or AuthenticationException)
            {
                throw new WebhookCallException($"failed to call webhook: Post \"{address?.OriginalString}\": {WebhookClients.Reason(e)}");
            }
            reply = WebhookReply.Parse(text, uid, mutating, version);
        }
        catch (WebhookCallException e)
        {
            var message = $"failed calling webhook \"{webhook.Name}\": {e.Message}";
            if (webhook.FailurePolicy == "Ignore")
            {
                log.LogWarning("Failed calling webhook, failing open {Webhook}: {Error}", webhook.Name, message);
                return null;
            }
            log.LogWarning("Failed calling webhook, failing closed {Webhook}: {Error}", webhook.Name, message);
            throw Internal(message);
        }
        if (!reply.Allowed) throw reply.Denial(webhook.Name);
        return reply;
    }

}

/// <summary>Where what the webhooks say besides their verdict goes: on the API's path the response's Warning headers and
/// the request's audit event; for a controller's write (which has neither) the master's log.</summary>
internal interface IWebhookNotes
{
    void Warning(string webhook, string text);

    void AuditAnnotation(string key, string value);
}

/// <summary>The API request's notes: warnings to its Warning headers, annotations to its audit event.</summary>
internal sealed class RequestNotes(HttpContext context) : IWebhookNotes
{
    public void Warning(string webhook, string text) => Warnings.Add(context, text);

    public void AuditAnnotation(string key, string value) => AuditAnnotations.Add(context, key, value);
}

/// <summary>A webhook's AdmissionReview response, checked as kube's VerifyAdmissionResponse.</summary>
internal sealed record WebhookReply(bool Allowed, JsonObject? Status, JsonNode? Patch, IReadOnlyList<string> Warnings,
    IReadOnlyDictionary<string, string> AuditAnnotations)
{
    /// <param name="version">The AdmissionReview version sent: a v1beta1 answer's apiVersion, kind and uid are not checked,
    /// and its patch is a JSONPatch unless it says otherwise, as kube reads v1beta1 answers.</param>
    public static WebhookReply Parse(string text, string uid, bool mutating, string version = "v1")
    {
        var v1 = version == "v1";
        JsonObject review;
        try
        {
            review = JsonNode.Parse(text) as JsonObject ?? throw new JsonException("not a JSON object");
        }
        catch (JsonException e)
        {
            throw Invalid($"couldn't get version/kind; json parse error: {e.Message}");
        }
        var (apiVersion, kind) = (Text(review["apiVersion"]), Text(review["kind"]));
        if (v1 && (apiVersion != "admission.k8s.io/v1" || kind != "AdmissionReview"))
            throw Invalid($"expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got {apiVersion}, Kind={kind}");
        if (review["response"] is not JsonObject response) throw Invalid("webhook response was absent");
        if (v1 && Text(response["uid"]) != uid) throw Invalid($"expected response.uid=\"{uid}\", got \"{Text(response["uid"])}\"");
        var allowed = response["allowed"] is JsonValue a && a.TryGetValue<bool>(out var yes) && yes;
        var patchText = Text(response["patch"]);
        var patchType = Text(response["patchType"]) ?? (v1 ? null : "JSONPatch");
        JsonNode? patch = null;
        if (!string.IsNullOrEmpty(patchText))
        {
            if (!mutating) throw Invalid("validating webhooks may not return patches");
            if (patchType is null) throw Invalid("webhook returned response.patch but not response.patchType");
            if (patchType != "JSONPatch") throw Invalid($"webhook returned invalid response.patchType of \"{patchType}\"");
            try
            {
                patch = JsonNode.Parse(Convert.FromBase64String(patchText));
            }
            catch (Exception e) when (e is FormatException or JsonException)
            {
                throw Invalid("the patch is not base64-encoded JSON: " + e.Message);
            }
        }
        else if (v1 && patchType is not null) throw Invalid("webhook returned response.patchType but not response.patch");
        var warnings = (response["warnings"] as JsonArray ?? []).Select(Text).Where(w => !string.IsNullOrWhiteSpace(w)).Select(w => w!).ToList();
        var annotations = (response["auditAnnotations"] as JsonObject ?? [])
            .Where(kv => Text(kv.Value) is not null).ToDictionary(kv => kv.Key, kv => Text(kv.Value)!, StringComparer.Ordinal);
        return new WebhookReply(allowed, response["status"] as JsonObject, allowed ? patch : null, warnings, annotations);
    }

    private static string? Text(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static WebhookCallException Invalid(string why) => new("received invalid webhook response: " + why);

    /// <summary>kube's webhookerrors.ToStatusErr: the webhook's status, its code at least 400, its message prefixed.</summary>
    public ApiException Denial(string webhook)
    {
        var deniedBy = $"admission webhook \"{webhook}\" denied the request";
        var code = Status?["code"] is JsonValue c && c.TryGetValue<int>(out var n) ? n : 0;
        if (code < 400) code = 400;
        var reason = Text(Status?["reason"]) ?? "";
        var message = Text(Status?["message"]) is { Length: > 0 } m ? $"{deniedBy}: {m}"
            : reason.Length > 0 ? $"{deniedBy}: {reason}"
            : deniedBy + " without explanation";
        V1StatusDetails? details = null;
        if (Status?["details"] is JsonObject d)
        {
            try
            {
                details = KubernetesJson.Deserialize<V1StatusDetails>(d.ToJsonString());
            }
            catch (JsonException)
            {
                details = null;
            }
        }
        return new ApiException(code, reason, message, details);
    }
}
