using Orchestrator.Master.Nodes;
using Xunit;

namespace Orchestrator.Master.Tests.Nodes;

public sealed class LeaseRenewalsTests
{
    private static readonly DateTime T0 = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    [Fact]
    public void Renewals_asked_for_while_a_batch_is_stored_go_together_in_the_next_one()
    {
        var renewals = new LeaseRenewals();
        renewals.Due("n1");
        Assert.Equal(["n1"], renewals.TakeBatch(T0));

        // while the first batch is in flight: nothing goes, every node waits, a node asked twice is renewed once
        foreach (var node in new[] { "n2", "n3", "n2", "n4" }) renewals.Due(node);
        Assert.Empty(renewals.TakeBatch(T0.AddSeconds(1)));
        Assert.Equal(3, renewals.Waiting);

        renewals.Answered();
        Assert.Equal(["n2", "n3", "n4"], renewals.TakeBatch(T0.AddSeconds(2)));
        renewals.Answered();
        Assert.Empty(renewals.TakeBatch(T0.AddSeconds(3)));
    }

    [Fact]
    public void A_batch_holds_at_most_the_limit_and_the_rest_follows()
    {
        var renewals = new LeaseRenewals(maxBatch: 2);
        foreach (var node in new[] { "a", "b", "c" }) renewals.Due(node);
        Assert.Equal(["a", "b"], renewals.TakeBatch(T0));
        renewals.Answered();
        Assert.Equal(["c"], renewals.TakeBatch(T0));
    }

    [Fact]
    public void A_batch_never_answered_is_given_up_after_the_timeout()
    {
        var renewals = new LeaseRenewals();
        renewals.Due("n1");
        Assert.Single(renewals.TakeBatch(T0));
        renewals.Due("n2");
        Assert.Empty(renewals.TakeBatch(T0 + LeaseRenewals.AnswerTimeout - TimeSpan.FromSeconds(1)));
        Assert.Equal(["n2"], renewals.TakeBatch(T0 + LeaseRenewals.AnswerTimeout));
    }
}
