using Orchestrator.Master.Controllers.ReplicaSets;
using Xunit;
using static Orchestrator.Master.Tests.Controllers.Support.Objects;

namespace Orchestrator.Master.Tests.Controllers;

public sealed class PodDeletionRankingTests
{
    [Fact]
    public void Unscheduled_pending_not_ready_and_younger_pods_go_first()
    {
        var now = DateTime.UtcNow;
        var pods = new[]
        {
            Pod("running-ready-old", nodeName: "n1", phase: "Running", ready: true, created: now.AddHours(-2), readySince: now.AddHours(-2)),
            Pod("running-ready-young", nodeName: "n1", phase: "Running", ready: true, created: now.AddHours(-1), readySince: now.AddHours(-2)),
            Pod("running-not-ready", nodeName: "n1", phase: "Running", ready: false, created: now.AddHours(-3)),
            Pod("unknown", nodeName: "n1", phase: "Unknown", created: now.AddHours(-3)),
            Pod("pending", nodeName: "n1", phase: "Pending", created: now.AddHours(-3)),
            Pod("unscheduled", phase: "Pending", created: now.AddHours(-3)),
        };

        var order = PodDeletionRanking.PickForDeletion(pods.Reverse(), pods.Length).Select(p => p.Metadata.Name);

        Assert.Equal(["unscheduled", "pending", "unknown", "running-not-ready", "running-ready-young", "running-ready-old"], order);
    }
}
