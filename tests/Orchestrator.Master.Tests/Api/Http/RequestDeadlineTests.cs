using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using k8s.Models;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Api.Rest;
using Orchestrator.Master.Registry.Catalog;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Http;

/// <summary>kube-apiserver's deadline of requests that are not long-running (?timeout=, --request-timeout): the request's
/// work is cancelled and the answer is kube's 504; a timeout that is no Go duration is kube's 400; watches and the
/// streaming subresources have no deadline and do not read the parameter.</summary>
public sealed class RequestDeadlineTests : IAsyncLifetime
{
    /// <summary>kube's answer, byte for byte (the timeout handler encodes the Status struct without kind and apiVersion).</summary>
    private const string KubeTimeout =
        """{"metadata":{},"status":"Failure","message":"Timeout: request did not complete within the allotted timeout","reason":"Timeout","details":{},"code":504}""" + "\n";

    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(60);

    private readonly WaitingView _view = new();
    private ApiTestServer _server = null!;

    public async Task InitializeAsync() => _server = await StartAsync(_view);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static Task<ApiTestServer> StartAsync(WaitingView view, TimeSpan? requestTimeout = null) =>
        ApiTestServer.StartAsync(beforeApi: (s => s.AddSingleton<IResourceView>(view), _ => { }), requestTimeout: requestTimeout);

