using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Xunit;

namespace Orchestrator.Master.Tests.Api;

/// <summary>
/// Over real HTTPS (Kestrel, which collapses dot segments before routing): names that would address another object,
/// answers that must be Kubernetes' rather than wrong-but-harmless, slow bodies, and patches under contention.
/// </summary>
public sealed class PathAndAnswerTests : IAsyncLifetime
{
    private ApiTestServer _server = null!;
    private const string Ns = "/api/v1/namespaces/hostile";

    public async Task InitializeAsync()
    {
        _server = await ApiTestServer.StartAsync(https: true);
        await Create("/api/v1/namespaces", """{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"hostile"}}""");
        await Create(Ns + "/configmaps", """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"keep"},"data":{"a":"1"}}""");
        await Create("/api/v1/namespaces/default/configmaps", """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"other"},"data":{"b":"2"}}""");
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task Create(string path, string body)
    {
        var (status, answer) = await _server.SendAsync(HttpMethod.Post, path, body);
        Assert.True(status == HttpStatusCode.Created, answer?.ToJsonString());
    }

    /// <summary>Sends the path exactly as written: no client-side unescaping or dot-segment removal.</summary>
    private async Task<(int Code, JsonNode? Body, string Text)> Raw(string method, string path, string? body = null,
        string contentType = "application/json")
    {
        var uri = new Uri(_server.Address! + path.TrimStart('/'), new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
        using var request = new HttpRequestMessage(new HttpMethod(method), uri);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, contentType);
        using var response = await _server.Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.StartsWith('{') ? JsonNode.Parse(text) : null, text);
    }

    private async Task<string> Everything() =>
        (await Raw("GET", "/api/v1/namespaces")).Text + (await Raw("GET", "/api/v1/configmaps")).Text;

    [Theory]
    [InlineData("DELETE", Ns + "/configmaps/%2e%2e", 400, "Name parameter invalid: \"..\": may not be '..'")]
    [InlineData("DELETE", Ns + "/configmaps/%2E%2E", 400, "Name parameter invalid: \"..\": may not be '..'")]
    [InlineData("DELETE", Ns + "/configmaps/..", 400, "Name parameter invalid: \"..\": may not be '..'")]
    [InlineData("DELETE", Ns + "/configmaps/%2e", 400, "Name parameter invalid: \".\": may not be '.'")]
    [InlineData("DELETE", Ns + "/configmaps/.", 400, "Name parameter invalid: \".\": may not be '.'")]
    [InlineData("GET", "/api/v1/namespaces/%2e%2e/configmaps", 400, "Namespace parameter invalid: \"..\": may not be '..'")]
    [InlineData("GET", "/api/v1/namespaces/./configmaps", 400, "Namespace parameter invalid: \".\": may not be '.'")]
    [InlineData("DELETE", "/api/v1/namespaces/%2e%2e", 400, "Name parameter invalid: \"..\": may not be '..'")]
    [InlineData("DELETE", Ns + "/configmaps/keep%2f..", 400, "Name parameter invalid: \"keep%2F..\": may not contain '%'")]
    [InlineData("DELETE", Ns + "/configmaps/a%25b", 400, "Name parameter invalid: \"a%b\": may not contain '%'")]
    [InlineData("GET", Ns + "/configmaps/keep/%2e%2e", 404, "the server could not find the requested resource")]
    [InlineData("GET", Ns + "/%2e%2e/configmaps", 404, "the server could not find the requested resource")]
    [InlineData("GET", "/api/v1/namespaces//configmaps", 404, "the server could not find the requested resource")]
    [InlineData("DELETE", Ns + "//configmaps/keep", 404, "the server could not find the requested resource")]
    [InlineData("GET", "/api/%2e%2e/healthz", 404, "the server could not find the requested resource")]
    public async Task A_path_segment_is_matched_as_sent_and_never_reaches_another_object(string method, string path, int code, string message)
    {
        var before = await Everything();
        var (status, body, text) = await Raw(method, path);
        Assert.True(code == status, $"{status}: {text}");
        Assert.Equal(message, body?["message"]?.ToString());
        Assert.Equal(before, await Everything());
    }

    [Theory]
    [InlineData("/healthz/../api/v1/secrets")]
    [InlineData("/livez/%2e%2e/api/v1/secrets")]
    [InlineData("/readyz/./../api/v1/secrets")]
    public async Task A_health_path_that_climbs_out_is_no_anonymous_health_check(string path)
    {
        var uri = new Uri(_server.Address! + path.TrimStart('/'), new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
        using var anonymous = new HttpClient(new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true });
        using var response = await anonymous.GetAsync(uri);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        using var healthy = await anonymous.GetAsync(new Uri(_server.Address!, "healthz/ping"));
        Assert.Equal(HttpStatusCode.OK, healthy.StatusCode);
    }

    [Fact]
    public async Task Dot_names_in_bodies_and_selectors_address_nothing()
    {
        var (created, _, text) = await Raw("POST", Ns + "/configmaps", """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":".."}}""");
        Assert.True(created == 422, text);
        var (listed, list, _) = await Raw("GET", Ns + "/configmaps?fieldSelector=metadata.name%3D..");
        Assert.Equal(200, listed);
        Assert.Empty(list!["items"]!.AsArray());
    }

