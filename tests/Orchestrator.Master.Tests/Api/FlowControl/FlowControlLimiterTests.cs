using k8s.Models;
using Microsoft.AspNetCore.Http;
using Orchestrator.Master.Api.Authorization;
using Orchestrator.Master.Api.FlowControl;
using Orchestrator.Master.Api.Security;
using Xunit;
using static Orchestrator.Master.Tests.Api.FlowControl.FlowControlClassificationTests;

namespace Orchestrator.Master.Tests.Api.FlowControl;

public class FlowControlLimiterTests
{
    private static readonly TimeSpan LongWait = TimeSpan.FromSeconds(30);

    /// <summary>A server of <paramref name="server"/> seats with one level "tiny" for group "team"; catch-all takes
    /// 5 shares, so tiny's shares decide its seats.</summary>
    private static (FlowControlLimiter Limiter, Func<string, Classification> Classify) Server(int server, V1PriorityLevelConfiguration tiny,
        params V1PriorityLevelConfiguration[] more)
    {
        var configuration = new FlowControlConfiguration([Schema("tiny", 100, "tiny", "team")], [tiny, .. more], server);
        var limiter = new FlowControlLimiter(configuration);
        return (limiter, user => limiter.Configuration.Classify(AuthorizationAttributes.Of(UserInfo.Of(user, ["team"]), "GET", "/api/v1/pods",
            new QueryCollection())));
    }

    [Fact]
    public void A_rejecting_level_runs_its_seats_and_refuses_the_rest()
    {
        var (limiter, classify) = Server(10, Level("tiny", 5)); // ceil(10·5/10) = 5 seats, nothing to borrow
        var seats = Enumerable.Range(0, 5).Select(i => limiter.TryAcquire(classify("alice"), out _, LongWait, default)).ToList();
        Assert.All(seats, Assert.NotNull);
        Assert.Null(limiter.TryAcquire(classify("alice"), out var wait, LongWait, default));
        Assert.Null(wait); // rejected, not queued
        seats[0]!.Dispose();
        seats[0]!.Dispose(); // a seat is given back once
        Assert.Equal((4, 0), limiter.Usage("tiny"));
        Assert.NotNull(limiter.TryAcquire(classify("alice"), out _, LongWait, default));
    }

    [Fact]
    public async Task A_queued_request_runs_when_a_seat_is_freed()
    {
        var (limiter, classify) = Server(10, Level("tiny", 5, queuing: new V1QueuingConfiguration { Queues = 4, HandSize = 2, QueueLengthLimit = 3 }));
        var seats = Enumerable.Range(0, 5).Select(i => limiter.TryAcquire(classify("alice"), out _, LongWait, default)!).ToList();
        Assert.Null(limiter.TryAcquire(classify("alice"), out var wait, LongWait, default));
        Assert.NotNull(wait);
        Assert.False(wait!.IsCompleted);
        Assert.Equal((5, 1), limiter.Usage("tiny"));
        seats[0].Dispose();
        using var seat = await wait.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.NotNull(seat);
        Assert.Equal((5, 0), limiter.Usage("tiny"));
    }

    [Fact]
    public void A_flow_whose_queue_is_full_is_refused_while_other_flows_still_queue()
    {
        // one queue per hand: a flow always lands in the same queue of the two
        var (limiter, classify) = Server(10, Level("tiny", 5, queuing: new V1QueuingConfiguration { Queues = 2, HandSize = 1, QueueLengthLimit = 2 }));
        for (var i = 0; i < 5; i++) Assert.NotNull(limiter.TryAcquire(classify("alice"), out _, LongWait, default));
        var alice = classify("alice");
        Assert.Null(limiter.TryAcquire(alice, out var first, LongWait, default));
        Assert.Null(limiter.TryAcquire(alice, out var second, LongWait, default));
        Assert.Null(limiter.TryAcquire(alice, out var third, LongWait, default));
        Assert.NotNull(first);
        Assert.NotNull(second);
        Assert.Null(third); // queueLengthLimit 2
        var other = Enumerable.Range(0, 50).Select(i => classify("user" + i))
            .First(c => ShuffleSharding.Deal(c.FlowHash, 2, 1)[0] != ShuffleSharding.Deal(alice.FlowHash, 2, 1)[0]);
        Assert.Null(limiter.TryAcquire(other, out var queued, LongWait, default));
        Assert.NotNull(queued);
    }

