using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Xunit;

using Orchestrator.Master.Tests.Api.Webhooks;

namespace Orchestrator.Master.Tests.Api.CustomResources;

/// <summary>CustomResourceDefinitions with a conversion webhook (a real HTTPS Kestrel server): objects are converted on
/// the way in and out of every served version, kube's checks of the webhook's answer, and the validation of
/// spec.conversion.</summary>
public sealed class ConversionWebhookTests
{
    private const string Crds = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
    private const string V1 = "/apis/conv.example.com/v1/namespaces/default/foos";
    private const string V2 = "/apis/conv.example.com/v2/namespaces/default/foos";

    private static string Definition(string? conversion, string name = "foos.conv.example.com") => """
        {"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"NAME"},
         "spec":{"group":"conv.example.com","scope":"Namespaced","names":{"plural":"foos","singular":"foo","kind":"Foo"},
           CONVERSION
           "versions":[
             {"name":"v1","served":true,"storage":true,"subresources":{"status":{}},"schema":{"openAPIV3Schema":{"type":"object","properties":{
               "spec":{"type":"object","properties":{"color":{"type":"string"}}},
               "status":{"type":"object","properties":{"seen":{"type":"string"}}}}}}},
             {"name":"v2","served":true,"storage":false,"subresources":{"status":{}},"schema":{"openAPIV3Schema":{"type":"object","properties":{
               "spec":{"type":"object","properties":{"colour":{"type":"string"}}},
               "status":{"type":"object","properties":{"seen":{"type":"string"}}}}}}}]}}
        """.Replace("NAME", name).Replace("CONVERSION", conversion is null ? "" : "\"conversion\":" + conversion + ",");

    private static string Webhook(string url, string? caBundle, string reviewVersions = "[\"v1\"]")
    {
        var client = new JsonObject { ["url"] = url };
        if (caBundle is not null) client["caBundle"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(caBundle));
        return new JsonObject
        {
            ["strategy"] = "Webhook",
            ["webhook"] = new JsonObject { ["conversionReviewVersions"] = JsonNode.Parse(reviewVersions), ["clientConfig"] = client },
        }.ToJsonString();
    }

    private static string Foo(string version, string name, string field, string value) => new JsonObject
    {
        ["apiVersion"] = "conv.example.com/" + version, ["kind"] = "Foo", ["metadata"] = new JsonObject { ["name"] = name },
        ["spec"] = new JsonObject { [field] = value },
    }.ToJsonString();

    private static async Task DefineAsync(ApiTestServer api, string conversion)
    {
        var (status, body) = await api.SendAsync(HttpMethod.Post, Crds, Definition(conversion));
        Assert.True(status == HttpStatusCode.Created, body?.ToJsonString());
        for (var waited = 0; waited < 30_000; waited += 50)
        {
            var (_, crd) = await api.SendAsync(HttpMethod.Get, Crds + "/foos.conv.example.com");
            if (crd?["status"]?["conditions"]?.AsArray().Any(c => c!["type"]!.GetValue<string>() == "Established" && c["status"]!.GetValue<string>() == "True") == true &&
                (await api.SendAsync(HttpMethod.Get, V2)).Status == HttpStatusCode.OK) return;
            await Task.Delay(50);
        }
        Assert.Fail("the definition was not established");
    }

    private static int ObjectsSent(WebhookServer hook) => hook.Requests.Sum(r => r["request"]!["objects"]!.AsArray().Count);

