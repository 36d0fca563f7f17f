using Orchestrator.Master.Controllers.ReplicaSets;
using Orchestrator.Master.Store;
using Xunit;

namespace Orchestrator.Master.Tests.Controllers;

public sealed class SlowStartBatchesTests
{
    private static readonly ResourceKey Owner = new("daemonsets", "default", "agent");

    /// <summary>Answers a whole batch, every write succeeding, and returns the step after its last answer.</summary>
    private static SlowStartStep<int> AnswerAll(SlowStartBatches<int> batches, SlowStartStep<int> batch)
    {
        var step = SlowStartStep<int>.Nothing;
        for (var i = 0; i < batch.Send.Count; i++)
        {
            Assert.Empty(step.Send); // nothing more goes out before the batch's last answer
            step = batches.Answered(Owner, batch.Run, succeeded: true);
        }
        return step;
    }

    [Fact]
    public void Batches_double_from_one_up_to_what_is_left()
    {
        var batches = new SlowStartBatches<int>();
        var step = batches.Start(Owner, Enumerable.Range(0, 10).ToList());
        var sizes = new List<int>();
        while (step.Send.Count > 0)
        {
            sizes.Add(step.Send.Count);
            step = AnswerAll(batches, step);
        }
        Assert.Equal([1, 2, 4, 3], sizes);
        Assert.False(step.Failed);
        Assert.False(batches.InProgress(Owner));
    }

    [Fact]
    public void A_failure_ends_the_run_once_its_batch_is_answered_and_hands_back_the_unsent_items()
    {
        var batches = new SlowStartBatches<int>();
        var first = batches.Start(Owner, Enumerable.Range(0, 10).ToList());
        var second = AnswerAll(batches, first);
        Assert.Equal([1, 2], second.Send);

        Assert.Empty(batches.Answered(Owner, second.Run, succeeded: false).Send);
        Assert.True(batches.InProgress(Owner)); // the other write of the batch is still out
        var end = batches.Answered(Owner, second.Run, succeeded: true);
        Assert.Equal((true, 7, 0), (end.Failed, end.Skipped, end.Send.Count));
        Assert.False(batches.InProgress(Owner));
    }

    [Fact]
    public void Answers_of_a_cancelled_run_are_ignored()
    {
        var batches = new SlowStartBatches<int>();
        var old = batches.Start(Owner, [1, 2, 3]);
        batches.Cancel(Owner);
        var fresh = batches.Start(Owner, [4, 5]);
        Assert.Same(SlowStartStep<int>.Nothing, batches.Answered(Owner, old.Run, succeeded: true));
        Assert.Equal([5], batches.Answered(Owner, fresh.Run, succeeded: true).Send);
    }
}
