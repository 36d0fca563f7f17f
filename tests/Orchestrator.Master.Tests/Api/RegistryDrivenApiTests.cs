using System.Net;
using System.Text.Json.Nodes;
using k8s.Models;
using Orchestrator.Master.Api.Protobuf;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Tables;
using Xunit;

namespace Orchestrator.Master.Tests.Api;

/// <summary>The API follows the catalog: a description registered at run time is routed, discovered, described in
/// OpenAPI and stored with nothing else to write; removed, it is gone from all of them.</summary>
public sealed class RegistryDrivenApiTests : IAsyncLifetime
{
    private ApiTestServer _server = null!;

    public async Task InitializeAsync() => _server = await ApiTestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private const string Widgets = "/apis/example.com/v1/namespaces/default/widgets";

    private static ResourceDescription WidgetDescription => new()
    {
        Group = "example.com", Version = "v1", Resource = "widgets", Kind = "Widget", Namespaced = true,
        StoreName = "widgets.example.com", ShortNames = ["wd"], Categories = ["all"],
        ObjectType = typeof(CustomObject), Strategy = new CustomObjectStrategy(statusSubresource: true),
        Subresources = [SubresourceDescription.Status("Widget"), SubresourceDescription.ScaleOf(new(".spec.replicas", ".status.replicas", ".status.selector"))],
        Schema = new JsonObject { ["type"] = "object", ["properties"] = new JsonObject { ["spec"] = new JsonObject { ["type"] = "object" } } },
    };

    [Fact]
    public async Task A_registered_resource_is_served_with_every_verb_and_scale()
    {
        _server.Catalog.Set("test", [WidgetDescription]);

        var (created, body) = await _server.SendAsync(HttpMethod.Post, Widgets,
            """{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w1"},"spec":{"replicas":1}}""");
        Assert.True(created == HttpStatusCode.Created, body?.ToJsonString());
        Assert.Equal("Widget", body!["kind"]!.ToString());

        var (scaled, scale) = await _server.SendAsync(HttpMethod.Patch, Widgets + "/w1/scale", """{"spec":{"replicas":4}}""",
            "application/merge-patch+json");
        Assert.Equal(HttpStatusCode.OK, scaled);
        Assert.Equal(4, scale!["spec"]!["replicas"]!.GetValue<int>());
        var (_, got) = await _server.SendAsync(HttpMethod.Get, Widgets + "/w1");
        Assert.Equal(4, got!["spec"]!["replicas"]!.GetValue<int>());

        var (_, table) = await _server.SendAsync(HttpMethod.Get, Widgets, accept: "application/json;as=Table;v=v1;g=meta.k8s.io");
        Assert.Equal("w1", table!["rows"]![0]!["cells"]![0]!.ToString());

        // kubectl get widget w1 --subresource=scale: kube's Scale columns
        var (_, scaleTable) = await _server.SendAsync(HttpMethod.Get, Widgets + "/w1/scale",
            accept: "application/json;as=Table;v=v1;g=meta.k8s.io,application/json");
        Assert.Equal("Table", scaleTable!["kind"]!.ToString());
        Assert.Equal("Name,Desired,Available,Age", string.Join(",", scaleTable["columnDefinitions"]!.AsArray().Select(c => c!["name"]!.ToString())));
        Assert.Equal("", scaleTable["columnDefinitions"]![0]!["format"]!.ToString());
        var row = scaleTable["rows"]![0]!;
        Assert.Equal("w1", row["cells"]![0]!.ToString());
        Assert.Equal(4, row["cells"]![1]!.GetValue<long>());
        Assert.Equal(0, row["cells"]![2]!.GetValue<long>());
        Assert.Equal("PartialObjectMetadata", row["object"]!["kind"]!.ToString());

        Assert.Equal(HttpStatusCode.OK, (await _server.SendAsync(HttpMethod.Delete, Widgets + "/w1")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _server.SendAsync(HttpMethod.Get, Widgets + "/w1")).Status);
    }

