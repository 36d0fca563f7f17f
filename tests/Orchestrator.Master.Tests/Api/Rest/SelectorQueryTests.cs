using System.Net;
using System.Text.Json.Nodes;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Rest;

/// <summary>labelSelector and fieldSelector over HTTP as kube-apiserver 1.32 answers them: what kube accepts selects
/// what it selects, what it refuses is a 400 BadRequest Status with the parser's message, on lists, watches and
/// deletecollection alike; hostile selectors never get a 500.</summary>
public sealed class SelectorQueryTests : IAsyncLifetime
{
    private ApiTestServer _server = null!;
    private const string ConfigMaps = "/api/v1/namespaces/default/configmaps";

    public async Task InitializeAsync()
    {
        _server = await ApiTestServer.StartAsync();
        foreach (var (name, labels) in new[] { ("one", "\"n\":\"1\",\"tier\":\"web\""), ("five", "\"n\":\"5\""), ("empty", "\"n\":\"\""), ("none", "") })
        {
            var (status, body) = await _server.SendAsync(HttpMethod.Post, ConfigMaps,
                "{\"metadata\":{\"name\":\"" + name + "\",\"labels\":{" + labels + "}}}");
            Assert.True(status == HttpStatusCode.Created, $"{status}: {body}");
        }
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<string[]> Names(string query)
    {
        var (status, list) = await _server.SendAsync(HttpMethod.Get, $"{ConfigMaps}?{query}");
        Assert.True(status == HttpStatusCode.OK, $"{status}: {list}");
        return [.. list!["items"]!.AsArray().Select(i => i!["metadata"]!["name"]!.ToString()).Order()];
    }

    private async Task AssertBadRequest(HttpMethod method, string query, string message)
    {
        var (status, body) = await _server.SendAsync(method, $"{ConfigMaps}?{query}");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("Status", body!["kind"]!.ToString());
        Assert.Equal("BadRequest", body["reason"]!.ToString());
        Assert.Equal(400, body["code"]!.GetValue<int>());
        Assert.Equal(message, body["message"]!.ToString());
    }

    [Theory]
    [InlineData("n%3E1", "five")]
    [InlineData("n%3C5", "one")]
    [InlineData("n%3E0,n%3C9", "five,one")]
    [InlineData("n%20in%20()", "empty")]
    [InlineData("n%20notin%20(%2C1)", "five,none")]
    [InlineData("n%3D%3D5", "five")]
    [InlineData("!n", "none")]
    [InlineData("%20tier%20%2C%20n%20", "one")]
    [InlineData("n%3D", "empty")]
    [InlineData("n%3D1&labelSelector=n%3D5", "one")] // given twice: the first counts
    public async Task Label_selectors_kube_accepts_select_what_kube_selects(string selector, string names) =>
        Assert.Equal(names.Split(','), await Names("labelSelector=" + selector));

    [Theory]
    [InlineData("a%20in%20(b%2Cc", "unable to parse requirement: found '', expected: ',' or ')'")]
    [InlineData("x%3E1%2C", "found '', expected: identifier after ','")]
    [InlineData("x%3Ea", "unable to parse requirement: values[0]: Invalid value: \"a\": for 'Gt', 'Lt' operators, the value must be an integer")]
    [InlineData("app%3Amonolith", "unable to parse requirement: <nil>: Invalid value: \"app:monolith\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")]
    [InlineData("a%01", "unable to parse requirement: <nil>: Invalid value: \"a\\x01\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")]
    [InlineData("(", "found '(', expected: !, identifier, or 'end of string'")]
    public async Task A_label_selector_kube_refuses_is_a_400_with_kubes_message(string selector, string message)
    {
        await AssertBadRequest(HttpMethod.Get, "labelSelector=" + selector, message);
        await AssertBadRequest(HttpMethod.Get, "watch=true&labelSelector=" + selector, message);
        await AssertBadRequest(HttpMethod.Delete, "labelSelector=" + selector, message);
    }

    [Theory]
    [InlineData("metadata.name%3D%3Done", "one")]
    [InlineData("metadata.name!%3Done,metadata.name!%3Dfive", "empty,none")]
    [InlineData("%2C%2Cmetadata.name%3Dnone%2C", "none")]
    public async Task Field_selectors_kube_accepts_select_what_kube_selects(string selector, string names) =>
        Assert.Equal(names.Split(','), await Names("fieldSelector=" + selector));

    [Theory]
    [InlineData("metadata.name", "invalid selector: 'metadata.name'; can't understand 'metadata.name'")]
    [InlineData("metadata.name%3Da%3Db", "invalid field selector: unescaped character in value: 61")]
    [InlineData("metadata.name%3Da%5Cb", "invalid field selector: invalid escape sequence: \\b")]
    [InlineData("metadata.name%20%3Done", "field label not supported: metadata.name ")]
    [InlineData("spec.x%3D1,metadata.name%3Done", "field label not supported: spec.x")]
    [InlineData("%3Done", "field label not supported: ")]
    public async Task A_field_selector_kube_refuses_is_a_400_with_kubes_message(string selector, string message)
    {
        await AssertBadRequest(HttpMethod.Get, "fieldSelector=" + selector, message);
        await AssertBadRequest(HttpMethod.Get, "watch=true&fieldSelector=" + selector, message);
        await AssertBadRequest(HttpMethod.Delete, "fieldSelector=" + selector, message);
    }

    [Fact]
    public async Task A_bad_label_selector_is_reported_before_a_bad_field_selector_and_before_the_options_are_validated() =>
        await AssertBadRequest(HttpMethod.Get, "labelSelector=(&fieldSelector=x&resourceVersionMatch=Exact",
            "found '(', expected: !, identifier, or 'end of string'");

    [Theory]
    [InlineData("labelSelector=%E2%80%A8%F0%9F%98%80%C3%A9")]
    [InlineData("labelSelector=%00%00")]
    [InlineData("labelSelector=a%20in%20((((((((((((((((")]
    [InlineData("labelSelector=))))))))))")]
    [InlineData("labelSelector=%FF%FE")]
    [InlineData("fieldSelector=%FF%5C")]
    [InlineData("fieldSelector=%00%3D%00")]
    public async Task Hostile_selectors_are_never_a_server_error(string query)
    {
        var (status, body) = await _server.SendAsync(HttpMethod.Get, $"{ConfigMaps}?{query}");
        Assert.True(status is HttpStatusCode.OK or HttpStatusCode.BadRequest, $"{status}: {body}");
        if (status == HttpStatusCode.BadRequest) Assert.Equal("Status", body!["kind"]!.ToString());
    }

    [Fact]
    public async Task A_long_hostile_label_selector_is_a_400()
    {
        var selector = string.Join(",", Enumerable.Range(0, 3000).Select(i => $"k{i}%3E{i}")) + ",x%3E-1";
        await AssertBadRequest(HttpMethod.Get, "labelSelector=" + selector,
            "unable to parse requirement: values[0][x]: Invalid value: \"-1\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')");
    }
}
