using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Xunit;

namespace Orchestrator.Master.Tests.Api;

/// <summary>The REST surface over HTTP (in-memory server, real ObjectStore on the in-memory journal).</summary>
public sealed class ApiHttpTests : IAsyncLifetime
{
    private ApiTestServer _server = null!;

    public async Task InitializeAsync() => _server = await ApiTestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private const string Deployments = "/apis/apps/v1/namespaces/default/deployments";

    private static string DeploymentJson(string name = "web", int replicas = 1, string extra = "") =>
        """{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"NAME","labels":{"app":"NAME"}},"spec":{"replicas":REPLICAS,"selector":{"matchLabels":{"app":"NAME"}}EXTRA,"template":{"metadata":{"labels":{"app":"NAME"}},"spec":{"containers":[{"name":"web","image":"katacoda/docker-http-server:latest"}]}}}}"""
            .Replace("NAME", name).Replace("REPLICAS", replicas.ToString()).Replace("EXTRA", extra);

    private async Task<JsonNode> Created(string path, string body)
    {
        var (status, result) = await _server.SendAsync(HttpMethod.Post, path, body);
        Assert.True(status == HttpStatusCode.Created, $"{status}: {result}");
        return result!;
    }

    [Fact]
    public async Task Discovery_lists_scale_as_autoscaling_v1_Scale()
    {
        var (_, body) = await _server.SendAsync(HttpMethod.Get, "/apis/apps/v1");
        var scale = body!["resources"]!.AsArray().Single(r => r!["name"]!.ToString() == "deployments/scale")!;
        Assert.Equal(("autoscaling", "v1", "Scale"), (scale["group"]!.ToString(), scale["version"]!.ToString(), scale["kind"]!.ToString()));
        var deployments = body["resources"]!.AsArray().Single(r => r!["name"]!.ToString() == "deployments")!;
        Assert.Contains("deploy", deployments["shortNames"]!.AsArray().Select(n => n!.ToString()));
    }

    [Fact]
    public async Task Aggregated_discovery_echoes_its_media_type()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/apis");
        request.Headers.TryAddWithoutValidation("Accept",
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json");
        using var response = await _server.Client.SendAsync(request);
        var contentType = response.Content.Headers.ContentType!;
        Assert.Equal("application/json", contentType.MediaType);
        Assert.Equal(["as=APIGroupDiscoveryList", "g=apidiscovery.k8s.io", "v=v2"],
            contentType.Parameters.Select(p => $"{p.Name}={p.Value}").Order());
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Contains("apps", body["items"]!.AsArray().Select(g => g!["metadata"]!["name"]!.ToString()));
    }

