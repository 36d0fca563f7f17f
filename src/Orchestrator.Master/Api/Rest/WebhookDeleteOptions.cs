using System.Text.Json.Nodes;

namespace Orchestrator.Master.Api.Rest;

/// <summary>The DeleteOptions a delete asked, kept on the request for its webhooks' AdmissionReview (request.options).</summary>
internal static class WebhookDeleteOptions
{
    public static void Remember(HttpContext context, string? propagationPolicy, long? gracePeriodSeconds, bool dryRun, string? uid,
        string? resourceVersion)
    {
        var options = new JsonObject { ["kind"] = "DeleteOptions", ["apiVersion"] = "meta.k8s.io/v1" };
        if (gracePeriodSeconds is { } grace) options["gracePeriodSeconds"] = grace;
        if (uid is not null || resourceVersion is not null)
        {
            var preconditions = new JsonObject();
            if (uid is not null) preconditions["uid"] = uid;
            if (resourceVersion is not null) preconditions["resourceVersion"] = resourceVersion;
            options["preconditions"] = preconditions;
        }
        if (!string.IsNullOrEmpty(propagationPolicy)) options["propagationPolicy"] = propagationPolicy;
        if (dryRun) options["dryRun"] = new JsonArray("All");
        context.Items[typeof(WebhookDeleteOptions)] = options;
    }

    public static JsonObject Of(HttpContext context) =>
        context.Items[typeof(WebhookDeleteOptions)] as JsonObject ?? new JsonObject { ["kind"] = "DeleteOptions", ["apiVersion"] = "meta.k8s.io/v1" };
}