    [Fact]
    public async Task Discovery_and_openapi_show_a_registered_resource_and_forget_it_when_removed()
    {
        Assert.Equal(HttpStatusCode.NotFound, (await _server.SendAsync(HttpMethod.Get, "/apis/example.com/v1")).Status);
        _server.Catalog.Set("test", [WidgetDescription]);

        var (_, list) = await _server.SendAsync(HttpMethod.Get, "/apis/example.com/v1");
        var widgets = list!["resources"]!.AsArray().Single(r => r!["name"]!.ToString() == "widgets")!;
        Assert.Equal("wd", widgets["shortNames"]![0]!.ToString());
        var (_, root) = await _server.SendAsync(HttpMethod.Get, "/openapi/v3");
        var (_, doc) = await _server.SendAsync(HttpMethod.Get, root!["paths"]!["apis/example.com/v1"]!["serverRelativeURL"]!.ToString());
        Assert.NotNull(doc!["components"]!["schemas"]!["com.example.v1.Widget"]);

        _server.Catalog.Remove("test");

        Assert.Equal(HttpStatusCode.NotFound, (await _server.SendAsync(HttpMethod.Get, "/apis/example.com/v1")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _server.SendAsync(HttpMethod.Get, Widgets)).Status);
        var (_, groups) = await _server.SendAsync(HttpMethod.Get, "/apis");
        Assert.DoesNotContain("example.com", groups!["groups"]!.AsArray().Select(g => g!["name"]!.ToString()));
    }

    /// <summary>What v2 says an operation produces is what we answer: protobuf for a built-in kind (and its status and
    /// scale), JSON and YAML only for a custom resource, as apiextensions-apiserver's builder publishes them.</summary>
    [Fact]
    public async Task OpenApi_v2_lists_protobuf_only_where_it_is_answered()
    {
        _server.Catalog.Set("test", [WidgetDescription]);

        var (_, v2) = await _server.SendAsync(HttpMethod.Get, "/openapi/v2");
        var paths = v2!["paths"]!;
        string Produces(string path, string verb) => string.Join(",", paths[path]![verb]!["produces"]!.AsArray().Select(p => p!.ToString()));

        const string all = "application/json,application/yaml,application/vnd.kubernetes.protobuf";
        Assert.Equal(all, Produces("/api/v1/namespaces/{namespace}/pods/{name}", "get"));
        Assert.Equal(all, Produces("/api/v1/namespaces/{namespace}/pods/{name}/status", "put"));
        Assert.Equal(all, Produces("/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale", "get"));
        Assert.Equal("application/json,application/yaml", Produces("/apis/example.com/v1/namespaces/{namespace}/widgets/{name}", "get"));
        Assert.Equal("application/json,application/yaml", Produces("/apis/example.com/v1/namespaces/{namespace}/widgets", "get"));
        Assert.Equal("application/json,application/yaml", Produces("/apis/example.com/v1/namespaces/{namespace}/widgets/{name}/status", "get"));
    }

    [Fact]
    public async Task OpenApi_v2_publishes_a_schema_keeping_unknown_fields_at_its_root_as_a_bare_object()
    {
        // apiextensions-apiserver's buildKubeNative: kubectl validates a List's items against v2 and takes listed
        // properties to forbid any other field, so such a kind has none there (v3 keeps them)
        var preserving = WidgetDescription with
        {
            Schema = new JsonObject
            {
                ["type"] = "object", ["x-kubernetes-preserve-unknown-fields"] = true,
                ["properties"] = new JsonObject { ["spec"] = new JsonObject { ["type"] = "object" } },
            },
        };
        _server.Catalog.Set("test", [preserving]);

        var (_, v2) = await _server.SendAsync(HttpMethod.Get, "/openapi/v2");
        var widget = v2!["definitions"]!["com.example.v1.Widget"]!.AsObject();
        Assert.Equal("object", widget["type"]!.ToString());
        Assert.Null(widget["properties"]);
        Assert.Equal("Widget", widget["x-kubernetes-group-version-kind"]![0]!["kind"]!.ToString());

        var (_, root) = await _server.SendAsync(HttpMethod.Get, "/openapi/v3");
        var (_, v3) = await _server.SendAsync(HttpMethod.Get, root!["paths"]!["apis/example.com/v1"]!["serverRelativeURL"]!.ToString());
        Assert.NotNull(v3!["components"]!["schemas"]!["com.example.v1.Widget"]!["properties"]!["spec"]);
    }

