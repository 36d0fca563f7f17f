using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Akka.Actor;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Api.Security;
using Orchestrator.Master.Leadership;
using Orchestrator.Master.Registry;
using Orchestrator.Master.Store;
using Xunit;
using Yarp.ReverseProxy.Forwarder;

namespace Orchestrator.Master.Tests.Leadership;

/// <summary>A master forwarding to a leader that never answers (paused, cut off): the request deadline bounds the
/// forwarded request, and once the leader is lost a read is answered 503 with Retry-After, a write 504 Timeout, and a
/// stream already under way is ended.</summary>
public sealed class LeaderForwardingTests : IAsyncLifetime
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(60);
    private static readonly Address LeaderAddress = new("akka.tcp", "orchestrator", "127.0.0.1", 4050);

    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("leader-forwarding-").FullName;
    private readonly LeaderLoss _loss = new();
    private readonly TaskCompletionSource _leaderReceived = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ActorSystem _system = null!;
    private WebApplication _leader = null!;
    private WebApplication _follower = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        // the leader: the cluster CA's serving certificate; it takes every request and never answers, except that a
        // followed log sends its headers and a first line
        var certificate = ServingCertificates.LoadOrCreate(_dataDirectory, "127.0.0.1");
        var leader = WebApplication.CreateBuilder();
        leader.Logging.ClearProviders();
        leader.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(certificate)));
        _leader = leader.Build();
        _leader.Run(async context =>
        {
            if (context.Request.Path.Value!.EndsWith("/log", StringComparison.Ordinal))
            {
                context.Response.ContentType = "text/plain";
                await context.Response.WriteAsync("first line\n");
                await context.Response.Body.FlushAsync();
            }
            _leaderReceived.TrySetResult();
            await Task.Delay(Timeout.Infinite, context.RequestAborted);
        });
        await _leader.StartAsync();
        var api = new Uri(_leader.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

        // the follower: the deadline, then the forwarding to that leader
        _system = ActorSystem.Create("leader-forwarding-test", "akka.loglevel = WARNING");
        var follower = WebApplication.CreateBuilder();
        follower.Logging.ClearProviders();
        follower.WebHost.UseTestServer();
        follower.Services.AddHttpForwarder();
        _follower = follower.Build();
        var forwarding = new LeaderForwarding(_ => Task.CompletedTask, new MasterLeadership(), _system,
            _follower.Services.GetRequiredService<IHttpForwarder>(),
            // a replica that does not follow: a forwarded write's answer waits for nothing
            new ReplicaReads(new ReplicaHealth(), RegistryHosting.BuiltInCatalog(), null!, null!), _loss,
            BearerToken.LoadOrCreate(_dataDirectory), ServingCertificates.LoadCaCertificate(_dataDirectory));
        var view = new LeaderView(LeaderAddress, api, Reachable: true, IsSelf: false);
        // (a maximum beyond the hang guard: only the lost leader may end what waits here, or the client's ?timeout=)
        _follower.UseMiddleware<RequestDeadline>(TimeSpan.FromMinutes(10));
        _follower.Run(context => forwarding.ForwardAsync(context, view));
        await _follower.StartAsync();
        _client = _follower.GetTestClient();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _follower.DisposeAsync();
        await _leader.DisposeAsync();
        await _system.Terminate();
        try { Directory.Delete(_dataDirectory, recursive: true); } catch (IOException) { }
    }

    /// <summary>Sends the request, waits until the leader has it, marks the leader lost, and returns the answer.</summary>
    private async Task<HttpResponseMessage> LoseTheLeaderDuringAsync(HttpRequestMessage request)
    {
        var answer = _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        await _leaderReceived.Task.WaitAsync(HangGuard);
        _loss.Lost(LeaderAddress);
        return await answer.WaitAsync(HangGuard);
    }

    [Fact]
    public async Task A_read_the_lost_leader_never_answered_is_answered_503_with_retry_after()
    {
        using var response = await LoseTheLeaderDuringAsync(new HttpRequestMessage(HttpMethod.Get, "/api/v1/namespaces/default/configmaps/a"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("1", response.Headers.GetValues("Retry-After").Single());
        var status = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("ServiceUnavailable", (string?)status["reason"]);
        Assert.Contains("was lost before it answered", (string?)status["message"]);
    }

    [Fact]
    public async Task A_write_the_lost_leader_never_answered_is_answered_504_timeout_without_retry_after()
    {
        using var response = await LoseTheLeaderDuringAsync(new HttpRequestMessage(HttpMethod.Post, "/api/v1/namespaces/default/configmaps")
        {
            Content = new StringContent("""{"metadata":{"name":"a"}}""", Encoding.UTF8, "application/json"),
        });

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.False(response.Headers.Contains("Retry-After"));
        var status = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("Timeout", (string?)status["reason"]);
        Assert.Equal(504, (int?)status["code"]);
        Assert.Contains("may or may not have been applied", (string?)status["message"]);
    }

    [Fact]
    public async Task A_stream_from_the_lost_leader_is_ended()
    {
        using var response = await _client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/api/v1/namespaces/default/pods/a/log?follow=true"),
            HttpCompletionOption.ResponseHeadersRead).WaitAsync(HangGuard);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var lines = new StreamReader(await response.Content.ReadAsStreamAsync());
        Assert.Equal("first line", await lines.ReadLineAsync().WaitAsync(HangGuard));
        await _leaderReceived.Task.WaitAsync(HangGuard);

        _loss.Lost(LeaderAddress);

        // the leader never ends the stream: reaching its end (or its abort) is the follower's doing
        try
        {
            Assert.Null(await lines.ReadLineAsync().WaitAsync(HangGuard));
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
        }
    }

    [Fact]
    public async Task A_forwarded_request_has_the_request_deadline()
    {
        using var response = await _client.GetAsync("/api/v1/namespaces/default/configmaps/a?timeout=1s").WaitAsync(HangGuard);

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal(Encoding.UTF8.GetString(RequestDeadline.TimeoutBody), await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Another_masters_loss_leaves_the_request_waiting_for_its_leader()
    {
        var answer = _client.GetAsync("/api/v1/namespaces/default/configmaps/a?timeout=1s");
        await _leaderReceived.Task.WaitAsync(HangGuard);

        _loss.Lost(new Address("akka.tcp", "orchestrator", "127.0.0.2", 4050));

        // not the lost master's 503: the request waits for its own leader until its deadline
        using var response = await answer.WaitAsync(HangGuard);
        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
    }
}
