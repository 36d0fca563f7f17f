using k8s.Models;
using Orchestrator.Master.Controllers.Deployments;
using Xunit;
using static Orchestrator.Master.Tests.Controllers.Support.Objects;

namespace Orchestrator.Master.Tests.Controllers;

public sealed class DeploymentStatusCalculatorTests
{
    private static V1ReplicaSet WithStatus(V1ReplicaSet rs, int replicas, int ready, int available)
    {
        rs.Status = new V1ReplicaSetStatus { Replicas = replicas, ReadyReplicas = ready, AvailableReplicas = available };
        return rs;
    }

    [Fact]
    public void A_finished_rollout_is_available_and_has_successfully_progressed()
    {
        var d = Deployment("webapp1", 3, "webapp1");
        d.Metadata.Generation = 2;
        var rs = WithStatus(ReplicaSet("webapp1-abc", 3), 3, 3, 3);
        var now = new DateTime(2025, 1, 1, 0, 0, 0, DateTimeKind.Utc);

        var status = DeploymentStatusCalculator.Calculate(d, rs, [rs], new Dictionary<string, int> { ["webapp1-abc"] = 3 }, false, now);

        Assert.Equal((2L, 3, 3, 3, 3, 0), (status.ObservedGeneration ?? 0, status.Replicas ?? 0, status.UpdatedReplicas ?? 0,
            status.ReadyReplicas ?? 0, status.AvailableReplicas ?? 0, status.UnavailableReplicas ?? 0));
        Assert.Collection(status.Conditions,
            c => Assert.Equal(("Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability."),
                (c.Type, c.Status, c.Reason, c.Message)),
            c => Assert.Equal(("Progressing", "True", "NewReplicaSetAvailable", "ReplicaSet \"webapp1-abc\" has successfully progressed."),
                (c.Type, c.Status, c.Reason, c.Message)));
    }

    [Fact]
    public void Without_available_pods_the_deployment_lacks_minimum_availability_and_keeps_transition_times()
    {
        var d = Deployment("webapp1", 1, "webapp1");
        d.Spec.Strategy = new V1DeploymentStrategy { Type = "Recreate" };
        var rs = WithStatus(ReplicaSet("webapp1-abc", 1), 1, 0, 0);
        var first = new DateTime(2025, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        d.Status = DeploymentStatusCalculator.Calculate(d, rs, [rs], new Dictionary<string, int>(), false, first);

        var later = DeploymentStatusCalculator.Calculate(d, rs, [rs], new Dictionary<string, int>(), false, first.AddMinutes(1));

        var available = later.Conditions.Single(c => c.Type == "Available");
        Assert.Equal(("False", "MinimumReplicasUnavailable", first), (available.Status, available.Reason, available.LastTransitionTime!.Value));
        Assert.Equal(1, later.UnavailableReplicas);
    }

    [Fact]
    public void A_rollout_without_progress_past_its_deadline_is_ProgressDeadlineExceeded()
    {
        var d = Deployment("webapp1", 2, "webapp1");
        d.Spec.ProgressDeadlineSeconds = 30;
        var rs = WithStatus(ReplicaSet("webapp1-abc", 2), 2, 0, 0);
        var planned = new Dictionary<string, int> { ["webapp1-abc"] = 2 };
        var start = new DateTime(2025, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        d.Status = DeploymentStatusCalculator.Calculate(d, rs, [rs], planned, true, start);

        d.Status = DeploymentStatusCalculator.Calculate(d, rs, [rs], planned, false, start.AddSeconds(20));
        Assert.Equal("NewReplicaSetCreated", d.Status.Conditions.Single(c => c.Type == "Progressing").Reason);
        Assert.Equal(TimeSpan.FromSeconds(10), DeploymentStatusCalculator.UntilDeadline(d, d.Status, start.AddSeconds(20)));

        var late = DeploymentStatusCalculator.Calculate(d, rs, [rs], planned, false, start.AddSeconds(31));

        var progressing = late.Conditions.Single(c => c.Type == "Progressing");
        Assert.Equal(("False", "ProgressDeadlineExceeded", "ReplicaSet \"webapp1-abc\" has timed out progressing."),
            (progressing.Status, progressing.Reason, progressing.Message));
        Assert.Null(DeploymentStatusCalculator.UntilDeadline(d, late, start.AddSeconds(31)));
    }

    [Fact]
    public void A_paused_deployment_is_Progressing_Unknown_until_resumed()
    {
        var d = Deployment("webapp1", 1, "webapp1");
        d.Metadata.Generation = 1;
        var rs = WithStatus(ReplicaSet("webapp1-abc", 1), 1, 1, 1);
        var planned = new Dictionary<string, int> { ["webapp1-abc"] = 1 };
        var now = new DateTime(2025, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        d.Spec.Paused = true;

        d.Status = DeploymentStatusCalculator.Calculate(d, rs, [rs], planned, false, now);
        Assert.Equal(("Unknown", "DeploymentPaused"), d.Status.Conditions.Where(c => c.Type == "Progressing").Select(c => (c.Status, c.Reason)).Single());

        d.Spec.Paused = false;
        d.Status = DeploymentStatusCalculator.Calculate(d, rs, [rs], planned, false, now.AddSeconds(5));
        Assert.Equal(("Unknown", "DeploymentResumed"), d.Status.Conditions.Where(c => c.Type == "Progressing").Select(c => (c.Status, c.Reason)).Single());

        d.Status = DeploymentStatusCalculator.Calculate(d, rs, [rs], planned, false, now.AddSeconds(6));
        Assert.Equal("NewReplicaSetAvailable", d.Status.Conditions.Single(c => c.Type == "Progressing").Reason);
    }

    [Fact]
    public void A_replica_set_failure_is_copied_into_the_deployment_and_removed_when_it_clears()
    {
        var d = Deployment("webapp1", 2, "webapp1");
        var rs = WithStatus(ReplicaSet("webapp1-abc", 2), 0, 0, 0);
        var failedAt = new DateTime(2025, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        rs.Status.Conditions = [new V1ReplicaSetCondition
        {
            Type = "ReplicaFailure", Status = "True", Reason = "FailedCreate", LastTransitionTime = failedAt,
            Message = "pods \"webapp1-abc-x\" is forbidden: exceeded quota: pods, requested: pods=1, used: pods=2, limited: pods=2",
        }];
        var planned = new Dictionary<string, int> { ["webapp1-abc"] = 2 };

        d.Status = DeploymentStatusCalculator.Calculate(d, rs, [rs], planned, false, failedAt.AddSeconds(5));

        var failure = d.Status.Conditions.Single(c => c.Type == "ReplicaFailure");
        Assert.Equal(("True", "FailedCreate", rs.Status.Conditions[0].Message, failedAt, failedAt),
            (failure.Status, failure.Reason, failure.Message, failure.LastTransitionTime!.Value, failure.LastUpdateTime!.Value));
        Assert.Equal(["Available", "Progressing", "ReplicaFailure"], d.Status.Conditions.Select(c => c.Type));

        rs.Status.Conditions = null;
        var cleared = DeploymentStatusCalculator.Calculate(d, rs, [rs], planned, false, failedAt.AddSeconds(10));
        Assert.DoesNotContain(cleared.Conditions, c => c.Type == "ReplicaFailure");
    }
}