    [Fact]
    public async Task An_object_created_in_v1_reads_in_v2_and_one_created_in_v2_is_stored_in_v1()
    {
        await using var hook = await ConversionWebhookServer.StartAsync();
        await using var api = await ApiTestServer.StartAsync();
        await DefineAsync(api, Webhook($"{hook.Address}convert", hook.CaBundlePem));
        hook.Requests.Clear();

        Assert.Equal(HttpStatusCode.Created, (await api.SendAsync(HttpMethod.Post, V1, Foo("v1", "one", "color", "red"))).Status);
        Assert.Empty(hook.Requests); // already in the storage version: nothing to convert

        var (status, read) = await api.SendAsync(HttpMethod.Get, V2 + "/one");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("conv.example.com/v2", read!["apiVersion"]!.GetValue<string>());
        Assert.Equal("red", read["spec"]!["colour"]!.GetValue<string>());
        Assert.Null(read["spec"]!["color"]);
        var review = hook.Requests.Single();
        Assert.Equal("apiextensions.k8s.io/v1", review["apiVersion"]!.GetValue<string>());
        Assert.Equal("conv.example.com/v2", review["request"]!["desiredAPIVersion"]!.GetValue<string>());
        Assert.Equal("conv.example.com/v1", review["request"]!["objects"]![0]!["apiVersion"]!.GetValue<string>());

        // a create in v2 is converted to v1 before it is stored, and its answer back to v2
        var (created, answer) = await api.SendAsync(HttpMethod.Post, V2, Foo("v2", "two", "colour", "blue"));
        Assert.Equal(HttpStatusCode.Created, created);
        Assert.Equal(("conv.example.com/v2", "blue"), (answer!["apiVersion"]!.GetValue<string>(), answer["spec"]!["colour"]!.GetValue<string>()));
        var (_, stored) = await api.SendAsync(HttpMethod.Get, V1 + "/two");
        Assert.Equal(("conv.example.com/v1", "blue"), (stored!["apiVersion"]!.GetValue<string>(), stored["spec"]!["color"]!.GetValue<string>()));

        // a merge patch in v2 is applied to the v2 object and stored in v1
        var (patched, after) = await api.SendAsync(HttpMethod.Patch, V2 + "/two", """{"spec":{"colour":"green"}}""", "application/merge-patch+json");
        Assert.Equal(HttpStatusCode.OK, patched);
        Assert.Equal("green", after!["spec"]!["colour"]!.GetValue<string>());
        Assert.Equal("green", (await api.SendAsync(HttpMethod.Get, V1 + "/two")).Body!["spec"]!["color"]!.GetValue<string>());

        // the status subresource in v2
        after["status"] = new JsonObject { ["seen"] = "yes" };
        var (statusWritten, withStatus) = await api.SendAsync(HttpMethod.Put, V2 + "/two/status", after.ToJsonString());
        Assert.Equal(HttpStatusCode.OK, statusWritten);
        Assert.Equal("yes", withStatus!["status"]!["seen"]!.GetValue<string>());
        Assert.Equal("yes", (await api.SendAsync(HttpMethod.Get, V1 + "/two")).Body!["status"]!["seen"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_list_in_the_other_version_sends_its_objects_in_one_review()
    {
        await using var hook = await ConversionWebhookServer.StartAsync();
        await using var api = await ApiTestServer.StartAsync();
        await DefineAsync(api, Webhook($"{hook.Address}convert", hook.CaBundlePem));
        foreach (var (name, colour) in new[] { ("a", "red"), ("b", "blue"), ("c", "green") })
            Assert.Equal(HttpStatusCode.Created, (await api.SendAsync(HttpMethod.Post, V1, Foo("v1", name, "color", colour))).Status);
        hook.Requests.Clear();

        var (status, list) = await api.SendAsync(HttpMethod.Get, V2);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("FooList", list!["kind"]!.GetValue<string>());
        Assert.Equal(["conv.example.com/v2"], list["items"]!.AsArray().Select(i => i!["apiVersion"]!.GetValue<string>()).Distinct());
        Assert.Equal(["red", "blue", "green"], list["items"]!.AsArray().Select(i => i!["spec"]!["colour"]!.GetValue<string>()));
        Assert.Equal(3, hook.Requests.Single()["request"]!["objects"]!.AsArray().Count);

        hook.Requests.Clear();
        Assert.Equal(HttpStatusCode.OK, (await api.SendAsync(HttpMethod.Get, V1)).Status);
        Assert.Empty(hook.Requests);
    }

    [Fact]
    public async Task A_watch_in_v2_sees_objects_written_in_v1_converted()
    {
        await using var hook = await ConversionWebhookServer.StartAsync();
        await using var api = await ApiTestServer.StartAsync();
        await DefineAsync(api, Webhook($"{hook.Address}convert", hook.CaBundlePem));
        Assert.Equal(HttpStatusCode.Created, (await api.SendAsync(HttpMethod.Post, V1, Foo("v1", "before", "color", "red"))).Status);

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var request = new HttpRequestMessage(HttpMethod.Get, V2 + "?watch=true");
        using var response = await api.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cts.Token));
        var initial = JsonNode.Parse((await reader.ReadLineAsync(cts.Token))!)!;
        Assert.Equal(("ADDED", "conv.example.com/v2", "red"), (initial["type"]!.GetValue<string>(),
            initial["object"]!["apiVersion"]!.GetValue<string>(), initial["object"]!["spec"]!["colour"]!.GetValue<string>()));

        Assert.Equal(HttpStatusCode.Created, (await api.SendAsync(HttpMethod.Post, V1, Foo("v1", "after", "color", "blue"))).Status);
        var added = JsonNode.Parse((await reader.ReadLineAsync(cts.Token))!)!;
        Assert.Equal(("ADDED", "after", "conv.example.com/v2", "blue"), (added["type"]!.GetValue<string>(),
            added["object"]!["metadata"]!["name"]!.GetValue<string>(), added["object"]!["apiVersion"]!.GetValue<string>(),
            added["object"]!["spec"]!["colour"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Objects_stored_before_the_storage_version_changed_keep_it_and_are_converted_when_read()
    {
        await using var hook = await ConversionWebhookServer.StartAsync();
        await using var api = await ApiTestServer.StartAsync();
        await DefineAsync(api, Webhook($"{hook.Address}convert", hook.CaBundlePem));
        Assert.Equal(HttpStatusCode.Created, (await api.SendAsync(HttpMethod.Post, V1, Foo("v1", "old", "color", "red"))).Status);
        // discovery prefers the highest version, as apiextensions-apiserver sorts them
        Assert.Equal("v2", (await api.SendAsync(HttpMethod.Get, "/apis/conv.example.com")).Body!["preferredVersion"]!["version"]!.GetValue<string>());

        var (_, crd) = await api.SendAsync(HttpMethod.Get, Crds + "/foos.conv.example.com");
        crd!["spec"]!["versions"]![0]!["storage"] = false;
        crd["spec"]!["versions"]![1]!["storage"] = true;
        Assert.Equal(HttpStatusCode.OK, (await api.SendAsync(HttpMethod.Put, Crds + "/foos.conv.example.com", crd.ToJsonString())).Status);
        for (var waited = 0; waited < 30_000; waited += 50)
        {
            var (_, now) = await api.SendAsync(HttpMethod.Get, Crds + "/foos.conv.example.com");
            if (now!["status"]!["storedVersions"]!.AsArray().Count == 2) break;
            await Task.Delay(50);
        }
        Assert.Equal(["v1", "v2"], (await api.SendAsync(HttpMethod.Get, Crds + "/foos.conv.example.com")).Body!["status"]!["storedVersions"]!
            .AsArray().Select(v => v!.GetValue<string>()));

        // a create in v2 is now stored as it is; the old object is still v1 and is converted when read in v2
        var attempt = 0;
        await Eventually(async () =>
        {
            var name = $"new-{attempt++}";
            Assert.Equal(HttpStatusCode.Created, (await api.SendAsync(HttpMethod.Post, V2, Foo("v2", name, "colour", "blue"))).Status);
            hook.Requests.Clear();
            Assert.Equal("blue", (await api.SendAsync(HttpMethod.Get, V1 + "/" + name)).Body!["spec"]!["color"]!.GetValue<string>());
            Assert.Equal("conv.example.com/v2", hook.Requests.Single()["request"]!["objects"]![0]!["apiVersion"]!.GetValue<string>());
        });
        var (status, old) = await api.SendAsync(HttpMethod.Get, V2 + "/old");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("red", old!["spec"]!["colour"]!.GetValue<string>());
        Assert.Equal(("conv.example.com/v1", "conv.example.com/v2"), (hook.Requests.Last()["request"]!["objects"]![0]!["apiVersion"]!.GetValue<string>(),
            hook.Requests.Last()["request"]!["desiredAPIVersion"]!.GetValue<string>()));
        hook.Requests.Clear();
        Assert.Equal("red", (await api.SendAsync(HttpMethod.Get, V1 + "/old")).Body!["spec"]!["color"]!.GetValue<string>());
        Assert.Empty(hook.Requests); // stored in v1: read in v1 as it is
    }

    private static async Task Eventually(Func<Task> assertion)
    {
        for (var attempt = 0; ; attempt++)
            try
            {
                await assertion();
                return;
            }
            catch (Xunit.Sdk.XunitException) when (attempt < 100)
            {
                await Task.Delay(100);
            }
    }

    [Fact]
    public async Task A_webhook_that_is_down_is_kubes_500_and_a_write_in_another_version_is_not_stored()
    {
        var hook = await ConversionWebhookServer.StartAsync();
        var address = hook.Address;
        var ca = hook.CaBundlePem;
        await hook.DisposeAsync();
        await using var api = await ApiTestServer.StartAsync();
        await DefineAsync(api, Webhook($"{address}convert", ca));
        Assert.Equal(HttpStatusCode.Created, (await api.SendAsync(HttpMethod.Post, V1, Foo("v1", "one", "color", "red"))).Status);

        var (status, body) = await api.SendAsync(HttpMethod.Get, V2 + "/one");
        Assert.Equal(HttpStatusCode.InternalServerError, status);
        Assert.Equal("InternalError", body!["reason"]!.GetValue<string>());
        Assert.StartsWith($"Internal error occurred: conversion webhook for conv.example.com/v1, Kind=Foo failed: Post \"{address}convert?timeout=30s\": ",
            body["message"]!.GetValue<string>());

        (status, body) = await api.SendAsync(HttpMethod.Get, V2);
        Assert.Equal(HttpStatusCode.InternalServerError, status);
        Assert.StartsWith("Internal error occurred: conversion webhook for conv.example.com/v1, Kind=FooList failed: ", body!["message"]!.GetValue<string>());

        (status, body) = await api.SendAsync(HttpMethod.Post, V2, Foo("v2", "two", "colour", "blue"));
        Assert.Equal(HttpStatusCode.InternalServerError, status);
        Assert.StartsWith("Internal error occurred: conversion webhook for conv.example.com/v2, Kind=Foo failed: ", body!["message"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, (await api.SendAsync(HttpMethod.Get, V1 + "/two")).Status);
    }

    [Theory]
    [InlineData("rename", "conversion webhook for conv.example.com/v1, Kind=Foo returned invalid object: must have the same name: one != someone-else")]
    [InlineData("stay", "conversion webhook for conv.example.com/v1, Kind=Foo returned invalid object at index 0: invalid groupVersion (expected conv.example.com/v2, received conv.example.com/v1)")]
    [InlineData("lose", "conversion webhook for conv.example.com/v1, Kind=Foo returned 0 objects, expected 1")]
    [InlineData("refuse", "conversion webhook for conv.example.com/v1, Kind=Foo failed: colours are not convertible today")]
    public async Task A_webhook_answering_wrongly_is_kubes_error(string path, string message)
    {
        await using var hook = await ConversionWebhookServer.StartAsync();
        await using var api = await ApiTestServer.StartAsync();
        await DefineAsync(api, Webhook($"{hook.Address}{path}", hook.CaBundlePem));
        Assert.Equal(HttpStatusCode.Created, (await api.SendAsync(HttpMethod.Post, V1, Foo("v1", "one", "color", "red"))).Status);

        var (status, body) = await api.SendAsync(HttpMethod.Get, V2 + "/one");
        Assert.Equal(HttpStatusCode.InternalServerError, status);
        Assert.Equal("Internal error occurred: " + message, body!["message"]!.GetValue<string>());
        Assert.Equal(message, body["details"]!["causes"]![0]!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_webhook_may_change_labels_but_the_rest_of_the_metadata_is_restored()
    {
        await using var hook = await ConversionWebhookServer.StartAsync();
        await using var api = await ApiTestServer.StartAsync();
        await DefineAsync(api, Webhook($"{hook.Address}label", hook.CaBundlePem));
        var (_, created) = await api.SendAsync(HttpMethod.Post, V1, Foo("v1", "one", "color", "red"));

        var (status, read) = await api.SendAsync(HttpMethod.Get, V2 + "/one");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("yes", read!["metadata"]!["labels"]!["converted"]!.GetValue<string>());
        Assert.Equal(created!["metadata"]!["generation"]!.GetValue<long>(), read["metadata"]!["generation"]!.GetValue<long>());
        Assert.Equal(created["metadata"]!["uid"]!.GetValue<string>(), read["metadata"]!["uid"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("""{"strategy":"Webhook"}""",
        "spec.conversion.webhookClientConfig: Required value: required when strategy is set to Webhook | spec.conversion.conversionReviewVersions: Required value")]
    [InlineData("""{"strategy":"Webhook","webhook":{"conversionReviewVersions":["v1"],"clientConfig":{"url":"http://127.0.0.1/convert"}}}""",
        "spec.conversion.webhookClientConfig.url: Invalid value: \"http://127.0.0.1/convert\": 'https' is the only allowed URL scheme")]
    [InlineData("""{"strategy":"Webhook","webhook":{"conversionReviewVersions":["v1"],"clientConfig":{"url":"https://u:p@127.0.0.1/convert?x=1"}}}""",
        "spec.conversion.webhookClientConfig.url: Invalid value: \"https://u:p@127.0.0.1/convert?x=1\": user information is not permitted in the URL | spec.conversion.webhookClientConfig.url: Invalid value: \"https://u:p@127.0.0.1/convert?x=1\": query parameters are not permitted in the URL")]
    [InlineData("""{"strategy":"Webhook","webhook":{"conversionReviewVersions":["v1"],"clientConfig":{"url":"https://127.0.0.1/convert","service":{"name":"s","namespace":"n"}}}}""",
        "spec.conversion.webhookClientConfig: Required value: exactly one of url or service is required")]
    [InlineData("""{"strategy":"Webhook","webhook":{"conversionReviewVersions":["v3"],"clientConfig":{"service":{"name":"s","namespace":"n"}}}}""",
        "spec.conversion.conversionReviewVersions: Invalid value: []string{\"v3\"}: must include at least one of v1, v1beta1")]
    [InlineData("""{"strategy":"Webhook","webhook":{"conversionReviewVersions":["v1","v1"],"clientConfig":{"service":{"name":"s","namespace":"n","port":0}}}}""",
        "spec.conversion.webhookClientConfig.service.port: Invalid value: 0: port is not valid: must be between 1 and 65535, inclusive | spec.conversion.conversionReviewVersions[1]: Invalid value: \"v1\": duplicate version")]
    [InlineData("""{"strategy":"Webhook","webhook":{"conversionReviewVersions":["v1"],"clientConfig":{"service":{"name":"s","namespace":"n"},"caBundle":"bm90IGEgY2VydGlmaWNhdGU="}}}""",
        "spec.conversion.webhookClientConfig.caBundle: Invalid value: \"bm90IGEgY2VydGlmaWNhdGU=\": unable to load root certificates: unable to parse bytes as PEM block")]
    [InlineData("""{"strategy":"None","webhook":{"conversionReviewVersions":["v1"],"clientConfig":{"service":{"name":"s","namespace":"n"}}}}""",
        "spec.conversion.webhookClientConfig: Forbidden: should not be set when strategy is not set to Webhook | spec.conversion.conversionReviewVersions: Forbidden: should not be set when strategy is not set to Webhook")]
    [InlineData("""{"strategy":"Sometimes"}""", "spec.conversion.strategy: Unsupported value: \"Sometimes\": supported values: \"None\", \"Webhook\"")]
    public async Task A_bad_conversion_is_refused_with_kubes_messages(string conversion, string causes)
    {
        await using var api = await ApiTestServer.StartAsync();
        var (status, body) = await api.SendAsync(HttpMethod.Post, Crds, Definition(conversion));
        Assert.Equal((HttpStatusCode)422, status);
        var message = body!["message"]!.GetValue<string>();
        Assert.StartsWith("CustomResourceDefinition.apiextensions.k8s.io \"foos.conv.example.com\" is invalid: ", message);
        foreach (var cause in causes.Split(" | ")) Assert.Contains(cause, message);
        Assert.Equal(causes.Split(" | ").Length, body["details"]!["causes"]!.AsArray().Count);
    }

    [Fact]
    public async Task A_service_webhook_port_defaults_to_443()
    {
        await using var api = await ApiTestServer.StartAsync();
        var (status, body) = await api.SendAsync(HttpMethod.Post, Crds, Definition(
            """{"strategy":"Webhook","webhook":{"conversionReviewVersions":["v1beta1","v1"],"clientConfig":{"service":{"name":"conv","namespace":"n","path":"/convert"}}}}"""));
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal(443, body!["spec"]!["conversion"]!["webhook"]!["clientConfig"]!["service"]!["port"]!.GetValue<int>());
    }
}