    [Fact]
    public async Task OpenApi_v3_advertises_field_validation_on_patch()
    {
        var (_, root) = await _server.SendAsync(HttpMethod.Get, "/openapi/v3");
        var url = root!["paths"]!["apis/apps/v1"]!["serverRelativeURL"]!.ToString();
        var (_, doc) = await _server.SendAsync(HttpMethod.Get, url);
        var patch = doc!["paths"]!["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]!["patch"]!;
        Assert.Equal("Deployment", patch["x-kubernetes-group-version-kind"]!["kind"]!.ToString());
        Assert.Contains("fieldValidation", patch["parameters"]!.AsArray().Select(p => p!["name"]!.ToString()));
    }

    [Fact]
    public async Task OpenApi_v3_documents_are_json_ended_by_a_newline_and_hashed_as_served()
    {
        var (_, root) = await _server.SendAsync(HttpMethod.Get, "/openapi/v3");
        var url = root!["paths"]!["api/v1"]!["serverRelativeURL"]!.ToString();
        using var response = await _server.Client.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        var body = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal((byte)'\n', body[^1]);
        var json = body[..^1];
        Assert.Equal(url[(url.IndexOf("?hash=", StringComparison.Ordinal) + 6)..],
            Convert.ToHexString(System.Security.Cryptography.SHA512.HashData(json)));
        Assert.NotNull(JsonNode.Parse(json)!["paths"]!["/api/v1/namespaces/{namespace}/pods"]);
    }

    [Fact]
    public async Task Calls_without_the_token_get_401_but_health_does_not()
    {
        _server.Client.DefaultRequestHeaders.Authorization = null;
        var (status, body) = await _server.SendAsync(HttpMethod.Get, "/api/v1/pods");
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("Status", body!["kind"]!.ToString());
        Assert.Equal(HttpStatusCode.OK, (await _server.SendAsync(HttpMethod.Get, "/healthz")).Status);
        Assert.Equal(HttpStatusCode.OK, (await _server.SendAsync(HttpMethod.Get, "/version")).Status);
    }

    [Fact]
    public async Task Unknown_resources_are_404_status()
    {
        var (status, body) = await _server.SendAsync(HttpMethod.Get, "/api/v1/namespaces/default/widgets");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("the server could not find the requested resource", body!["message"]!.ToString());
    }

    [Fact]
    public async Task Create_then_get_and_list_with_selectors()
    {
        await Created(Deployments, DeploymentJson("web"));
        await Created(Deployments, DeploymentJson("api"));
        var (status, got) = await _server.SendAsync(HttpMethod.Get, $"{Deployments}/web");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Deployment", got!["kind"]!.ToString());
        Assert.False(string.IsNullOrEmpty(got["metadata"]!["uid"]?.ToString()));

        var (_, byLabel) = await _server.SendAsync(HttpMethod.Get, $"{Deployments}?labelSelector=app%3Dapi");
        Assert.Equal(["api"], byLabel!["items"]!.AsArray().Select(i => i!["metadata"]!["name"]!.ToString()));
        Assert.Equal("DeploymentList", byLabel["kind"]!.ToString());
        var (_, byField) = await _server.SendAsync(HttpMethod.Get, $"{Deployments}?fieldSelector=metadata.name%3Dweb");
        Assert.Equal(["web"], byField!["items"]!.AsArray().Select(i => i!["metadata"]!["name"]!.ToString()));
    }

    [Fact]
    public async Task Malformed_json_is_a_bad_request_and_nothing_is_stored()
    {
        var (status, body) = await _server.SendAsync(HttpMethod.Post, Deployments, """{"apiVersion":"apps/v1","kind":"Deployment","metadata":{""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("BadRequest", body!["reason"]!.ToString());
        var (_, list) = await _server.SendAsync(HttpMethod.Get, Deployments);
        Assert.Empty(list!["items"]!.AsArray());
    }

    [Fact]
    public async Task A_body_of_another_kind_is_refused()
    {
        var (status, body) = await _server.SendAsync(HttpMethod.Post, Deployments, """{"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"x"}}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("ReplicaSet", body!["message"]!.ToString());
    }

    [Fact]
    public async Task Strict_field_validation_refuses_unknown_fields()
    {
        var (status, body) = await _server.SendAsync(HttpMethod.Post, Deployments + "?fieldValidation=Strict", DeploymentJson(extra: ",\"foo\":1"));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("strict decoding error: unknown field \"spec.foo\"", body!["message"]!.ToString());
    }

    [Fact]
    public async Task Namespace_of_the_body_must_match_the_path()
    {
        var json = DeploymentJson().Replace("\"name\":\"web\",", "\"name\":\"web\",\"namespace\":\"other\",");
        var (status, _) = await _server.SendAsync(HttpMethod.Post, Deployments, json);
        Assert.Equal(HttpStatusCode.BadRequest, status);
    }

    [Fact]
    public async Task Invalid_names_get_the_store_s_invalid_status()
    {
        var (status, body) = await _server.SendAsync(HttpMethod.Post, Deployments, DeploymentJson("Bad_Name"));
        Assert.Equal((HttpStatusCode)422, status);
        Assert.Equal("Invalid", body!["reason"]!.ToString());
        Assert.Equal("Deployment", body["details"]!["kind"]!.ToString());
        Assert.Contains("metadata.name", body["details"]!["causes"]!.AsArray().Select(c => c!["field"]!.ToString()));
    }

    [Fact]
    public async Task Scale_subresource_reads_and_patches_replicas()
    {
        await Created(Deployments, DeploymentJson("web", 1));
        var (_, scale) = await _server.SendAsync(HttpMethod.Get, $"{Deployments}/web/scale");
        Assert.Equal(("autoscaling/v1", "Scale", "app=web"),
            (scale!["apiVersion"]!.ToString(), scale["kind"]!.ToString(), scale["status"]!["selector"]!.ToString()));

        var (status, patched) = await _server.SendAsync(HttpMethod.Patch, $"{Deployments}/web/scale", """{"spec":{"replicas":3}}""",
            "application/merge-patch+json");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(3, patched!["spec"]!["replicas"]!.GetValue<int>());
        var (_, deployment) = await _server.SendAsync(HttpMethod.Get, $"{Deployments}/web");
        Assert.Equal(3, deployment!["spec"]!["replicas"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_negative_scale_is_an_invalid_scale_and_a_scale_without_replicas_asks_for_none()
    {
        await Created(Deployments, DeploymentJson("web", 2));
        var (status, refused) = await _server.SendAsync(HttpMethod.Patch, $"{Deployments}/web/scale", """{"spec":{"replicas":-1}}""",
            "application/merge-patch+json");
        Assert.Equal((HttpStatusCode.UnprocessableEntity, "Scale.autoscaling \"web\" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0", "Scale", "autoscaling"),
            (status, refused!["message"]!.ToString(), refused["details"]!["kind"]!.ToString(), refused["details"]!["group"]!.ToString()));

        var (put, scaled) = await _server.SendAsync(HttpMethod.Put, $"{Deployments}/web/scale",
            """{"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":"web"},"spec":{}}""");
        Assert.Equal(HttpStatusCode.OK, put);
        Assert.Equal(0, scaled!["spec"]!["replicas"]?.GetValue<int>() ?? 0);
        var (_, deployment) = await _server.SendAsync(HttpMethod.Get, $"{Deployments}/web");
        Assert.Equal(0, deployment!["spec"]!["replicas"]!.GetValue<int>());
    }

    [Fact]
    public async Task Strategic_merge_patch_changes_one_container()
    {
        await Created(Deployments, DeploymentJson("web"));
        var (status, patched) = await _server.SendAsync(HttpMethod.Patch, $"{Deployments}/web",
            """{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:2"}]}}}}""",
            "application/strategic-merge-patch+json");
        Assert.Equal(HttpStatusCode.OK, status);
        var container = Assert.Single(patched!["spec"]!["template"]!["spec"]!["containers"]!.AsArray())!;
        Assert.Equal("nginx:2", container["image"]!.ToString());
        Assert.Equal(2L, patched["metadata"]!["generation"]!.GetValue<long>());
    }

    [Fact]
    public async Task A_strategic_merge_patch_that_leaves_a_field_of_the_wrong_shape_is_422_on_the_patch()
    {
        await Created(Deployments, DeploymentJson("web"));
        var (status, error) = await _server.SendAsync(HttpMethod.Patch, $"{Deployments}/web", """{"metadata":{"labels":"invalid"}}""",
            "application/strategic-merge-patch+json");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        Assert.Equal(("Invalid", " \"\" is invalid: patch: Invalid value: \"map[metadata:map[labels:invalid]]\": cannot restore map from string"),
            (error!["reason"]!.ToString(), error["message"]!.ToString()));
        var cause = Assert.Single(error["details"]!["causes"]!.AsArray())!;
        Assert.Equal(("patch", "FieldValueInvalid"), (cause["field"]!.ToString(), cause["reason"]!.ToString()));
        var (_, unchanged) = await _server.SendAsync(HttpMethod.Get, $"{Deployments}/web");
        Assert.Equal("web", unchanged!["metadata"]!["labels"]!["app"]!.ToString());
    }

    [Fact]
    public async Task A_merge_patch_that_leaves_a_field_of_the_wrong_shape_reports_the_decoder_and_the_patched_object()
    {
        await Created(Deployments, DeploymentJson("web"));
        var (status, error) = await _server.SendAsync(HttpMethod.Patch, $"{Deployments}/web", """{"spec":{"replicas":"three"}}""",
            "application/merge-patch+json");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        var message = error!["message"]!.ToString();
        Assert.StartsWith(" \"\" is invalid: patch: Invalid value: \"{\\\"apiVersion\\\":\\\"apps/v1\\\"", message);
        Assert.EndsWith("\": json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32", message);
    }

    [Fact]
    public async Task Delete_answers_the_deleted_object()
    {
        await Created(Deployments, DeploymentJson("web"));
        var (status, deleted) = await _server.SendAsync(HttpMethod.Delete, $"{Deployments}/web", """{"propagationPolicy":"Background"}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("web", deleted!["metadata"]!["name"]!.ToString());
        Assert.Equal(HttpStatusCode.NotFound, (await _server.SendAsync(HttpMethod.Get, $"{Deployments}/web")).Status);
    }

    [Fact]
    public async Task Dry_run_stores_nothing()
    {
        await Created(Deployments + "?dryRun=All", DeploymentJson("web"));
        Assert.Equal(HttpStatusCode.NotFound, (await _server.SendAsync(HttpMethod.Get, $"{Deployments}/web")).Status);
    }

    [Fact]
    public async Task Tables_have_the_kinds_columns_and_a_row_per_object()
    {
        await Created(Deployments, DeploymentJson("web", 2));
        var (_, table) = await _server.SendAsync(HttpMethod.Get, Deployments, accept: "application/json;as=Table;v=v1;g=meta.k8s.io,application/json");
        Assert.Equal("Table", table!["kind"]!.ToString());
        Assert.Equal(["Name", "Ready", "Up-to-date", "Available", "Age", "Containers", "Images", "Selector"],
            table["columnDefinitions"]!.AsArray().Select(c => c!["name"]!.ToString()));
        var row = Assert.Single(table["rows"]!.AsArray())!;
        Assert.Equal("0/2", row["cells"]![1]!.ToString());
    }

    [Fact]
    public async Task Binding_assigns_a_node_once()
    {
        await Created("/api/v1/namespaces/default/pods",
            """{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"i"}]}}""");
        const string binding = """{"apiVersion":"v1","kind":"Binding","metadata":{"name":"p","annotations":{"bound-by":"test"}},"target":{"kind":"Node","name":"n1"}}""";
        Assert.Equal(HttpStatusCode.Created, (await _server.SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/pods/p/binding", binding)).Status);
        var (_, pod) = await _server.SendAsync(HttpMethod.Get, "/api/v1/namespaces/default/pods/p");
        Assert.Equal("n1", pod!["spec"]!["nodeName"]!.ToString());
        Assert.Equal("test", pod["metadata"]!["annotations"]!["bound-by"]!.ToString());
        var scheduled = Assert.Single(pod["status"]!["conditions"]!.AsArray(), c => c!["type"]!.ToString() == "PodScheduled")!;
        Assert.Equal("True", scheduled["status"]!.ToString());
        var (status, refused) = await _server.SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/pods/p/binding", binding);
        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal("Operation cannot be fulfilled on pods/binding \"p\": pod p is already assigned to node \"n1\"", refused!["message"]!.ToString());
    }

    [Fact]
    public async Task Binding_refuses_a_gated_pod_and_a_stale_resource_version()
    {
        await Created("/api/v1/namespaces/default/pods",
            """{"apiVersion":"v1","kind":"Pod","metadata":{"name":"gated"},"spec":{"schedulingGates":[{"name":"g"}],"containers":[{"name":"c","image":"i"}]}}""");
        var (status, refused) = await _server.SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/pods/gated/binding",
            """{"metadata":{"name":"gated"},"target":{"name":"n1"}}""");
        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Contains("pod gated has non-empty .spec.schedulingGates", refused!["message"]!.ToString());
        await Created("/api/v1/namespaces/default/pods",
            """{"apiVersion":"v1","kind":"Pod","metadata":{"name":"q"},"spec":{"containers":[{"name":"c","image":"i"}]}}""");
        (status, refused) = await _server.SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/pods/q/binding",
            """{"metadata":{"name":"q","resourceVersion":"1"},"target":{"name":"n1"}}""");
        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Contains("Precondition failed: ResourceVersion in precondition: 1", refused!["message"]!.ToString());
        var (_, pod) = await _server.SendAsync(HttpMethod.Get, "/api/v1/namespaces/default/pods/q");
        Assert.Null(pod!["spec"]!["nodeName"]);
    }

    [Fact]
    public async Task The_legacy_bindings_resource_binds_the_pod_its_binding_names_and_refuses_names_no_key_can_hold()
    {
        await Created("/api/v1/namespaces/default/pods",
            """{"apiVersion":"v1","kind":"Pod","metadata":{"name":"legacy"},"spec":{"containers":[{"name":"c","image":"i"}]}}""");
        // ValidatePodBinding first, then the registry's key function on the name, as kube-apiserver's BindingREST
        var (status, refused) = await _server.SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/bindings",
            """{"metadata":{"name":"../x"},"target":{}}""");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        Assert.Contains("target.name: Required value", refused!["message"]!.ToString());
        (status, refused) = await _server.SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/bindings",
            """{"metadata":{"name":"../x"},"target":{"name":"n1"}}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("Name parameter invalid: \"../x\": may not contain '/'", refused!["message"]!.ToString());
        (status, refused) = await _server.SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/bindings",
            """{"metadata":{},"target":{"name":"n1"}}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("Name parameter required.", refused!["message"]!.ToString());
        (status, _) = await _server.SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/bindings",
            """{"apiVersion":"v1","kind":"Binding","metadata":{"name":"legacy"},"target":{"kind":"Node","name":"n1"}}""");
        Assert.Equal(HttpStatusCode.Created, status);
        var (_, pod) = await _server.SendAsync(HttpMethod.Get, "/api/v1/namespaces/default/pods/legacy");
        Assert.Equal("n1", pod!["spec"]!["nodeName"]!.ToString());
    }

    [Fact]
    public async Task A_media_type_an_endpoint_does_not_decode_is_415_naming_those_it_does()
    {
        // a Deployment's status write is decoded from protobuf (its message declares the status): an envelope without
        // an object is a bad request, not an unsupported type (custom resources, never protobuf: ClusterKindsProtobufWriteTests)
        var (status, refused) = await _server.SendAsync(HttpMethod.Put, "/apis/apps/v1/namespaces/default/deployments/web/status", "k8s\0",
            contentType: "application/vnd.kubernetes.protobuf");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("the protobuf envelope carries no Deployment object", refused!["message"]!.ToString());
        // a Deployment is decoded from protobuf too
        (status, refused) = await _server.SendAsync(HttpMethod.Post, "/apis/apps/v1/namespaces/default/deployments", "x", contentType: "text/plain");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, status);
        Assert.EndsWith("application/json, application/yaml, application/vnd.kubernetes.protobuf (got \"text/plain\")", refused!["message"]!.ToString());
    }

    [Fact]
    public async Task A_protobuf_stateful_set_is_created()
    {
        var set = new Protobuf.ProtoWriter()
            .Message(1, m => m.String(1, "db"))
            .Message(2, s => s
                .Varint(1, 2) // replicas
                .Message(2, sel => sel.Entry(1, "app", "db")) // selector.matchLabels
                .Message(3, t => t
                    .Message(1, m => m.Entry(11, "app", "db"))
                    .Message(2, p => p.Message(2, c => c.String(1, "c").String(2, "img"))))
                .Message(4, pvc => pvc.Message(1, m => m.String(1, "data"))
                    .Message(2, spec => spec.String(1, "ReadWriteOnce").Message(2, r => r.QuantityEntry(2, "storage", "1Gi"))))
                .String(5, "db"));

        var (status, created) = await _server.SendBytesAsync(HttpMethod.Post, "/apis/apps/v1/namespaces/default/statefulsets",
            Protobuf.ProtoWriter.Envelope("apps/v1", "StatefulSet", set), "application/vnd.kubernetes.protobuf");

        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal(("db", 2), (created!["metadata"]!["name"]!.ToString(), (int)created["spec"]!["replicas"]!));
        Assert.Equal("1Gi", created["spec"]!["volumeClaimTemplates"]![0]!["spec"]!["resources"]!["requests"]!["storage"]!.ToString());
        var (_, stored) = await _server.SendAsync(HttpMethod.Get, "/apis/apps/v1/namespaces/default/statefulsets/db");
        Assert.Equal("img", stored!["spec"]!["template"]!["spec"]!["containers"]![0]!["image"]!.ToString());
    }

    [Fact]
    public async Task Limit_and_continue_page_through_a_list()
    {
        foreach (var name in new[] { "a", "b", "c" })
            await Created("/api/v1/namespaces/default/configmaps", $$$"""{"metadata":{"name":"{{{name}}}"}}""");
        var (_, first) = await _server.SendAsync(HttpMethod.Get, "/api/v1/namespaces/default/configmaps?limit=2");
        Assert.Equal(["a", "b"], first!["items"]!.AsArray().Select(i => i!["metadata"]!["name"]!.ToString()));
        var token = first["metadata"]!["continue"]!.ToString();
        var (_, second) = await _server.SendAsync(HttpMethod.Get, $"/api/v1/namespaces/default/configmaps?limit=2&continue={Uri.EscapeDataString(token)}");
        Assert.Equal(["c"], second!["items"]!.AsArray().Select(i => i!["metadata"]!["name"]!.ToString()));
        Assert.Null(second["metadata"]!["continue"]);
    }

    [Fact]
    public async Task Oversized_bodies_are_413()
    {
        var big = "{\"metadata\":{\"name\":\"big\"},\"data\":{\"x\":\"" + new string('a', 3 * 1024 * 1024 + 10) + "\"}}";
        var (status, body) = await _server.SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/configmaps", big);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Equal("Status", body!["kind"]!.ToString());
    }

    [Fact]
    public async Task Watch_streams_changes_after_the_listed_version()
    {
        var (_, list) = await _server.SendAsync(HttpMethod.Get, Deployments);
        var version = list!["metadata"]!["resourceVersion"]!.ToString();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{Deployments}?watch=true&resourceVersion={version}&timeoutSeconds=10");
        using var response = await _server.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        await Created(Deployments, DeploymentJson("web"));
        await _server.SendAsync(HttpMethod.Delete, $"{Deployments}/web");

        var added = JsonNode.Parse((await reader.ReadLineAsync())!)!;
        Assert.Equal(("ADDED", "web"), (added["type"]!.ToString(), added["object"]!["metadata"]!["name"]!.ToString()));
        var types = new List<string>();
        while (!types.Contains("DELETED"))
            types.Add(JsonNode.Parse((await reader.ReadLineAsync())!)!["type"]!.ToString());
        Assert.Equal("DELETED", types[^1]);
    }

    [Fact]
    public async Task Watch_sends_every_ready_event_as_its_own_line_in_order()
    {
        // The changes after the version are all queued when the watch starts, and more arrive from concurrent creates:
        // they are written together and flushed once, yet each is a line of its own, in the store's order.
        const string configMaps = "/api/v1/namespaces/default/configmaps";
        var (_, list) = await _server.SendAsync(HttpMethod.Get, configMaps);
        var version = list!["metadata"]!["resourceVersion"]!.ToString();
        var names = Enumerable.Range(0, 60).Select(i => $"batch{i:D2}").ToList();
        foreach (var name in names[..30]) await Created(configMaps, $$$"""{"metadata":{"name":"{{{name}}}"}}""");
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{configMaps}?watch=true&resourceVersion={version}&timeoutSeconds=10");
        using var response = await _server.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        await Task.WhenAll(names[30..].Select(name => Created(configMaps, $$$"""{"metadata":{"name":"{{{name}}}"}}""")));

        var events = new List<(string Type, string Name, long Version)>();
        while (events.Count < names.Count)
        {
            var line = await reader.ReadLineAsync();
            Assert.NotNull(line);
            var watchEvent = JsonNode.Parse(line)!;
            var metadata = watchEvent["object"]!["metadata"]!;
            events.Add((watchEvent["type"]!.ToString(), metadata["name"]!.ToString(), long.Parse(metadata["resourceVersion"]!.ToString())));
        }
        Assert.All(events, e => Assert.Equal("ADDED", e.Type));
        Assert.Equal(names[..30], events.Take(30).Select(e => e.Name));
        Assert.Equal(names.Order(), events.Select(e => e.Name).Order());
        Assert.Equal(events.Select(e => e.Version).Order(), events.Select(e => e.Version));
        Assert.Equal(events.Count, events.Select(e => e.Version).Distinct().Count());
    }

    [Fact]
    public async Task Watch_without_a_version_starts_with_the_current_objects_and_ends_at_its_timeout()
    {
        await Created(Deployments, DeploymentJson("web"));
        using var response = await _server.Client.GetAsync($"{Deployments}?watch=1&timeoutSeconds=1&fieldSelector=metadata.name%3Dweb");
        var lines = (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var first = JsonNode.Parse(lines[0])!;
        Assert.Equal(("ADDED", "web"), (first["type"]!.ToString(), first["object"]!["metadata"]!["name"]!.ToString()));
    }

    [Fact]
    public async Task Deletecollection_deletes_what_the_selector_matches()
    {
        await Created("/api/v1/namespaces/default/configmaps", """{"metadata":{"name":"a","labels":{"x":"1"}}}""");
        await Created("/api/v1/namespaces/default/configmaps", """{"metadata":{"name":"b","labels":{"x":"2"}}}""");
        var (status, deleted) = await _server.SendAsync(HttpMethod.Delete, "/api/v1/namespaces/default/configmaps?labelSelector=x%3D1");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(["a"], deleted!["items"]!.AsArray().Select(i => i!["metadata"]!["name"]!.ToString()));
        var (_, left) = await _server.SendAsync(HttpMethod.Get, "/api/v1/namespaces/default/configmaps");
        Assert.Equal(["b"], left!["items"]!.AsArray().Select(i => i!["metadata"]!["name"]!.ToString()).Where(n => n != "kube-root-ca.crt"));
    }

    [Fact]
    public async Task Status_subresource_changes_only_status()
    {
        await Created(Deployments, DeploymentJson("web", 2));
        var (status, patched) = await _server.SendAsync(HttpMethod.Patch, $"{Deployments}/web/status",
            """{"spec":{"replicas":9},"status":{"readyReplicas":2}}""", "application/merge-patch+json");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(2, patched!["status"]!["readyReplicas"]!.GetValue<int>());
        Assert.Equal(2, patched["spec"]!["replicas"]!.GetValue<int>());
    }

    [Fact]
    public async Task Endpoint_slices_are_stored_and_validated()
    {
        const string slices = "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices";
        await Created(slices, """
            {"metadata":{"name":"web-abc","labels":{"kubernetes.io/service-name":"web"}},"addressType":"IPv4",
             "endpoints":[{"addresses":["172.18.0.2"],"conditions":{"ready":true}}],"ports":[{"port":80}]}
            """);
        var (_, listed) = await _server.SendAsync(HttpMethod.Get, slices + "?labelSelector=kubernetes.io%2Fservice-name%3Dweb");
        var slice = Assert.Single(listed!["items"]!.AsArray())!;
        Assert.Equal(("", "TCP"), (slice["ports"]![0]!["name"]!.ToString(), slice["ports"]![0]!["protocol"]!.ToString()));

        var (status, refused) = await _server.SendAsync(HttpMethod.Post, slices, """{"metadata":{"name":"bad"},"endpoints":[]}""");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        Assert.Equal("addressType", refused!["details"]!["causes"]![0]!["field"]!.ToString());
    }

    [Fact]
    public async Task Watch_as_table_sends_one_row_tables()
    {
        await Created(Deployments, DeploymentJson("web"));
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{Deployments}?watch=true&timeoutSeconds=1&includeObject=Object");
        request.Headers.TryAddWithoutValidation("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io");
        using var response = await _server.Client.SendAsync(request);
        var first = JsonNode.Parse((await response.Content.ReadAsStringAsync()).Split('\n')[0])!;
        Assert.Equal("Table", first["object"]!["kind"]!.ToString());
        var row = Assert.Single(first["object"]!["rows"]!.AsArray())!;
        Assert.Equal("web", row["cells"]![0]!.ToString());
        Assert.Equal("Deployment", row["object"]!["kind"]!.ToString());
    }
}