    [Fact]
    public async Task A_request_that_waits_too_long_in_its_queue_gets_no_seat()
    {
        var (limiter, classify) = Server(10, Level("tiny", 5, queuing: new V1QueuingConfiguration { Queues = 1, HandSize = 1, QueueLengthLimit = 5 }));
        for (var i = 0; i < 5; i++) limiter.TryAcquire(classify("alice"), out _, LongWait, default);
        limiter.TryAcquire(classify("alice"), out var wait, TimeSpan.FromMilliseconds(50), default);
        Assert.Null(await wait!.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal((5, 0), limiter.Usage("tiny"));
    }

    [Fact]
    public async Task Freed_seats_serve_the_queues_in_turn()
    {
        var (limiter, classify) = Server(10, Level("tiny", 5, queuing: new V1QueuingConfiguration { Queues = 2, HandSize = 1, QueueLengthLimit = 10 }));
        var seats = Enumerable.Range(0, 5).Select(i => limiter.TryAcquire(classify("alice"), out _, LongWait, default)!).ToList();
        var alice = classify("alice");
        var other = Enumerable.Range(0, 50).Select(i => classify("user" + i))
            .First(c => ShuffleSharding.Deal(c.FlowHash, 2, 1)[0] != ShuffleSharding.Deal(alice.FlowHash, 2, 1)[0]);
        var heavy = Enumerable.Range(0, 3).Select(_ => { limiter.TryAcquire(alice, out var w, LongWait, default); return w!; }).ToList();
        limiter.TryAcquire(other, out var light, LongWait, default);
        seats[0].Dispose();
        seats[1].Dispose();
        await Task.WhenAll(heavy[0].WaitAsync(TimeSpan.FromSeconds(5)), light!.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.False(heavy[1].IsCompleted); // the light flow was served before the heavy flow's second request
    }

    [Fact]
    public void A_level_borrows_lendable_seats_up_to_its_borrowing_limit()
    {
        // tiny: ceil(20·5/20) = 5 seats, MaxCL 5 + 40 % = 7; lender: 10 shares → 10 seats, 60 % lendable → a pool of 6
        var (limiter, classify) = Server(20, Level("tiny", 5, borrowing: 40), Level("lender", 10, lendable: 60));
        var taken = 0;
        while (limiter.TryAcquire(classify("alice"), out _, LongWait, default) is not null) taken++;
        Assert.Equal(7, taken);
    }

    [Fact]
    public void Exempt_requests_are_never_limited()
    {
        var configuration = new FlowControlConfiguration([], [], 1);
        var limiter = new FlowControlLimiter(configuration);
        var admin = configuration.Classify(AuthorizationAttributes.Of(UserInfo.Of("admin", [UserInfo.SystemMasters]), "GET", "/api/v1/pods", new QueryCollection()));
        Assert.True(admin.Level.Exempt);
        for (var i = 0; i < 100; i++) Assert.NotNull(limiter.TryAcquire(admin, out _, LongWait, default));
    }

    [Fact]
    public void A_new_configuration_keeps_running_requests_and_applies_the_new_limit()
    {
        var (limiter, classify) = Server(10, Level("tiny", 5));
        for (var i = 0; i < 3; i++) limiter.TryAcquire(classify("alice"), out _, LongWait, default);
        limiter.Reconfigure(new FlowControlConfiguration([Schema("tiny", 100, "tiny", "team")], [Level("tiny", 1)], 6)); // ceil(6·1/6) = 1
        Assert.Equal((3, 0), limiter.Usage("tiny"));
        Assert.Null(limiter.TryAcquire(classify("alice"), out _, LongWait, default));
    }

    [Fact]
    public void Hands_are_distinct_queues_of_the_deck_and_the_same_for_a_flow()
    {
        var random = new Random(7);
        for (var i = 0; i < 1000; i++)
        {
            var hash = (ulong)random.NextInt64();
            var hand = ShuffleSharding.Deal(hash, 128, 6);
            Assert.Equal(6, hand.Distinct().Count());
            Assert.All(hand, card => Assert.InRange(card, 0, 127));
            Assert.Equal(hand, ShuffleSharding.Deal(hash, 128, 6));
        }
        Assert.Equal(new[] { 0, 1, 2, 3 }, ShuffleSharding.Deal(0, 4, 4).Order());
    }
}
