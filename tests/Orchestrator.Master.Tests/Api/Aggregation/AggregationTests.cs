using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Orchestrator.Master.Api.Aggregation;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Aggregation;

/// <summary>
/// The aggregation layer against a real HTTPS extension API server in this process (<see cref="ExtensionApiServer"/>),
/// reached through a Service without selector whose Endpoints and EndpointSlice name 127.0.0.1 (node n1's address):
/// availability conditions, proxying of get, list, watch and create with the front-proxy certificate and the
/// X-Remote-* headers, discovery, and RBAC before proxying.
/// </summary>
public sealed class AggregationTests : IAsyncLifetime
{
    private const string Name = "v1alpha1.wardle.example.com";
    private const string Flunders = "/apis/wardle.example.com/v1alpha1/namespaces/default/flunders";
    private ApiTestServer _server = null!;
    private ExtensionApiServer _extension = null!;
    private JsonObject _trust = null!;

    public async Task InitializeAsync()
    {
        _server = await ApiTestServer.StartAsync(https: true);
        await Send(HttpMethod.Post, "/api/v1/namespaces", """{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"kube-system"}}""",
            HttpStatusCode.Created, HttpStatusCode.Conflict);
        _trust = (await Eventually(async () =>
        {
            var (status, body) = await _server.SendAsync(HttpMethod.Get, "/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication");
            return status == HttpStatusCode.OK ? body : null;
        }, "the extension-apiserver-authentication ConfigMap"))!["data"]!.AsObject();
        var allowed = JsonNode.Parse(_trust["requestheader-allowed-names"]!.GetValue<string>())!.AsArray().Select(n => n!.GetValue<string>()).ToList();
        _extension = await ExtensionApiServer.StartAsync(_trust["requestheader-client-ca-file"]!.GetValue<string>(), allowed);
        await Send(HttpMethod.Post, "/api/v1/nodes", """{"apiVersion":"v1","kind":"Node","metadata":{"name":"n1"}}""", HttpStatusCode.Created);
        var (_, node) = await _server.SendAsync(HttpMethod.Get, "/api/v1/nodes/n1");
        node!["status"] = new JsonObject { ["addresses"] = new JsonArray(new JsonObject { ["type"] = "InternalIP", ["address"] = "127.0.0.1" }) };
        await Send(HttpMethod.Put, "/api/v1/nodes/n1/status", node.ToJsonString(), HttpStatusCode.OK);
    }

    public async Task DisposeAsync()
    {
        await _extension.DisposeAsync();
        await _server.DisposeAsync();
    }

    [Fact]
    public void The_configmap_publishes_the_requestheader_scheme_as_kube_apiserver_does()
    {
        Assert.Equal("""["front-proxy-client"]""", _trust["requestheader-allowed-names"]!.GetValue<string>());
        Assert.Equal("""["X-Remote-User"]""", _trust["requestheader-username-headers"]!.GetValue<string>());
        Assert.Equal("""["X-Remote-Group"]""", _trust["requestheader-group-headers"]!.GetValue<string>());
        Assert.Equal("""["X-Remote-Extra-"]""", _trust["requestheader-extra-headers-prefix"]!.GetValue<string>());
        Assert.Equal(File.ReadAllText(Path.Combine(_server.DataDirectory, "ca.crt")).Trim(), _trust["client-ca-file"]!.GetValue<string>().Trim());
        Assert.Equal(File.ReadAllText(Path.Combine(_server.DataDirectory, "front-proxy-ca.crt")).Trim(),
            _trust["requestheader-client-ca-file"]!.GetValue<string>().Trim());
    }