    [Fact]
    public async Task A_request_that_outlasts_its_timeout_has_its_work_cancelled_and_gets_kubes_504()
    {
        using var response = await _server.Client.GetAsync("/apis/waiting.test/v1/waits?timeout=1s").WaitAsync(HangGuard);

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal(KubeTimeout, await response.Content.ReadAsStringAsync());
        Assert.Equal("text/plain; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        Assert.False(response.Headers.Contains("Retry-After")); // client-go must not retry it by itself
        Assert.True(response.Headers.Contains("Audit-Id"));
        await _view.Cancelled.Task.WaitAsync(HangGuard);
    }

    [Theory]
    [InlineData("?timeout=1h")] // above the server's: the server's
    [InlineData("?timeout=0s")] // none of the client's: the server's
    [InlineData("")]
    public async Task The_servers_request_timeout_bounds_every_request(string query)
    {
        var view = new WaitingView();
        await using var server = await StartAsync(view, requestTimeout: TimeSpan.FromSeconds(1));

        using var response = await server.Client.GetAsync("/apis/waiting.test/v1/waits" + query).WaitAsync(HangGuard);

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal(KubeTimeout, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_stored_read_already_past_its_deadline_gets_kubes_504()
    {
        using var response = await _server.Client.GetAsync("/api/v1/namespaces/default/configmaps?timeout=1ns");

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal(KubeTimeout, await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("30s")]
    [InlineData("1h30m")]
    [InlineData("0")]
    [InlineData("-5s")]
    [InlineData("")]
    public async Task A_timeout_that_is_a_go_duration_leaves_a_quick_request_alone(string timeout)
    {
        var (status, body) = await _server.SendAsync(HttpMethod.Get, "/api/v1/namespaces/default?timeout=" + timeout);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("default", (string?)body!["metadata"]!["name"]);
    }

    [Theory]
    [InlineData("abc", "time: invalid duration \\\"abc\\\"")]
    [InlineData("5", "time: missing unit in duration \\\"5\\\"")]
    [InlineData("1d", "time: unknown unit \\\"d\\\" in duration \\\"1d\\\"")]
    public async Task A_timeout_that_is_no_go_duration_is_refused_with_kubes_400(string timeout, string goError)
    {
        var (status, body) = await _server.SendAsync(HttpMethod.Get, "/api/v1/namespaces/default/configmaps?timeout=" + timeout);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("BadRequest", (string?)body!["reason"]);
        Assert.Equal("invalid timeout specified in the request URL - " + goError.Replace("\\\"", "\""), (string?)body["message"]);
    }

    [Fact]
    public async Task A_bad_timeout_is_refused_before_authentication_as_in_kubes_handler_chain()
    {
        using var client = _server.App.GetTestClient(); // no token
        using var response = await client.GetAsync("/api/v1/namespaces?timeout=soon");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task A_watch_has_no_request_deadline()
    {
        using var watch = await _server.Client.GetAsync("/api/v1/namespaces/default/configmaps?watch=true&timeout=1ns",
            HttpCompletionOption.ResponseHeadersRead).WaitAsync(HangGuard);
        Assert.Equal(HttpStatusCode.OK, watch.StatusCode);
        using var events = new StreamReader(await watch.Content.ReadAsStreamAsync());

        var (created, _) = await _server.SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/configmaps",
            """{"metadata":{"name":"after-the-deadline"}}""");
        Assert.Equal(HttpStatusCode.Created, created);

        // past a deadline of 1 ns the stream still carries the object created after it
        while (await events.ReadLineAsync().WaitAsync(HangGuard) is { } line)
        {
            var item = JsonNode.Parse(line)!;
            if ((string?)item["object"]!["metadata"]!["name"] == "after-the-deadline")
            {
                Assert.Equal("ADDED", (string?)item["type"]);
                return;
            }
        }
        Assert.Fail("the watch ended before the object created after its deadline arrived");
    }

    [Theory]
    [InlineData("/api/v1/namespaces/default/configmaps?watch=1&timeoutSeconds=1&timeout=soon")]
    [InlineData("/api/v1/namespaces/default/pods/none/log?timeout=soon")]
    [InlineData("/api/v1/namespaces/default/pods/none/exec?command=true&timeout=soon")]
    [InlineData("/api/v1/nodes/none/proxy/stats?timeout=soon")]
    public async Task Long_running_requests_do_not_read_timeout(string path)
    {
        using var request = new HttpRequestMessage(path.Contains("/exec") ? HttpMethod.Post : HttpMethod.Get, path);
        using var response = await _server.Client.SendAsync(request).WaitAsync(HangGuard);
        var body = await response.Content.ReadAsStringAsync().WaitAsync(HangGuard); // a watch: until its timeoutSeconds

        Assert.DoesNotContain("invalid timeout", body);
        Assert.NotEqual(HttpStatusCode.GatewayTimeout, response.StatusCode);
    }

    [Theory]
    [InlineData("GET", "/api/v1/namespaces/default/configmaps?watch=true", true)]
    [InlineData("GET", "/api/v1/namespaces/default/configmaps?watch=false", false)]
    [InlineData("GET", "/api/v1/namespaces/default/configmaps/a?watch=true", false)] // a get: the name wins
    [InlineData("GET", "/api/v1/watch/namespaces/default/configmaps", true)]
    [InlineData("GET", "/api/v1/namespaces?watch=1", true)]
    [InlineData("GET", "/api/v1/namespaces/default?watch=1", false)]
    [InlineData("PUT", "/api/v1/namespaces/default/finalize", false)]
    [InlineData("GET", "/api/v1/namespaces/default/pods/a/log", true)]
    [InlineData("POST", "/api/v1/namespaces/default/pods/a/exec", true)]
    [InlineData("POST", "/api/v1/namespaces/default/pods/a/attach", true)]
    [InlineData("GET", "/api/v1/namespaces/default/pods/a/portforward", true)]
    [InlineData("GET", "/api/v1/namespaces/default/services/a:80/proxy/x/y", true)]
    [InlineData("GET", "/api/v1/nodes/a/proxy", true)]
    [InlineData("GET", "/api/v1/proxy/nodes/a", true)]
    [InlineData("GET", "/apis/apps/v1/watch/deployments", true)]
    [InlineData("GET", "/apis/apps/v1/namespaces/default/deployments/a/status", false)]
    [InlineData("POST", "/api/v1/namespaces/default/pods/a/eviction", false)]
    [InlineData("GET", "/apis/apps/v1?watch=1", false)]
    [InlineData("GET", "/version", false)]
    [InlineData("GET", "/openapi/v2", false)]
    public void The_long_running_requests_are_kubes(string method, string target, bool longRunning)
    {
        var split = target.Split('?', 2);
        var query = new QueryCollection(Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(split.Length > 1 ? split[1] : ""));
        Assert.Equal(longRunning, RequestDeadline.IsLongRunning(method, split[0], query));
    }

    /// <summary>A computed resource whose answer never comes: the handler waits on the request's cancellation.</summary>
    private sealed class WaitingView : IResourceView
    {
        public TaskCompletionSource Cancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ResourceDescription Resource { get; } = new()
        {
            Group = "waiting.test", Version = "v1", Resource = "waits", Kind = "Wait", Namespaced = false,
            ObjectType = typeof(V1ConfigMap), Strategy = new ModelStrategy<V1ConfigMap>(), Verbs = ResourceDescription.ReadVerbs,
            StoreName = "waits.waiting.test",
        };

        public async Task HandleAsync(HttpContext context, RequestInfo info)
        {
            try
            {
                await Task.Delay(Timeout.Infinite, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                Cancelled.TrySetResult();
                throw;
            }
        }
    }
}
