using System.Net.Http.Headers;
using System.Security.Authentication;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Api.Storage;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.CustomResources;
using Orchestrator.Master.Registry.Validation;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Api.Webhooks;

/// <summary>
/// CRD conversion webhooks, as apiextensions-apiserver's webhookConverter: one ConversionReview (the first of
/// conversionReviewVersions kube speaks) with the objects to convert, posted with <see cref="WebhookClients"/> (TLS against
/// the caBundle; a service through <see cref="PodTunnel"/>), kube's 30 s timeout. The answer is checked as kube checks it —
/// apiVersion and kind of the review and uid (v1), result Success, as many objects as sent, each in the desired
/// group/version with the same kind, name, namespace and uid — and each object keeps its own metadata but for the labels
/// and annotations the webhook gave (validated). Any failure is kube's 500.
/// </summary>
internal sealed class ConversionWebhook(WebhookClients clients, ILogger<ConversionWebhook> log) : IWebhookConverter
{
    private const int TimeoutSeconds = 30;
    private const int MaxResponseBytes = 64 * 1024 * 1024;

    public async Task<IReadOnlyList<IKubernetesObject<V1ObjectMeta>>> ConvertAsync(WebhookConversion conversion,
        IReadOnlyList<IKubernetesObject<V1ObjectMeta>> objects, string desiredApiVersion, bool list, CancellationToken cancellationToken)
    {
        // kube names the converted object's group/version/kind, a list's for a list
        var gvk = $"{objects[0].ApiVersion}, Kind={objects[0].Kind}{(list ? "List" : "")}";
        if (conversion.ReviewVersions.FirstOrDefault(v => v is "v1" or "v1beta1") is not { } reviewVersion)
            throw Failure("no supported conversion review versions");
        var uid = Guid.NewGuid().ToString();
        var review = new JsonObject
        {
            ["kind"] = "ConversionReview",
            ["apiVersion"] = "apiextensions.k8s.io/" + reviewVersion,
            ["request"] = new JsonObject
            {
                ["uid"] = uid,
                ["desiredAPIVersion"] = desiredApiVersion,
                ["objects"] = new JsonArray(objects.Select(o => (JsonNode)JsonNode.Parse(KubeObjects.Serialize(o))!).ToArray()),
            },
        };
        JsonArray converted;
        try
        {
            var text = await PostAsync(conversion, review, cancellationToken);
            converted = ConvertedObjects(text, uid, reviewVersion);
        }
        catch (WebhookCallException e)
        {
            log.LogWarning("conversion webhook for {Definition} failed: {Error}", conversion.CrdName, e.Message);
            throw Failure($"conversion webhook for {gvk} failed: {e.Message}");
        }
        if (converted.Count != objects.Count)
            throw Failure($"conversion webhook for {gvk} returned {converted.Count} objects, expected {objects.Count}");

        var result = new List<IKubernetesObject<V1ObjectMeta>>(objects.Count);
        for (var i = 0; i < objects.Count; i++)
        {
            // kube's messages: a list's say "converted object at index N" (N counted from 1 past the parse), a single
            // object's "object at index 0"
            var at = list ? $"returned invalid converted object at index {i + 1}" : "returned invalid object at index 0";
            if (converted[i] is not JsonObject json)
                throw Failure($"conversion webhook for {gvk} {(list ? $"returned invalid converted object at index {i}" : "failed")}: " +
                              "json: cannot unmarshal into Go value of type map[string]interface {}");
            var original = objects[i];
            var (apiVersion, kind) = (Text(json["apiVersion"]), Text(json["kind"]));
            if (apiVersion != desiredApiVersion)
                throw Failure($"conversion webhook for {gvk} {at}: invalid groupVersion (expected {desiredApiVersion}, received {apiVersion})");
            if (kind != original.Kind)
                throw Failure($"conversion webhook for {gvk} {at}: invalid kind (expected {original.Kind}, received {kind})");
            var invalid = list ? $"returned invalid converted object at index {i}" : "returned invalid object";
            if (json["metadata"] is not JsonObject metadata)
                throw Failure($"conversion webhook for {gvk} returned invalid metadata{(list ? $" in object at index {i}" : "")}: missing metadata in converted object");
            if (MetadataProblem(original, metadata) is { } problem) throw Failure($"conversion webhook for {gvk} {invalid}: {problem}");
            if (RestoredMetadata(original, metadata, out var restored) is { } metaProblem)
                throw Failure($"conversion webhook for {gvk} returned invalid metadata{(list ? $" in object at index {i}" : "")}: {metaProblem}");
            json["metadata"] = restored;
            result.Add((CustomObject)KubeObjects.Deserialize(json.ToJsonString(), typeof(CustomObject)));
        }
        return result;
    }