    [Fact]
    public async Task The_reader_role_and_its_binding_are_created()
    {
        var role = await Eventually(async () =>
        {
            var (status, body) = await _server.SendAsync(HttpMethod.Get, "/apis/rbac.authorization.k8s.io/v1/namespaces/kube-system/roles/extension-apiserver-authentication-reader");
            return status == HttpStatusCode.OK ? body : null;
        }, "the reader Role");
        Assert.Equal("extension-apiserver-authentication", role!["rules"]![0]!["resourceNames"]![0]!.GetValue<string>());
        var (bound, binding) = await _server.SendAsync(HttpMethod.Get,
            "/apis/rbac.authorization.k8s.io/v1/namespaces/kube-system/rolebindings/system::extension-apiserver-authentication-reader");
        Assert.Equal(HttpStatusCode.OK, bound);
        Assert.Equal("extension-apiserver-authentication-reader", binding!["roleRef"]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Availability_reports_a_missing_service_missing_endpoints_and_a_failing_discovery_check()
    {
        await CreateApiService();
        Assert.Equal("service/ext in \"default\" is not present", await WaitForCondition("False", "ServiceNotFound"));
        using (var unavailable = await _server.Client.GetAsync(Flunders))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, unavailable.StatusCode);
            Assert.Equal("service unavailable\n", await unavailable.Content.ReadAsStringAsync());
        }

        var (_, service) = await Send(HttpMethod.Post, "/api/v1/namespaces/default/services",
            """{"apiVersion":"v1","kind":"Service","metadata":{"name":"ext"},"spec":{"ports":[{"name":"https","port":443}]}}""", HttpStatusCode.Created);
        Assert.Equal("cannot find endpoints for service/ext in \"default\"", await WaitForCondition("False", "EndpointsNotFound"));
        await Send(HttpMethod.Post, "/api/v1/namespaces/default/endpoints",
            """{"apiVersion":"v1","kind":"Endpoints","metadata":{"name":"ext"},"subsets":[]}""", HttpStatusCode.Created);
        Assert.Equal("endpoints for service/ext in \"default\" have no addresses with port name \"https\"", await WaitForCondition("False", "MissingEndpoints"));

        _extension.FailWith = 500;
        await Send(HttpMethod.Delete, "/api/v1/namespaces/default/endpoints/ext", null, HttpStatusCode.OK);
        await CreateEndpoints();
        var url = $"https://{service!["spec"]!["clusterIP"]!.GetValue<string>()}:443/apis/wardle.example.com/v1alpha1";
        Assert.Equal($"failing or missing response from {url}: bad status from {url}: 500", await WaitForCondition("False", "FailedDiscoveryCheck"));

        _extension.FailWith = null;
        await Touch();
        Assert.Equal("all checks passed", await WaitForCondition("True", "Passed"));
        var (_, table) = await _server.SendAsync(HttpMethod.Get, "/apis/apiregistration.k8s.io/v1/apiservices/" + Name,
            accept: "application/json;as=Table;v=v1;g=meta.k8s.io");
        Assert.Equal("default/ext", table!["rows"]![0]!["cells"]![1]!.GetValue<string>());
        Assert.Equal("True", table["rows"]![0]!["cells"]![2]!.GetValue<string>());
    }

