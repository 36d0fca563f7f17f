using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Orchestrator.Master.Api.Http;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Http;

/// <summary>
/// A client that prefers <c>application/yaml</c> gets every negotiated answer as YAML (kube's YAML serializer: the JSON
/// answer through sigs.k8s.io/yaml) — objects, lists, Tables, write answers, Statuses, discovery — and a watch gets 406,
/// YAML having no stream serializer. Each YAML answer must read back as the JSON answer to the same request.
/// </summary>
public sealed class YamlAnswerTests : IAsyncLifetime
{
    private const string Yaml = "application/yaml";
    private ApiTestServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await ApiTestServer.StartAsync();
        await _server.SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/configmaps",
            """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm","labels":{"on":"yes"}},"data":{"a":"1","b":"x\ny\n","c":"true"}}""");
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<(HttpStatusCode Status, string? ContentType, string Body, long? Length)> SendAsync(HttpMethod method, string path,
        string? accept, string? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        if (accept is not null) request.Headers.TryAddWithoutValidation("Accept", accept);
        using var response = await _server.Client.SendAsync(request);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        return (response.StatusCode, response.Content.Headers.ContentType?.ToString(), Encoding.UTF8.GetString(bytes),
            response.Content.Headers.ContentLength);
    }

    private static JsonNode? ReadYaml(string yaml) => YamlBody.Parse(Encoding.UTF8.GetBytes(yaml)).Root;

    /// <summary>The YAML answer and the JSON answer to the same request say the same.</summary>
    private async Task<string> AssertSameAsJsonAsync(string path, string yamlAccept = Yaml, string jsonAccept = "application/json")
    {
        var (status, type, body, length) = await SendAsync(HttpMethod.Get, path, yamlAccept);
        var (jsonStatus, jsonType, json, _) = await SendAsync(HttpMethod.Get, path, jsonAccept);

        Assert.Equal(jsonStatus, status);
        Assert.Equal(jsonType!.Replace("application/json", Yaml), type);
        Assert.Equal(Encoding.UTF8.GetByteCount(body), length);
        Assert.False(body.TrimStart().StartsWith('{'), body);
        Assert.True(JsonNode.DeepEquals(WithoutAges(JsonNode.Parse(json)), WithoutAges(ReadYaml(body))), $"{json}\n---\n{body}");
        return body;
    }

    /// <summary>A Table's Age cells (its last column) left out: the two answers are made a moment apart, across a
    /// second's tick now and then.</summary>
    private static JsonNode? WithoutAges(JsonNode? answer)
    {
        if (answer?["kind"]?.GetValue<string>() == "Table")
            foreach (var row in answer["rows"]?.AsArray() ?? [])
                if (row?["cells"] is JsonArray { Count: > 0 } cells) cells.RemoveAt(cells.Count - 1);
        return answer;
    }

    [Fact]
    public async Task A_get_is_answered_in_yaml_with_sorted_keys()
    {
        var body = await AssertSameAsJsonAsync("/api/v1/namespaces/default/configmaps/cm");

        Assert.StartsWith("apiVersion: v1\ndata:\n  a: \"1\"\n  b: |\n    x\n    y\n  c: \"true\"\nkind: ConfigMap\nmetadata:\n", body);
        Assert.Contains("\n  labels:\n    \"on\": \"yes\"\n", body);
        Assert.Matches("\n  creationTimestamp: \"[0-9-]+T[0-9:]+Z\"\n", body);
    }

    [Fact]
    public async Task Lists_tables_and_partial_metadata_are_answered_in_yaml()
    {
        var list = await AssertSameAsJsonAsync("/api/v1/namespaces/default/configmaps");
        Assert.StartsWith("apiVersion: v1\nitems:\n- apiVersion: v1\n", list);

        var table = await AssertSameAsJsonAsync("/api/v1/namespaces/default/configmaps",
            "application/yaml;as=Table;v=v1;g=meta.k8s.io", "application/json;as=Table;v=v1;g=meta.k8s.io");
        Assert.Contains("\nkind: Table\n", table);

        var partial = await AssertSameAsJsonAsync("/api/v1/namespaces/default/configmaps/cm",
            "application/yaml;as=PartialObjectMetadata;v=v1;g=meta.k8s.io", "application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io");
        Assert.Contains("\nkind: PartialObjectMetadata\n", partial);
    }

    [Fact]
    public async Task Discovery_is_answered_in_yaml()
    {
        await AssertSameAsJsonAsync("/api");
        await AssertSameAsJsonAsync("/apis");
        await AssertSameAsJsonAsync("/api/v1");
        await AssertSameAsJsonAsync("/apis", "application/yaml;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
    }

    [Fact]
    public async Task Writes_and_their_errors_are_answered_in_yaml()
    {
        var (created, type, body, _) = await SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/configmaps", Yaml,
            """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"made"},"data":{"k":"v"}}""");
        Assert.Equal(HttpStatusCode.Created, created);
        Assert.Equal(Yaml, type);
        var (_, _, json, _) = await SendAsync(HttpMethod.Get, "/api/v1/namespaces/default/configmaps/made", "application/json");
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(json), ReadYaml(body)), body);

        var (conflict, conflictType, status, _) = await SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/configmaps", Yaml,
            """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"made"}}""");
        Assert.Equal(HttpStatusCode.Conflict, conflict);
        Assert.Equal(Yaml, conflictType);
        Assert.Equal("""
            apiVersion: v1
            code: 409
            details:
              kind: configmaps
              name: made
            kind: Status
            message: configmaps "made" already exists
            metadata: {}
            reason: AlreadyExists
            status: Failure

            """.ReplaceLineEndings("\n"), status);

        var (missing, _, notFound, _) = await SendAsync(HttpMethod.Get, "/api/v1/namespaces/default/configmaps/nowhere", Yaml);
        Assert.Equal(HttpStatusCode.NotFound, missing);
        Assert.Equal(404, ReadYaml(notFound)!["code"]!.GetValue<long>());
    }

    [Fact]
    public async Task A_watch_in_yaml_is_not_acceptable_and_says_so_in_yaml()
    {
        var (status, type, body, _) = await SendAsync(HttpMethod.Get, "/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=5", Yaml);

        Assert.Equal(HttpStatusCode.NotAcceptable, status);
        Assert.Equal(Yaml, type);
        Assert.Equal("""
            apiVersion: v1
            code: 406
            kind: Status
            message: 'only the following media types are accepted: application/json;stream=watch, application/vnd.kubernetes.protobuf;stream=watch'
            metadata: {}
            reason: NotAcceptable
            status: Failure

            """.ReplaceLineEndings("\n"), body);
    }

    [Fact]
    public async Task A_watch_preferring_json_streams_json()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=1");
        request.Headers.TryAddWithoutValidation("Accept", "application/json, application/yaml");
        using var response = await _server.Client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith("{\"type\":\"ADDED\",\"object\":{", body);
    }

    [Theory]
    [InlineData("application/yaml", true)]
    [InlineData("application/yaml, application/json", true)]
    [InlineData("application/json, application/yaml", false)]
    [InlineData("*/*;q=0.5, application/yaml", true)]
    [InlineData("application/json;q=0.5, application/yaml", true)]
    [InlineData("*/*, application/yaml", true)] // the specific range before the wildcard, whatever the order
    [InlineData("application/*, application/yaml", true)]
    [InlineData("text/html, application/yaml", true)]
    [InlineData("application/yaml;q=0, application/json", false)]
    [InlineData("application/yaml;stream=watch, application/json", false)]
    [InlineData("application/yaml;as=Foo;g=x;v=v1, application/json", false)]
    [InlineData("application/yaml;as=Table;g=meta.k8s.io;v=v1", true)]
    [InlineData("application/vnd.kubernetes.protobuf, application/yaml", false)]
    [InlineData("application/json", false)]
    [InlineData("application/vnd.kubernetes.protobuf,application/json", false)]
    [InlineData("text/yaml", false)]
    [InlineData(null, false)]
    public void Yaml_is_chosen_as_kube_apiserver_negotiates_it(string? accept, bool yaml) =>
        Assert.Equal(yaml, ContentNegotiation.Yaml(accept));
}