    private async Task<string> PostAsync(WebhookConversion conversion, JsonObject review, CancellationToken cancellationToken)
    {
        var config = CustomResourceConversionValidation.AsAdmissionConfig(conversion.ClientConfig);
        var address = WebhookClients.Address(config, TimeoutSeconds);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(TimeoutSeconds));
        try
        {
            var client = clients.For(config);
            using var message = new HttpRequestMessage(HttpMethod.Post, address)
            {
                Content = new StringContent(review.ToJsonString(), Encoding.UTF8, "application/json"),
            };
            message.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            using var response = await client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
            var text = await WebhookClients.ReadBodyAsync(response, MaxResponseBytes, "the response is larger than 64 MiB", deadline.Token);
            if (!response.IsSuccessStatusCode)
                throw new WebhookCallException($"the server responded with the status code {(int)response.StatusCode} " +
                                               $"but did not return more information (post {address.OriginalString})");
            return text;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new WebhookCallException($"Post \"{address.OriginalString}\": context deadline exceeded");
        }
        catch (Exception e) when (e is HttpRequestException or IOException or AuthenticationException)
        {
            throw new WebhookCallException($"Post \"{address.OriginalString}\": {WebhookClients.Reason(e)}");
        }
    }

    /// <summary>getConvertedObjectsFromResponse: the review's convertedObjects once its answer is found well formed.</summary>
    private static JsonArray ConvertedObjects(string text, string uid, string reviewVersion)
    {
        JsonObject review;
        try
        {
            review = JsonNode.Parse(text) as JsonObject ?? throw new JsonException("not a JSON object");
        }
        catch (JsonException e)
        {
            throw new WebhookCallException($"couldn't get version/kind; json parse error: {e.Message}");
        }
        var (apiVersion, kind) = (Text(review["apiVersion"]), Text(review["kind"]));
        if (reviewVersion == "v1" && (apiVersion != "apiextensions.k8s.io/v1" || kind != "ConversionReview"))
            throw new WebhookCallException($"expected webhook response of apiextensions.k8s.io/v1, Kind=ConversionReview, got {apiVersion}, Kind={kind}");
        if (review["response"] is not JsonObject response) throw new WebhookCallException("no response provided");
        // v1beta1 answers' uid is not checked, as kube reads them
        if (reviewVersion == "v1" && Text(response["uid"]) is var answered && answered != uid)
            throw new WebhookCallException($"expected response.uid=\"{uid}\", got \"{answered}\"");
        var result = response["result"] as JsonObject;
        if (Text(result?["status"]) is var status && status != "Success")
            throw new WebhookCallException(Text(result?["message"]) is { Length: > 0 } message
                ? message
                : $"response.result.status was '{status}', not 'Success'");
        return response["convertedObjects"] as JsonArray ?? [];
    }

    /// <summary>validateConvertedObject: kind, name, namespace and uid as they were.</summary>
    private static string? MetadataProblem(IKubernetesObject<V1ObjectMeta> original, JsonObject metadata)
    {
        var meta = original.Metadata;
        if (Text(metadata["name"]) is var name && name != (meta.Name ?? "")) return $"must have the same name: {meta.Name} != {name}";
        if (Text(metadata["namespace"]) is var ns && ns != (meta.NamespaceProperty ?? ""))
            return $"must have the same namespace: {meta.NamespaceProperty} != {ns}";
        if (Text(metadata["uid"]) is var converted && converted != (meta.Uid ?? "")) return $"must have the same UID: {meta.Uid} != {converted}";
        return null;
    }

    /// <summary>restoreObjectMeta: the original's metadata with the converted object's labels and annotations (validated
    /// when they changed); the problem, or null.</summary>
    private static string? RestoredMetadata(IKubernetesObject<V1ObjectMeta> original, JsonObject converted, out JsonObject restored)
    {
        restored = JsonNode.Parse(KubeObjects.Serialize(original.Metadata))!.AsObject();
        foreach (var field in new[] { "labels", "annotations" })
        {
            var given = converted[field];
            if (given is null)
            {
                restored.Remove(field);
                continue;
            }
            if (given is not JsonObject map) return $"invalid metadata.{field} of type {GoType(given)} in converted object";
            var values = new Dictionary<string, string>();
            foreach (var (key, value) in map)
            {
                if (value is not JsonValue v || !v.TryGetValue<string>(out var s))
                    return $"metadata.{field}[{key}] must be a string, but is {GoType(value)} in converted object";
                values[key] = s;
            }
            var before = field == "labels" ? original.Metadata.Labels : original.Metadata.Annotations;
            var changed = (before?.Count ?? 0) != values.Count || values.Any(kv => before?.TryGetValue(kv.Key, out var b) != true || b != kv.Value);
            if (changed)
            {
                var causes = new List<StoreErrorCause>();
                if (field == "labels") LabelRules.ValidateLabels(values, "metadata.labels", causes);
                else LabelRules.ValidateAnnotations(values, "metadata.annotation", causes);
                if (causes.Count > 0)
                    return causes.Count == 1
                        ? $"{causes[0].Field}: {causes[0].Message}"
                        : "[" + string.Join(", ", causes.Select(c => $"{c.Field}: {c.Message}")) + "]";
            }
            restored[field] = map.DeepClone();
        }
        return null;
    }

    private static string GoType(JsonNode? node) => node switch
    {
        null => "<nil>",
        JsonArray => "[]interface {}",
        JsonObject => "map[string]interface {}",
        JsonValue v when v.GetValueKind() == JsonValueKind.String => "string",
        JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => "bool",
        _ => "int64",
    };

    private static string Text(JsonNode? node) =>
        node is JsonValue v && v.TryGetValue<string>(out var s) ? s : "";

    private static ApiException Failure(string message) =>
        new(500, "InternalError", "Internal error occurred: " + message,
            new V1StatusDetails { Causes = [new V1StatusCause { Message = message }] });

}
