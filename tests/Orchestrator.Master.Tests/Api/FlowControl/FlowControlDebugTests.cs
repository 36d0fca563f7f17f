using System.Net;
using k8s.Models;
using Microsoft.AspNetCore.Http;
using Orchestrator.Master.Api.Authorization;
using Orchestrator.Master.Api.FlowControl;
using Orchestrator.Master.Api.Security;
using Xunit;
using static Orchestrator.Master.Tests.Api.FlowControl.FlowControlClassificationTests;

namespace Orchestrator.Master.Tests.Api.FlowControl;

public class FlowControlDebugTests
{
    private static readonly TimeSpan LongWait = TimeSpan.FromSeconds(30);

    [Fact]
    public void Cells_are_aligned_as_gos_tabwriter_aligns_kubes_comma_separated_rows()
    {
        // minwidth 8, padding 1: "a," takes 8 columns, "PriorityLevelName," 19
        Assert.Equal("PriorityLevelName, IsIdle\na,                 true\n",
            FlowControlDebug.Table([["PriorityLevelName", "IsIdle"], ["a", "true"]]));
        Assert.Equal("x,      y,      z\n", FlowControlDebug.Table([["x", "y", "z"]]));
    }

    [Fact]
    public async Task The_dumps_show_each_levels_counts_its_queues_and_its_waiting_and_running_requests()
    {
        var configuration = new FlowControlConfiguration([Schema("tiny", 100, "tiny", "team")],
            [Level("tiny", 5, queuing: new V1QueuingConfiguration { Queues = 1, HandSize = 1, QueueLengthLimit = 1 })], 10);
        var limiter = new FlowControlLimiter(configuration);
        var request = AuthorizationAttributes.Of(UserInfo.Of("alice", ["team"]), "GET", "/api/v1/namespaces/ns/pods", new QueryCollection());
        Classification Classify() => limiter.Configuration.Classify(request);
        var seats = Enumerable.Range(0, 5).Select(i => limiter.TryAcquire(Classify(), out _, LongWait, default)!).ToList();
        Assert.Null(limiter.TryAcquire(Classify(), out var waiting, LongWait, default)); // queued
        Assert.Null(limiter.TryAcquire(Classify(), out var refused, LongWait, default)); // the queue is full
        Assert.NotNull(waiting);
        Assert.Null(refused);

        var levels = FlowControlDebug.PriorityLevels(limiter.Dump()).Split('\n');
        Assert.StartsWith("PriorityLevelName, ActiveQueues, IsIdle, IsQuiescing, WaitingRequests, ExecutingRequests,", levels[0]);
        Assert.Equal(["tiny", "1", "false", "false", "1", "5", "5", "1", "0", "0"], Cells(levels.Single(l => l.StartsWith("tiny,"))));
        Assert.Equal(["catch-all", "0", "true", "false", "0", "0", "0", "0", "0", "0"], Cells(levels.Single(l => l.StartsWith("catch-all,"))));

        var queues = FlowControlDebug.Queues(limiter.Dump()).Split('\n');
        Assert.Equal(["tiny", "0", "1", "0", "0", "0.00000000ss", "1", "1", "0.00000000ss"], Cells(queues.Single(l => l.StartsWith("tiny,"))));

        var requests = FlowControlDebug.Requests(limiter.Dump(), details: true).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["PriorityLevelName", "FlowSchemaName", "QueueIndex", "RequestIndexInQueue", "FlowDistingsher", "ArriveTime",
            "InitialSeats", "FinalSeats", "AdditionalLatency", "StartTime", "UserName", "Verb", "APIPath", "Namespace", "Name",
            "APIVersion", "Resource", "SubResource"], Cells(requests[0]));
        Assert.Equal(7, requests.Length); // one waiting, five running
        var queued = Cells(requests[1]);
        Assert.Equal(["tiny", "tiny", "0", "0", "alice"], queued[..5]);
        Assert.Equal("0001-01-01T00:00:00Z", queued[9]);
        Assert.Equal(["alice", "list", "/api/v1/namespaces/ns/pods", "ns", "", "v1", "pods", ""], queued[10..]);
        Assert.All(requests[2..], line => Assert.Equal(["tiny", "tiny", "-1", "-1"], Cells(line)[..4]));

        seats[0].Dispose(); // the waiting request gets the seat, from its queue
        using var seat = await waiting!.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Contains(FlowControlDebug.Requests(limiter.Dump(), details: false).Split('\n'), l => Cells(l) is [_, _, "0", "-1", ..]);
        Assert.Equal(["tiny", "0", "false", "false", "0", "5", "6", "1", "0", "0"],
            Cells(FlowControlDebug.PriorityLevels(limiter.Dump()).Split('\n').Single(l => l.StartsWith("tiny,"))));
    }

    private static string[] Cells(string line) => line.Split(',').Select(c => c.Trim()).ToArray();
}

public sealed class FlowControlDebugApiTests : IAsyncLifetime
{
    private ApiTestServer _server = null!;

    public async Task InitializeAsync() => _server = await ApiTestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task The_dumps_are_served_to_whom_rbac_lets_read_them()
    {
        using var levels = await _server.Client.GetAsync("/debug/api_priority_and_fairness/dump_priority_levels");
        Assert.Equal(HttpStatusCode.OK, levels.StatusCode);
        Assert.Equal("text/plain; charset=utf-8", levels.Content.Headers.ContentType!.ToString());
        var text = await levels.Content.ReadAsStringAsync();
        Assert.StartsWith("PriorityLevelName, ", text);
        Assert.Contains("\nexempt, ", text);

        using var requests = await _server.Client.GetAsync("/debug/api_priority_and_fairness/dump_requests?includeRequestDetails=1");
        Assert.Contains("UserName", await requests.Content.ReadAsStringAsync());

        using var forbidden = new HttpRequestMessage(HttpMethod.Get, "/debug/api_priority_and_fairness/dump_queues");
        forbidden.Headers.Add("Impersonate-User", "nobody");
        using var answer = await _server.Client.SendAsync(forbidden);
        Assert.Equal(HttpStatusCode.Forbidden, answer.StatusCode);
    }
}
