using k8s.Models;
using Orchestrator.Master.Nodes;
using Orchestrator.Shared.Protocol;
using Xunit;

namespace Orchestrator.Master.Tests.Nodes;

public sealed class PodStatusBatchesTests
{
    private static PodStatusReported Report(string pod, string phase) =>
        new("node1", "default", pod, "uid-" + pod, new V1PodStatus { Phase = phase });

    private static List<string> Pods(IEnumerable<PodStatusReported> batch) => batch.Select(r => $"{r.Name}:{r.Status.Phase}").ToList();

    [Fact]
    public void Reports_that_arrive_while_a_batch_is_stored_go_together_in_the_next_the_newest_of_each_pod()
    {
        var batches = new PodStatusBatches();
        var first = Report("a", "Pending");
        batches.Report(first);
        Assert.Equal(["a:Pending"], Pods(batches.TakeBatch()));

        // while it is in flight: nothing goes; b's two reports are one; a's newer report waits for a's write
        batches.Report(Report("b", "Pending"));
        batches.Report(Report("a", "Running"));
        batches.Report(Report("c", "Running"));
        batches.Report(Report("b", "Running"));
        Assert.Empty(batches.TakeBatch());
        Assert.Equal(3, batches.Unwritten);
        Assert.Equal(2, batches.Due);

        batches.Settled(first);
        batches.Answered();
        // b and c in the order they first came, then a, due once its write was answered
        Assert.Equal(["b:Running", "c:Running", "a:Running"], Pods(batches.TakeBatch()));
    }

    [Fact]
    public void A_report_stored_is_forgotten_and_a_newer_one_that_came_meanwhile_is_not()
    {
        var batches = new PodStatusBatches();
        batches.Report(Report("a", "Pending"));
        batches.Report(Report("b", "Pending"));
        var batch = batches.TakeBatch();
        batches.Report(Report("b", "Running"));
        foreach (var report in batch) batches.Settled(report);
        batches.Answered();

        Assert.False(batches.IsUnwritten("uid-a"));
        Assert.True(batches.IsUnwritten("uid-b"));
        Assert.Equal(["b:Running"], Pods(batches.TakeBatch()));
    }

    [Fact]
    public void A_batch_holds_at_most_the_limit_and_the_rest_follows_in_order()
    {
        var batches = new PodStatusBatches(maxBatch: 2);
        foreach (var pod in new[] { "a", "b", "c", "d", "e" }) batches.Report(Report(pod, "Running"));
        var first = batches.TakeBatch();
        Assert.Equal(["a:Running", "b:Running"], Pods(first));
        foreach (var report in first) batches.Settled(report);
        batches.Answered();
        Assert.Equal(["c:Running", "d:Running"], Pods(batches.TakeBatch()));
    }

    [Fact]
    public void Refused_reports_are_due_again_first_in_their_order_each_pod_with_its_newest()
    {
        var batches = new PodStatusBatches();
        batches.Report(Report("a", "Pending"));
        batches.Report(Report("b", "Pending"));
        batches.Report(Report("c", "Pending"));
        var refused = batches.TakeBatch();
        batches.Report(Report("d", "Running"));
        batches.Report(Report("b", "Running"));

        batches.Answered();
        batches.Refused(refused);

        Assert.Equal(["a:Pending", "b:Running", "c:Pending", "d:Running"], Pods(batches.TakeBatch()));
        Assert.Equal(4, batches.Unwritten);
    }

    [Fact]
    public void A_conflicted_report_waits_for_its_requeue_unless_a_newer_one_came()
    {
        var batches = new PodStatusBatches();
        batches.Report(Report("a", "Running"));
        batches.Report(Report("b", "Pending"));
        var batch = batches.TakeBatch();
        batches.Report(Report("b", "Running"));
        batches.Answered();
        foreach (var report in batch) batches.Conflicted(report);

        // b's newer report goes at once; a waits
        Assert.Equal(["b:Running"], Pods(batches.TakeBatch()));
        batches.Answered();
        batches.Requeue("uid-a");
        Assert.Equal(["a:Running"], Pods(batches.TakeBatch()));
        Assert.Equal(2, batches.Unwritten); // nothing lost: neither was stored yet
    }

    [Fact]
    public void A_requeue_of_a_pod_in_flight_or_stored_sends_nothing_more()
    {
        var batches = new PodStatusBatches();
        var report = Report("a", "Running");
        batches.Report(report);
        batches.TakeBatch();
        batches.Requeue("uid-a"); // in flight
        batches.Settled(report);
        batches.Answered();
        batches.Requeue("uid-a"); // stored
        Assert.Empty(batches.TakeBatch());
        Assert.Equal(0, batches.Unwritten);
    }

    [Fact]
    public void A_forgotten_pod_is_neither_due_nor_unwritten()
    {
        var batches = new PodStatusBatches();
        batches.Report(Report("a", "Running"));
        batches.Report(Report("b", "Running"));
        batches.Forget("uid-a");
        Assert.Equal(["b:Running"], Pods(batches.TakeBatch()));
        Assert.False(batches.IsUnwritten("uid-a"));
    }
}