    [Fact]
    public async Task Get_list_and_create_are_proxied_with_the_front_proxy_certificate_and_the_user_in_remote_headers()
    {
        await ServeThroughService();
        using var request = new HttpRequestMessage(HttpMethod.Get, Flunders + "?limit=5");
        request.Headers.Add("X-Remote-User", "mallory"); // a client's own requestheader lines never travel on
        using var listed = await _server.Client.SendAsync(request);
        var list = JsonNode.Parse(await listed.Content.ReadAsStringAsync())!;
        Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
        Assert.Equal("FlunderList", list["kind"]!.GetValue<string>());
        var seen = _extension.Requests.Last(r => r.Target == "/apis/wardle.example.com/v1alpha1/namespaces/default/flunders?limit=5");
        Assert.Equal(["admin"], seen.Headers["X-Remote-User"]);
        Assert.Equal(["system:masters", "system:authenticated"], seen.Headers["X-Remote-Group"]); // one line each
        Assert.False(seen.Headers.ContainsKey("Authorization"));

        var (got, one) = await _server.SendAsync(HttpMethod.Get, Flunders + "/one");
        Assert.Equal(HttpStatusCode.OK, got);
        Assert.Equal("admin", one!["metadata"]!["annotations"]!["seen-as"]!.GetValue<string>());

        var (created, flunder) = await _server.SendAsync(HttpMethod.Post, Flunders,
            """{"apiVersion":"wardle.example.com/v1alpha1","kind":"Flunder","metadata":{"name":"new"}}""");
        Assert.Equal(HttpStatusCode.Created, created);
        Assert.Equal("admin", flunder!["metadata"]!["annotations"]!["created-by"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_watch_streams_each_event_as_the_extension_server_writes_it()
    {
        await ServeThroughService();
        using var response = await _server.Client.GetAsync(Flunders + "?watch=true", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        // the second event is written only after the first arrived here
        var first = await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Contains("\"first\"", first);
        _extension.ReleaseWatch();
        var second = await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Contains("\"second\"", second);
    }

    [Fact]
    public async Task A_user_without_rbac_is_refused_before_the_request_is_proxied()
    {
        await ServeThroughService();
        using var request = new HttpRequestMessage(HttpMethod.Get, Flunders + "/one?who=jane");
        request.Headers.Add("Impersonate-User", "jane");
        using var response = await _server.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("flunders.wardle.example.com \"one\" is forbidden: User \"jane\" cannot get resource \"flunders\" in API group " +
                     "\"wardle.example.com\" in the namespace \"default\"",
            JsonNode.Parse(await response.Content.ReadAsStringAsync())!["message"]!.GetValue<string>());
        Assert.DoesNotContain(_extension.Requests, r => r.Target.Contains("who=jane"));
    }

    [Fact]
    public async Task Discovery_lists_an_available_aggregated_group_version_with_its_resources()
    {
        await ServeThroughService();
        var group = await Eventually(async () =>
        {
            var (_, groups) = await _server.SendAsync(HttpMethod.Get, "/apis");
            return groups!["groups"]!.AsArray().FirstOrDefault(g => g!["name"]!.GetValue<string>() == "wardle.example.com");
        }, "the group in /apis");
        Assert.Equal("wardle.example.com/v1alpha1", group!["preferredVersion"]!["groupVersion"]!.GetValue<string>());
        var (status, apiGroup) = await _server.SendAsync(HttpMethod.Get, "/apis/wardle.example.com");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("APIGroup", apiGroup!["kind"]!.GetValue<string>());

        var (_, aggregated) = await _server.SendAsync(HttpMethod.Get, "/apis",
            accept: "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json");
        var item = aggregated!["items"]!.AsArray().Single(i => i!["metadata"]!["name"]!.GetValue<string>() == "wardle.example.com");
        var resource = item!["versions"]![0]!["resources"]![0]!;
        Assert.Equal("flunders", resource["resource"]!.GetValue<string>());
        Assert.Equal("Namespaced", resource["scope"]!.GetValue<string>());
        Assert.Equal("fl", resource["shortNames"]![0]!.GetValue<string>());
        Assert.Equal("status", resource["subresources"]![0]!["subresource"]!.GetValue<string>());

        // the resource list itself is the extension server's
        var (listed, resources) = await _server.SendAsync(HttpMethod.Get, "/apis/wardle.example.com/v1alpha1");
        Assert.Equal(HttpStatusCode.OK, listed);
        Assert.Equal("APIResourceList", resources!["kind"]!.GetValue<string>());
    }

    [Fact]
    public void Extra_keys_are_percent_encoded_as_client_go_escapes_header_keys()
    {
        Assert.Equal("authentication.kubernetes.io%2Fcredential-id", ExtensionServers.EscapeHeaderKey("authentication.kubernetes.io/credential-id"));
        Assert.Equal("a%25b%20c", ExtensionServers.EscapeHeaderKey("a%b c"));
        var user = new Orchestrator.Master.Api.Security.UserInfo("u", "", ["g1", "g2"],
            new Dictionary<string, IReadOnlyList<string>> { ["scopes.example/x"] = ["1", "2"] });
        Assert.Equal([("X-Remote-User", "u"), ("X-Remote-Group", "g1"), ("X-Remote-Group", "g2"),
                ("X-Remote-Extra-scopes.example%2Fx", "1"), ("X-Remote-Extra-scopes.example%2Fx", "2")],
            ExtensionServers.UserHeaders(user).ToList());
    }

    private async Task ServeThroughService()
    {
        await Send(HttpMethod.Post, "/api/v1/namespaces/default/services",
            """{"apiVersion":"v1","kind":"Service","metadata":{"name":"ext"},"spec":{"ports":[{"name":"https","port":443}]}}""", HttpStatusCode.Created);
        await CreateEndpoints();
        await CreateApiService();
        await WaitForCondition("True", "Passed");
    }

    /// <summary>The slice first: the Endpoints complete what the check needs, so it runs once both are there.</summary>
    private async Task CreateEndpoints()
    {
        await Send(HttpMethod.Post, "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices", $$$"""
            {"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"ext-1","labels":{"kubernetes.io/service-name":"ext"}},
             "addressType":"IPv4","ports":[{"name":"https","port":{{{_extension.Port}}},"protocol":"TCP"}],
             "endpoints":[{"addresses":["127.0.0.1"],"conditions":{"ready":true}}]}
            """, HttpStatusCode.Created);
        await Send(HttpMethod.Post, "/api/v1/namespaces/default/endpoints", $$$"""
            {"apiVersion":"v1","kind":"Endpoints","metadata":{"name":"ext"},
             "subsets":[{"addresses":[{"ip":"127.0.0.1"}],"ports":[{"name":"https","port":{{{_extension.Port}}}}]}]}
            """, HttpStatusCode.Created);
    }

    private Task CreateApiService() => Send(HttpMethod.Post, "/apis/apiregistration.k8s.io/v1/apiservices", $$$"""
        {"apiVersion":"apiregistration.k8s.io/v1","kind":"APIService","metadata":{"name":"{{{Name}}}"},
         "spec":{"group":"wardle.example.com","version":"v1alpha1","groupPriorityMinimum":1000,"versionPriority":15,
           "service":{"name":"ext","namespace":"default"},"caBundle":"{{{Convert.ToBase64String(Encoding.UTF8.GetBytes(_extension.CaBundlePem))}}}"}}
        """, HttpStatusCode.Created);

    /// <summary>A change to the APIService (a label), so that it is checked again now.</summary>
    private Task Touch() => Send(HttpMethod.Patch, "/apis/apiregistration.k8s.io/v1/apiservices/" + Name,
        """{"metadata":{"labels":{"touched":""" + $"\"{Guid.NewGuid():N}\"" + "}}}", HttpStatusCode.OK, contentType: "application/merge-patch+json");

    /// <summary>The Available condition's message once it has this status and reason.</summary>
    private async Task<string> WaitForCondition(string status, string reason)
    {
        JsonNode? last = null;
        var condition = await Eventually(async () =>
        {
            var (_, api) = await _server.SendAsync(HttpMethod.Get, "/apis/apiregistration.k8s.io/v1/apiservices/" + Name);
            last = api?["status"];
            return api?["status"]?["conditions"]?.AsArray().FirstOrDefault(c =>
                c!["type"]!.GetValue<string>() == "Available" && c["status"]!.GetValue<string>() == status && c["reason"]!.GetValue<string>() == reason);
        }, $"Available {status} ({reason})", () => last?.ToJsonString());
        return condition!["message"]!.GetValue<string>();
    }

    private async Task<(HttpStatusCode, JsonNode?)> Send(HttpMethod method, string path, string? body, params HttpStatusCode[] expected) =>
        await Send(method, path, body, expected, "application/json");

    private async Task<(HttpStatusCode, JsonNode?)> Send(HttpMethod method, string path, string? body, HttpStatusCode expected, string contentType) =>
        await Send(method, path, body, [expected], contentType);

    private async Task<(HttpStatusCode, JsonNode?)> Send(HttpMethod method, string path, string? body, HttpStatusCode[] expected, string contentType)
    {
        var (status, answer) = await _server.SendAsync(method, path, body, contentType);
        Assert.True(expected.Contains(status), $"{method} {path}: {status} {answer?.ToJsonString()}");
        return (status, answer);
    }

    private static async Task<T?> Eventually<T>(Func<Task<T?>> probe, string what, Func<string?>? last = null) where T : class
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            if (await probe() is { } found) return found;
            if (DateTime.UtcNow > deadline) Assert.Fail($"{what} did not come within 30 s; last: {last?.Invoke()}");
            await Task.Delay(100);
        }
    }
}