    [Fact]
    public async Task A_null_label_value_is_stored_as_the_empty_string_as_go_decodes_it()
    {
        var (status, body, text) = await Raw("POST", Ns + "/configmaps",
            """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"nulls","labels":{"a":null}},"data":{"k":null}}""");
        Assert.True(status == 201, text);
        Assert.Equal("", body!["metadata"]!["labels"]!["a"]!.ToString());
        Assert.Equal("", body["data"]!["k"]!.ToString());
        var (selected, list, _) = await Raw("GET", Ns + "/configmaps?labelSelector=a%3D");
        Assert.Equal(200, selected);
        Assert.Equal("nulls", list!["items"]![0]!["metadata"]!["name"]!.ToString());
    }

    [Fact]
    public async Task A_null_list_element_is_the_zero_value_and_fails_validation_not_the_server()
    {
        var (status, body, text) = await Raw("POST", Ns + "/pods",
            """{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[null]}}""");
        Assert.True(status == 422, text);
        Assert.Equal("Invalid", body!["reason"]!.ToString());
    }

    [Fact]
    public async Task Field_names_with_control_characters_are_warned_about_in_an_escaped_header()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Ns + "/configmaps")
        {
            Content = new StringContent("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"ctl"},"a\u0001\u00e9b":1}""",
                Encoding.UTF8, "application/json"),
        };
        using var response = await _server.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("299 - \"unknown field \\\"a\\u0001\\u00e9b\\\"\"", Assert.Single(response.Headers.GetValues("Warning")));
    }

    [Fact]
    public async Task Duplicate_fields_are_warned_about_by_default_and_the_last_one_wins()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Ns + "/configmaps")
        {
            Content = new StringContent("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"dup"},"data":{"a":"1","a":"2"}}""",
                Encoding.UTF8, "application/json"),
        };
        using var response = await _server.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("299 - \"duplicate field \\\"data.a\\\"\"", Assert.Single(response.Headers.GetValues("Warning")));
        Assert.Equal("2", JsonNode.Parse(await response.Content.ReadAsStringAsync())!["data"]!["a"]!.ToString());
    }

    [Fact]
    public async Task A_negative_grace_period_is_one_second_as_kube_apiserver_makes_it()
    {
        await Create(Ns + "/pods", """{"apiVersion":"v1","kind":"Pod","metadata":{"name":"grace"},"spec":{"nodeName":"n1","containers":[{"name":"c","image":"i"}]}}""");
        var (status, body, text) = await Raw("DELETE", Ns + "/pods/grace?gracePeriodSeconds=-5");
        Assert.True(status == 200, text);
        Assert.Equal(1, body!["metadata"]!["deletionGracePeriodSeconds"]!.GetValue<long>());
    }

    [Fact]
    public async Task A_body_that_trickles_in_is_answered_408_with_a_status()
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", _server.Address!.Port);
        await using var tls = new System.Net.Security.SslStream(tcp.GetStream(), false, (_, _, _, _) => true);
        await tls.AuthenticateAsClientAsync("127.0.0.1");
        var head = $"POST {Ns}/configmaps HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {_server.Token}\r\n" +
                   "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{";
        await tls.WriteAsync(Encoding.ASCII.GetBytes(head));
        await tls.FlushAsync();
        // one byte a second: under Kestrel's minimum rate once its grace period has passed
        var answer = new StringBuilder();
        var buffer = new byte[4096];
        var reading = tls.ReadAsync(buffer).AsTask();
        using var giveUp = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        while (!reading.IsCompleted && !giveUp.IsCancellationRequested)
        {
            try { await tls.WriteAsync("\""u8.ToArray(), giveUp.Token); } catch (IOException) { break; }
            await Task.WhenAny(reading, Task.Delay(1000, giveUp.Token));
        }
        var read = await reading.WaitAsync(giveUp.Token);
        answer.Append(Encoding.UTF8.GetString(buffer, 0, read));
        while (!answer.ToString().Contains("\"code\"") && (read = await tls.ReadAsync(buffer, giveUp.Token)) > 0)
            answer.Append(Encoding.UTF8.GetString(buffer, 0, read));
        var text = answer.ToString();
        Assert.StartsWith("HTTP/1.1 408", text);
        Assert.Contains("\"reason\":\"Timeout\"", text);
    }

    [Fact]
    public async Task A_hundred_parallel_merge_patches_to_one_object_all_apply()
    {
        await Create(Ns + "/configmaps", """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"contended"},"data":{}}""");
        var patches = Enumerable.Range(0, 100).Select(async i =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Patch, Ns + "/configmaps/contended")
            {
                Content = new StringContent($$$"""{"data":{"k{{{i}}}":"{{{i}}}"}}""", Encoding.UTF8, "application/merge-patch+json"),
            };
            using var response = await _server.Client.SendAsync(request);
            return (int)response.StatusCode;
        });
        var codes = await Task.WhenAll(patches);
        Assert.All(codes, c => Assert.Equal(200, c));
        var (_, body, _) = await Raw("GET", Ns + "/configmaps/contended");
        var data = body!["data"]!.AsObject();
        Assert.Equal(100, data.Count);
        Assert.All(Enumerable.Range(0, 100), i => Assert.Equal(i.ToString(), data[$"k{i}"]!.ToString()));
    }

    [Fact]
    public async Task A_patch_pinned_to_a_stale_resource_version_still_conflicts()
    {
        var (_, body, _) = await Raw("PATCH", Ns + "/configmaps/keep", """{"metadata":{"resourceVersion":"1"},"data":{"x":"y"}}""",
            "application/merge-patch+json");
        Assert.Equal("Conflict", body!["reason"]!.ToString());
    }
}
