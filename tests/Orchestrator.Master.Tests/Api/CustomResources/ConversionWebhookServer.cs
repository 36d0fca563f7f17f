using System.Text.Json.Nodes;
using Orchestrator.Master.Tests.Api.Webhooks;

namespace Orchestrator.Master.Tests.Api.CustomResources;

/// <summary>
/// A real HTTPS CRD conversion webhook on a loopback port (<see cref="WebhookServer"/>: self-signed for 127.0.0.1, its PEM the caBundle) converting
/// Foos between conv.example.com/v1 (<c>spec.color</c>) and v2 (<c>spec.colour</c>). Its paths answer wrongly on purpose:
/// /rename changes the name, /stay keeps the apiVersion, /lose returns no object, /refuse answers Failure; /label sets a label
/// (which kube keeps) and the generation (which kube restores).
/// </summary>
internal static class ConversionWebhookServer
{
    public static Task<WebhookServer> StartAsync(string? dnsName = null) => WebhookServer.StartReviewAsync(Answer, dnsName);

    /// <summary>The objects converted as the path says, in a v1 ConversionReview echoing the uid.</summary>
    public static JsonObject Answer(string path, JsonObject review)
    {
        var request = review["request"]!;
        var desired = request["desiredAPIVersion"]!.GetValue<string>();
        var converted = new JsonArray();
        foreach (var item in request["objects"]!.AsArray())
        {
            var obj = item!.DeepClone().AsObject();
            if (path != "/stay") obj["apiVersion"] = desired;
            if (obj["spec"] is JsonObject spec)
            {
                var (from, to) = desired.EndsWith("/v2") ? ("color", "colour") : ("colour", "color");
                if (spec[from] is { } value)
                {
                    spec.Remove(from);
                    spec[to] = value.DeepClone();
                }
            }
            if (path == "/rename") obj["metadata"]!["name"] = "someone-else";
            if (path == "/label")
            {
                obj["metadata"]!["labels"] = new JsonObject { ["converted"] = "yes" };
                obj["metadata"]!["generation"] = 99;
            }
            converted.Add(obj);
        }
        var response = new JsonObject
        {
            ["uid"] = request["uid"]!.GetValue<string>(),
            ["result"] = path == "/refuse"
                ? new JsonObject { ["status"] = "Failure", ["message"] = "colours are not convertible today" }
                : new JsonObject { ["status"] = "Success" },
            ["convertedObjects"] = path == "/lose" ? new JsonArray() : converted,
        };
        return new JsonObject { ["apiVersion"] = "apiextensions.k8s.io/v1", ["kind"] = "ConversionReview", ["response"] = response };
    }
}
