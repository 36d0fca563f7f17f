using System.Net;
using Orchestrator.Master.Api.Rest;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Rest;

/// <summary>
/// GET pods/{name}/log as kube-apiserver answers it before any kubelet is asked: the PodLogOptions read from the query
/// (400 in Go's words for what does not parse), checked (422 PodLogOptions, before the pod is even looked up), the
/// container chosen as validateContainer does, and no logs (204) for a pod that no node runs yet.
/// </summary>
public sealed class PodLogOptionsTests : IAsyncLifetime
{
    private ApiTestServer _server = null!;
    private const string Pods = "/api/v1/namespaces/default/pods";

    public async Task InitializeAsync()
    {
        _server = await ApiTestServer.StartAsync();
        Assert.Equal(HttpStatusCode.Created, (await _server.SendAsync(HttpMethod.Post, Pods,
            """{"apiVersion":"v1","kind":"Pod","metadata":{"name":"one"},"spec":{"containers":[{"name":"c","image":"i"}]}}""")).Status);
        Assert.Equal(HttpStatusCode.Created, (await _server.SendAsync(HttpMethod.Post, Pods,
            """{"apiVersion":"v1","kind":"Pod","metadata":{"name":"two","annotations":{"kubectl.kubernetes.io/default-container":"b"}},"spec":{"initContainers":[{"name":"init","image":"i"}],"containers":[{"name":"a","image":"i"},{"name":"b","image":"i"}]}}""")).Status);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Theory]
    [InlineData("tailLines=-1", "PodLogOptions \"one\" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0", "tailLines")]
    [InlineData("limitBytes=0", "PodLogOptions \"one\" is invalid: limitBytes: Invalid value: 0: must be greater than 0", "limitBytes")]
    [InlineData("sinceSeconds=0", "PodLogOptions \"one\" is invalid: sinceSeconds: Invalid value: 0: must be greater than 0", "sinceSeconds")]
    [InlineData("sinceSeconds=5&sinceTime=2024-01-02T03:04:05Z", "PodLogOptions \"one\" is invalid: : Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified", "")]
    [InlineData("stream=stdout", "PodLogOptions \"one\" is invalid: stream: Unsupported value: \"stdout\": supported values: \"All\", \"Stderr\", \"Stdout\"", "stream")]
    [InlineData("stream=", "PodLogOptions \"one\" is invalid: stream: Unsupported value: \"\": supported values: \"All\", \"Stderr\", \"Stdout\"", "stream")]
    [InlineData("stream=Stderr&tailLines=3", "PodLogOptions \"one\" is invalid: : Forbidden: `tailLines` and specific `stream` are mutually exclusive for now", "")]
    public async Task Options_kube_apiserver_refuses_are_invalid(string query, string message, string field)
    {
        var (status, body) = await _server.SendAsync(HttpMethod.Get, $"{Pods}/one/log?{query}");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        Assert.Equal(message, (string?)body!["message"]);
        Assert.Equal("PodLogOptions", (string?)body["details"]!["kind"]);
        Assert.Equal("one", (string?)body["details"]!["name"]);
        // an empty field is left out, as Go's omitempty does
        Assert.Equal(field.Length == 0 ? null : field, (string?)body["details"]!["causes"]![0]!["field"]);
    }

    [Fact]
    public async Task Several_refused_options_are_listed_together_and_checked_before_the_pod_is_looked_up()
    {
        var (status, body) = await _server.SendAsync(HttpMethod.Get, $"{Pods}/missing/log?tailLines=-2&limitBytes=-1");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        Assert.Equal("PodLogOptions \"missing\" is invalid: [tailLines: Invalid value: -2: must be greater than or equal to 0, limitBytes: Invalid value: -1: must be greater than 0]",
            (string?)body!["message"]);
        Assert.Equal(2, body["details"]!["causes"]!.AsArray().Count);
    }

    [Theory]
    [InlineData("tailLines=ten", "strconv.ParseInt: parsing \"ten\": invalid syntax")]
    [InlineData("limitBytes=", "strconv.ParseInt: parsing \"\": invalid syntax")]
    [InlineData("sinceSeconds=99999999999999999999", "strconv.ParseInt: parsing \"99999999999999999999\": value out of range")]
    [InlineData("sinceTime=yesterday", "parsing time \"yesterday\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"yesterday\" as \"2006\"")]
    public async Task Options_that_do_not_parse_are_a_bad_request_in_Go_words(string query, string message)
    {
        var (status, body) = await _server.SendAsync(HttpMethod.Get, $"{Pods}/one/log?{query}");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(message, (string?)body!["message"]);
    }

    [Fact]
    public async Task A_pod_no_node_runs_yet_has_no_logs()
    {
        using var response = await _server.Client.GetAsync($"{Pods}/one/log?tailLines=10&follow=true");
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("", "a container name must be specified for pod two, choose one of: [init a b]")]
    [InlineData("?container=nope", "container nope is not valid for pod two")]
    public async Task The_container_is_chosen_as_kube_apiserver_chooses_it(string query, string message)
    {
        // the default-container annotation is kubectl's to read, not the API server's
        var (status, body) = await _server.SendAsync(HttpMethod.Get, $"{Pods}/two/log{query}");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(message, (string?)body!["message"]);
    }

    [Fact]
    public async Task Any_container_of_the_pod_may_be_named()
    {
        foreach (var container in new[] { "init", "a", "b" })
            Assert.Equal(HttpStatusCode.NoContent, (await _server.SendAsync(HttpMethod.Get, $"{Pods}/two/log?container={container}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _server.SendAsync(HttpMethod.Get, $"{Pods}/missing/log")).Status);
    }

    [Fact]
    public void The_kubelet_gets_every_option_set_in_kube_apiserver_spelling()
    {
        var query = new QueryCollection(new Dictionary<string, StringValues>
        {
            ["follow"] = "True", ["timestamps"] = "", ["previous"] = "0", ["sinceTime"] = "2024-01-02T04:04:05+01:00",
            ["tailLines"] = "7", ["limitBytes"] = "100", ["container"] = new StringValues(["x", "y"]),
        });
        var options = PodLogQuery.Parse(query, "p");
        Assert.Equal("x", options.Container);
        Assert.Equal("follow=true&timestamps=true&sinceTime=2024-01-02T03%3A04%3A05Z&tailLines=7&limitBytes=100&stream=All&podUID=u-1",
            options.KubeletQuery("u-1"));
        Assert.Equal("sinceSeconds=30&stream=All&podUID=u", PodLogQuery.Parse(new QueryCollection(new Dictionary<string, StringValues> { ["sinceSeconds"] = "30" }), "p").KubeletQuery("u"));
        // one stream alone (PodLogsQuerySplitStreams), tailLines allowed with All
        Assert.Equal("stream=Stderr&podUID=u", PodLogQuery.Parse(new QueryCollection(new Dictionary<string, StringValues> { ["stream"] = "Stderr" }), "p").KubeletQuery("u"));
        Assert.Equal("tailLines=2&stream=All&podUID=u", PodLogQuery.Parse(new QueryCollection(new Dictionary<string, StringValues> { ["stream"] = "All", ["tailLines"] = "2" }), "p").KubeletQuery("u"));
    }
}
