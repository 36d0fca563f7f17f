using k8s.Models;
using Orchestrator.Master.Controllers;
using Xunit;

namespace Orchestrator.Master.Tests.Controllers;

/// <summary>deployment.kubernetes.io/revision-history on a ReplicaSet that a rollback makes new again.</summary>
public sealed class DeploymentRevisionHistoryTests
{
    private static V1ReplicaSet Rs(string revision, string? history = null)
    {
        var annotations = new Dictionary<string, string> { [DeploymentController.RevisionAnnotation] = revision };
        if (history is not null) annotations[DeploymentController.RevisionHistoryAnnotation] = history;
        return new V1ReplicaSet { Metadata = new V1ObjectMeta { Name = "web-1", Annotations = annotations } };
    }

    [Fact]
    public void A_rollback_records_the_former_revisions_oldest_first()
    {
        Assert.Equal("1", DeploymentController.RevisionHistory(Rs("1"), 3));
        Assert.Equal("1,3", DeploymentController.RevisionHistory(Rs("3", "1"), 5));
    }

    [Fact]
    public void Nothing_is_recorded_when_the_revision_does_not_grow()
    {
        Assert.Null(DeploymentController.RevisionHistory(Rs("3", "1"), 3));
        Assert.Null(DeploymentController.RevisionHistory(new V1ReplicaSet { Metadata = new V1ObjectMeta() }, 2));
    }

    [Fact]
    public void The_history_keeps_at_most_2000_characters_dropping_the_oldest()
    {
        var long_ = string.Join(",", Enumerable.Range(1000, 400)); // 1999 characters
        var history = DeploymentController.RevisionHistory(Rs("5000", long_), 5001)!;
        Assert.True(history.Length <= 2000);
        Assert.EndsWith(",5000", history);
        Assert.DoesNotContain("1000,", history);
    }
}
