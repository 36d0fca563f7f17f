using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Orchestrator.Master.Tests.Api;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Webhooks;

/// <summary>The API server calling real HTTPS webhooks (a Kestrel server on loopback) on create, update, patch and delete.</summary>
public sealed class AdmissionWebhookTests
{
    private static JsonObject Allow() => new() { ["allowed"] = true };

    /// <summary>/deny refuses configmaps named "bad…", /label adds a label with a JSONPatch and a warning, the rest allow.</summary>
    private static JsonObject Answer(string path, JsonObject request) => path switch
    {
        "/deny" when (request["name"]?.GetValue<string>() ?? "").StartsWith("bad") => new JsonObject
        {
            ["allowed"] = false, ["status"] = new JsonObject { ["code"] = 403, ["message"] = "configmaps named bad are not welcome" },
        },
        "/label" => new JsonObject
        {
            ["allowed"] = true, ["patchType"] = "JSONPatch", ["warnings"] = new JsonArray("labelled by the webhook"),
            ["patch"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(
                request["object"]!["metadata"]!["labels"] is null
                    ? """[{"op":"add","path":"/metadata/labels","value":{"mutated":"yes"}}]"""
                    : """[{"op":"add","path":"/metadata/labels/mutated","value":"yes"}]""")),
        },
        _ => Allow(),
    };

    private static string Configuration(string kind, string name, string url, string? caBundle, string failurePolicy = "Fail",
        string operations = "\"CREATE\", \"UPDATE\"")
    {
        var client = new JsonObject { ["url"] = url };
        if (caBundle is not null) client["caBundle"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(caBundle));
        return $$$"""
            {"apiVersion":"admissionregistration.k8s.io/v1","kind":"{{{kind}}}","metadata":{"name":"{{{name}}}"},
             "webhooks":[{"name":"{{{name}}}.example.com","sideEffects":"None","admissionReviewVersions":["v1"],"failurePolicy":"{{{failurePolicy}}}",
               "timeoutSeconds":5, "clientConfig": {{{client.ToJsonString()}}},
               "rules":[{"operations":[{{{operations}}}],"apiGroups":[""],"apiVersions":["v1"],"resources":["configmaps"]}]}]}
            """;
    }

    private static string ConfigMap(string name, string? labels = null) =>
        "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"" + name + "\"" + (labels is null ? "" : ",\"labels\":" + labels) + "}}";

    private const string Validating = "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations";
    private const string Mutating = "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations";
    private const string ConfigMaps = "/api/v1/namespaces/default/configmaps";