    [Fact]
    public async Task Aggregated_discovery_carries_an_etag_that_changes_with_the_catalog()
    {
        const string accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
        async Task<(HttpStatusCode, string?)> Get(string? ifNoneMatch = null)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/apis");
            request.Headers.TryAddWithoutValidation("Accept", accept);
            if (ifNoneMatch is not null) request.Headers.TryAddWithoutValidation("If-None-Match", ifNoneMatch);
            using var response = await _server.Client.SendAsync(request);
            return (response.StatusCode, response.Headers.ETag?.Tag);
        }
        var (_, etag) = await Get();
        Assert.Equal(HttpStatusCode.NotModified, (await Get(etag)).Item1);

        _server.Catalog.Set("test", [WidgetDescription]);

        var (status, changed) = await Get(etag);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.NotEqual(etag, changed);
    }

    [Fact]
    public async Task A_verb_the_description_does_not_list_is_refused()
    {
        _server.Catalog.Set("test", [WidgetDescription with { Verbs = ResourceDescription.ReadVerbs }]);
        var (status, body) = await _server.SendAsync(HttpMethod.Post, Widgets,
            """{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w1"}}""");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, status);
        Assert.Equal("MethodNotAllowed", body!["reason"]!.ToString());
    }

    [Fact]
    public async Task OpenApi_v2_describes_every_kind_as_json_and_protobuf()
    {
        var (_, json) = await _server.SendAsync(HttpMethod.Get, "/openapi/v2");
        Assert.Equal("2.0", json!["swagger"]!.ToString());
        var deployment = json["definitions"]!["io.k8s.api.apps.v1.Deployment"]!;
        Assert.Equal("Deployment", deployment["x-kubernetes-group-version-kind"]![0]!["kind"]!.ToString());
        var spec = deployment["properties"]!["spec"]!;
        Assert.StartsWith("#/definitions/", (spec["$ref"] ?? spec["allOf"]![0]!["$ref"])!.ToString());
        Assert.NotNull(json["paths"]!["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]!["patch"]);

        using var request = new HttpRequestMessage(HttpMethod.Get, "/openapi/v2");
        request.Headers.TryAddWithoutValidation("Accept", "application/com.github.proto-openapi.spec.v2@v1.0+protobuf");
        using var response = await _server.Client.SendAsync(request);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal([0x0A, 0x03, (byte)'2', (byte)'.', (byte)'0'], bytes[..5]);
        Assert.Contains("io.k8s.api.core.v1.PodSpec", System.Text.Encoding.UTF8.GetString(bytes));
    }

    [Fact]
    public async Task OpenApi_describes_parameters_and_operations_in_kube_apiservers_words_and_lists_answer_their_list_kind()
    {
        // kubectl's test-cmd greps /openapi/v2 for these three texts
        var (_, json) = await _server.SendAsync(HttpMethod.Get, "/openapi/v2");
        var text = json!.ToJsonString();
        Assert.Contains("A selector to restrict the list of returned objects by their labels. Defaults to everything.", text);
        Assert.Contains("Watch for changes to the described resources and return them as a stream of add, update, and remove notifications.", text);
        Assert.Equal("List of services", json["definitions"]!["io.k8s.api.core.v1.ServiceList"]!["properties"]!["items"]!["description"]!.ToString());
        Assert.Equal("ServiceList", json["definitions"]!["io.k8s.api.core.v1.ServiceList"]!["x-kubernetes-group-version-kind"]![0]!["kind"]!.ToString());

        var list = json["paths"]!["/apis/apps/v1/namespaces/{namespace}/deployments"]!["get"]!;
        Assert.Equal("list or watch objects of kind Deployment", list["description"]!.ToString());
        Assert.Equal("#/definitions/io.k8s.api.apps.v1.DeploymentList", list["responses"]!["200"]!["schema"]!["$ref"]!.ToString());
        Assert.Equal("replace the specified Deployment",
            json["paths"]!["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]!["put"]!["description"]!.ToString());

        var (_, v3) = await _server.SendAsync(HttpMethod.Get, "/openapi/v3/apis/apps/v1");
        var v3List = v3!["paths"]!["/apis/apps/v1/namespaces/{namespace}/deployments"]!["get"]!;
        Assert.Equal("#/components/schemas/io.k8s.api.apps.v1.DeploymentList",
            v3List["responses"]!["200"]!["content"]!["application/json"]!["schema"]!["$ref"]!.ToString());
        Assert.NotNull(v3["components"]!["schemas"]!["io.k8s.api.apps.v1.DeploymentList"]);
    }

}
