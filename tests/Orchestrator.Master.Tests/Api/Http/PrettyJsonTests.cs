using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;
using Orchestrator.Master.Api.Http;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Http;

/// <summary>
/// kube-apiserver indents its JSON for curl, wget and browsers and for <c>?pretty=true</c> (isPrettyPrint), as
/// json.MarshalIndent does; /version is always indented (WriteRawJSON). test/cmd's authorization test greps curl's
/// answer for <c>"allowed": true</c>.
/// </summary>
public sealed class PrettyJsonTests : IAsyncLifetime
{
    private ApiTestServer _server = null!;

    public async Task InitializeAsync() => _server = await ApiTestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<(HttpStatusCode Status, string Body, long? Length)> Get(string path, string? userAgent)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (userAgent is not null) request.Headers.TryAddWithoutValidation("User-Agent", userAgent);
        using var response = await _server.Client.SendAsync(request);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        return (response.StatusCode, Encoding.UTF8.GetString(bytes), response.Content.Headers.ContentLength);
    }

    [Fact]
    public void Indenting_follows_go_json_indent()
    {
        var compact = """{"a":{},"b":[],"c":[1,{"d":"x, y: {z}"}],"e":"q\"}\\"}""" + "\n";

        var indented = Encoding.UTF8.GetString(GoJsonIndent.Indent(Encoding.UTF8.GetBytes(compact))!);

        Assert.Equal("{\n  \"a\": {},\n  \"b\": [],\n  \"c\": [\n    1,\n    {\n      \"d\": \"x, y: {z}\"\n    }\n  ],\n" +
                     "  \"e\": \"q\\\"}\\\\\"\n}", indented);
        Assert.Null(GoJsonIndent.Indent("""{"a":"open"""u8));
        Assert.Null(GoJsonIndent.Indent("""{"a":1}}"""u8));
    }

    [Theory]
    [InlineData("curl/8.5.0", null)]
    [InlineData("Wget/1.21.4", null)]
    [InlineData("Mozilla/5.0 (X11; Linux x86_64)", null)]
    [InlineData("kubectl/v1.32.4 (linux/amd64) kubernetes/abcdef0", "?pretty=true")]
    [InlineData(null, "?pretty=1")]
    public async Task People_and_pretty_true_get_indented_json_with_its_length(string? userAgent, string? query)
    {
        var (status, body, length) = await Get("/api/v1/namespaces/default" + query, userAgent);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.StartsWith("{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"Namespace\",\n  \"metadata\": {\n    \"", body);
        Assert.Contains("\n    \"name\": \"default\"", body);
        Assert.EndsWith("\n}", body); // MarshalIndent: no newline after the value
        Assert.Equal(Encoding.UTF8.GetByteCount(body), length);
    }

    [Theory]
    [InlineData("kubectl/v1.32.4 (linux/amd64) kubernetes/abcdef0", null)]
    [InlineData(null, null)]
    [InlineData("curl/8.5.0", "?pretty=false")]
    [InlineData("curl/8.5.0", "?pretty=yes")] // Go's ParseBool refuses it: compact, whatever the client
    public async Task Programs_and_pretty_false_get_compact_json(string? userAgent, string? query)
    {
        var (status, body, _) = await Get("/api/v1/namespaces/default" + query, userAgent);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.StartsWith("""{"apiVersion":"v1","kind":"Namespace","metadata":{""", body);
        Assert.EndsWith("}\n", body);
    }

    [Fact]
    public async Task Lists_statuses_and_discovery_are_indented_for_curl_too()
    {
        var (_, list, _) = await Get("/api/v1/namespaces", "curl/8.5.0");
        Assert.StartsWith("{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"NamespaceList\",\n", list);
        Assert.Contains("\n  \"items\": [\n    {\n      \"", list);

        var (status, notFound, _) = await Get("/api/v1/namespaces/default/configmaps/missing", "curl/8.5.0");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.StartsWith("{\n  \"", notFound);
        Assert.Contains("\n  \"kind\": \"Status\",\n", notFound);
        Assert.Contains("\n  \"metadata\": {},\n", notFound);
        Assert.Contains("\n  \"reason\": \"NotFound\"", notFound);

        var (_, groups, _) = await Get("/apis", "curl/8.5.0");
        Assert.StartsWith("{\n  \"", groups);
        Assert.Contains("\n  \"kind\": \"APIGroupList\"", groups);
    }

    [Fact]
    public async Task A_watch_stays_one_compact_event_a_line_for_curl()
    {
        var (status, body, _) = await Get("/api/v1/namespaces?watch=true&timeoutSeconds=1&fieldSelector=metadata.name%3Ddefault",
            "curl/8.5.0");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.StartsWith("""{"type":"ADDED","object":{"apiVersion":"v1","kind":"Namespace",""", body);
        Assert.DoesNotContain("\n ", body);
    }

    [Theory]
    [InlineData("kubectl/v1.32.4 (linux/amd64) kubernetes/abcdef0")]
    [InlineData("curl/8.5.0")]
    public async Task Version_is_indented_for_every_client(string userAgent)
    {
        var (status, body, length) = await Get("/version", userAgent);

        Assert.Equal(HttpStatusCode.OK, status);
        // version.Info's fields in their declared order, as Go marshals them
        Assert.StartsWith("{\n  \"major\": \"1\",\n  \"minor\": \"32\",\n  \"gitVersion\": \"v1.32", body);
        Assert.Contains("\",\n  \"gitTreeState\": \"clean\",\n  \"buildDate\": \"", body);
        Assert.EndsWith("\",\n  \"compiler\": \"gc\",\n  \"platform\": \"linux/amd64\"\n}", body);
        Assert.Equal(Encoding.UTF8.GetByteCount(body), length);
    }

    [Theory]
    [InlineData(false, "{\n  \"a\": 1\n}")]
    [InlineData(true, "{\"a\":1}")] // a node's answer through nodes/proxy, as the node wrote it
    public async Task A_proxied_json_answer_passes_as_written(bool proxied, string expected)
    {
        var context = new DefaultHttpContext();
        context.Request.Path = "/api/v1/nodes/n1/proxy/stats";
        context.Request.Headers.UserAgent = "curl/8.5.0";
        var written = new MemoryStream();
        context.Response.Body = written;
        var middleware = new PrettyJsonResponses(async c =>
        {
            if (proxied) PrettyJsonResponses.PassThrough(c);
            c.Response.ContentType = "application/json";
            await c.Response.Body.WriteAsync("{\"a\":1}"u8.ToArray());
        });

        await middleware.InvokeAsync(context);

        Assert.Equal(expected, Encoding.UTF8.GetString(written.ToArray()));
    }
}