    [Fact]
    public async Task A_validating_webhook_denies_a_create_with_its_message_and_code()
    {
        await using var hook = await WebhookServer.StartAsync(Answer);
        await using var api = await ApiTestServer.StartAsync();
        var (status, body) = await api.SendAsync(HttpMethod.Post, Validating, Configuration("ValidatingWebhookConfiguration", "deny", $"{hook.Address}deny", hook.CaBundlePem));
        Assert.Equal(HttpStatusCode.Created, status);
        // defaulted as kube defaults it
        Assert.Equal("Equivalent", body!["webhooks"]![0]!["matchPolicy"]!.GetValue<string>());
        Assert.Equal("*", body["webhooks"]![0]!["rules"]![0]!["scope"]!.GetValue<string>());

        (status, body) = await api.SendAsync(HttpMethod.Post, ConfigMaps, ConfigMap("bad-one"));
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("admission webhook \"deny.example.com\" denied the request: configmaps named bad are not welcome", body!["message"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, (await api.SendAsync(HttpMethod.Get, ConfigMaps + "/bad-one")).Status);

        Assert.Equal(HttpStatusCode.Created, (await api.SendAsync(HttpMethod.Post, ConfigMaps, ConfigMap("good-one"))).Status);
        var review = hook.Requests.Last()["request"]!;
        Assert.Equal("CREATE", review["operation"]!.GetValue<string>());
        Assert.Equal("configmaps", review["resource"]!["resource"]!.GetValue<string>());
        Assert.Equal("default", review["namespace"]!.GetValue<string>());
        Assert.Equal("CreateOptions", review["options"]!["kind"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(review["userInfo"]!["username"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_mutating_webhook_adds_a_label_and_its_warning_reaches_the_client()
    {
        await using var hook = await WebhookServer.StartAsync(Answer);
        await using var api = await ApiTestServer.StartAsync();
        Assert.Equal(HttpStatusCode.Created,
            (await api.SendAsync(HttpMethod.Post, Mutating, Configuration("MutatingWebhookConfiguration", "label", $"{hook.Address}label", hook.CaBundlePem))).Status);

        using var request = new HttpRequestMessage(HttpMethod.Post, ConfigMaps) { Content = new StringContent(ConfigMap("m", """{"app":"x"}"""), Encoding.UTF8, "application/json") };
        using var response = await api.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Contains(response.Headers.GetValues("Warning"), w => w.Contains("labelled by the webhook"));
        var (_, stored) = await api.SendAsync(HttpMethod.Get, ConfigMaps + "/m");
        Assert.Equal("yes", stored!["metadata"]!["labels"]!["mutated"]!.GetValue<string>());
        Assert.Equal("x", stored["metadata"]!["labels"]!["app"]!.GetValue<string>());

        // a patch is an UPDATE with the stored object as oldObject, and the webhook's patch is applied to the patched object
        var (status, patched) = await api.SendAsync(HttpMethod.Patch, ConfigMaps + "/m", """{"metadata":{"labels":{"mutated":"no"}}}""",
            "application/merge-patch+json");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("yes", patched!["metadata"]!["labels"]!["mutated"]!.GetValue<string>());
        var review = hook.Requests.Last()["request"]!;
        Assert.Equal("UPDATE", review["operation"]!.GetValue<string>());
        Assert.Equal("yes", review["oldObject"]!["metadata"]!["labels"]!["mutated"]!.GetValue<string>());
        Assert.Equal("no", review["object"]!["metadata"]!["labels"]!["mutated"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_unreachable_webhook_is_skipped_under_Ignore_and_refuses_under_Fail()
    {
        await using var api = await ApiTestServer.StartAsync();
        Assert.Equal(HttpStatusCode.Created, (await api.SendAsync(HttpMethod.Post, Validating,
            Configuration("ValidatingWebhookConfiguration", "ignored", "https://127.0.0.1:1/nothing", null, "Ignore"))).Status);
        Assert.Equal(HttpStatusCode.Created, (await api.SendAsync(HttpMethod.Post, ConfigMaps, ConfigMap("passes"))).Status);

        Assert.Equal(HttpStatusCode.Created, (await api.SendAsync(HttpMethod.Post, Validating,
            Configuration("ValidatingWebhookConfiguration", "failing", "https://127.0.0.1:1/nothing", null))).Status);
        var (status, body) = await api.SendAsync(HttpMethod.Post, ConfigMaps, ConfigMap("refused"));
        Assert.Equal(HttpStatusCode.InternalServerError, status);
        Assert.StartsWith("Internal error occurred: failed calling webhook \"failing.example.com\": failed to call webhook: Post \"https://127.0.0.1:1/nothing?timeout=5s\": ",
            body!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_certificate_the_ca_bundle_does_not_sign_is_a_call_failure()
    {
        await using var hook = await WebhookServer.StartAsync(Answer);
        await using var other = await WebhookServer.StartAsync(Answer);
        await using var api = await ApiTestServer.StartAsync();
        Assert.Equal(HttpStatusCode.Created, (await api.SendAsync(HttpMethod.Post, Validating,
            Configuration("ValidatingWebhookConfiguration", "wrongca", $"{hook.Address}allow", other.CaBundlePem))).Status);
        var (status, body) = await api.SendAsync(HttpMethod.Post, ConfigMaps, ConfigMap("c"));
        Assert.Equal(HttpStatusCode.InternalServerError, status);
        Assert.Contains("failed calling webhook \"wrongca.example.com\"", body!["message"]!.GetValue<string>());
        Assert.Empty(hook.Requests);
    }

    [Fact]
    public async Task Deletes_and_dry_runs_reach_the_webhook()
    {
        await using var hook = await WebhookServer.StartAsync((path, request) => request["operation"]!.GetValue<string>() == "DELETE"
            ? new JsonObject { ["allowed"] = false, ["status"] = new JsonObject { ["message"] = "keep it" } }
            : Allow());
        await using var api = await ApiTestServer.StartAsync();
        Assert.Equal(HttpStatusCode.Created, (await api.SendAsync(HttpMethod.Post, ConfigMaps, ConfigMap("kept"))).Status);
        Assert.Equal(HttpStatusCode.Created, (await api.SendAsync(HttpMethod.Post, Validating,
            Configuration("ValidatingWebhookConfiguration", "keeper", $"{hook.Address}keep", hook.CaBundlePem, operations: "\"*\""))).Status);

        var (status, body) = await api.SendAsync(HttpMethod.Delete, ConfigMaps + "/kept");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("admission webhook \"keeper.example.com\" denied the request: keep it", body!["message"]!.GetValue<string>());
        var review = hook.Requests.Last()["request"]!;
        Assert.Null(review["object"]);
        Assert.Equal("kept", review["oldObject"]!["metadata"]!["name"]!.GetValue<string>());
        Assert.Equal("DeleteOptions", review["options"]!["kind"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, (await api.SendAsync(HttpMethod.Get, ConfigMaps + "/kept")).Status);

        Assert.Equal(HttpStatusCode.Created, (await api.SendAsync(HttpMethod.Post, ConfigMaps + "?dryRun=All", ConfigMap("dry"))).Status);
        Assert.True(hook.Requests.Last()["request"]!["dryRun"]!.GetValue<bool>());
    }

    [Fact]
    public async Task The_webhook_configurations_themselves_never_go_to_webhooks()
    {
        await using var hook = await WebhookServer.StartAsync((_, _) => new JsonObject { ["allowed"] = false });
        await using var api = await ApiTestServer.StartAsync();
        var everything = Configuration("ValidatingWebhookConfiguration", "all", $"{hook.Address}no", hook.CaBundlePem, operations: "\"*\"")
            .Replace("\"apiGroups\":[\"\"],\"apiVersions\":[\"v1\"],\"resources\":[\"configmaps\"]", "\"apiGroups\":[\"*\"],\"apiVersions\":[\"*\"],\"resources\":[\"*\"]");
        Assert.Equal(HttpStatusCode.Created, (await api.SendAsync(HttpMethod.Post, Validating, everything)).Status);
        Assert.Equal(HttpStatusCode.OK, (await api.SendAsync(HttpMethod.Delete, Validating + "/all")).Status);
        Assert.Empty(hook.Requests);
    }

    /// <summary>/first records whether /second's label is there yet; /second adds it.</summary>
    private static JsonObject Reinvoked(string path, JsonObject request)
    {
        var labels = request["object"]!["metadata"]!["labels"] as JsonObject;
        var patch = path == "/first"
            ? $$"""[{"op":"add","path":"/metadata/labels/seen-by-first","value":"{{(labels?["second"] is null ? "none" : "second")}}"}]"""
            : """[{"op":"add","path":"/metadata/labels/second","value":"yes"}]""";
        return new JsonObject { ["allowed"] = true, ["patchType"] = "JSONPatch", ["patch"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(patch)) };
    }

    [Theory]
    [InlineData("IfNeeded", "second")]
    [InlineData("Never", "none")]
    public async Task A_webhook_with_reinvocation_IfNeeded_runs_again_after_a_later_change(string policy, string seen)
    {
        await using var hook = await WebhookServer.StartAsync(Reinvoked);
        await using var api = await ApiTestServer.StartAsync();
        var first = Configuration("MutatingWebhookConfiguration", "a-first", $"{hook.Address}first", hook.CaBundlePem)
            .Replace("\"timeoutSeconds\":5,", $"\"timeoutSeconds\":5,\"reinvocationPolicy\":\"{policy}\",");
        Assert.Equal(HttpStatusCode.Created, (await api.SendAsync(HttpMethod.Post, Mutating, first)).Status);
        Assert.Equal(HttpStatusCode.Created, (await api.SendAsync(HttpMethod.Post, Mutating,
            Configuration("MutatingWebhookConfiguration", "b-second", $"{hook.Address}second", hook.CaBundlePem))).Status);

        var (status, created) = await api.SendAsync(HttpMethod.Post, ConfigMaps, ConfigMap("r", """{"app":"x"}"""));
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("yes", created!["metadata"]!["labels"]!["second"]!.GetValue<string>());
        Assert.Equal(seen, created["metadata"]!["labels"]!["seen-by-first"]!.GetValue<string>());
        Assert.Equal(policy == "IfNeeded" ? 3 : 2, hook.Requests.Count);
    }
}
