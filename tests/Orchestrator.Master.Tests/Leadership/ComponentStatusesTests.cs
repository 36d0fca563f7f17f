using Akka.Actor;
using k8s.Models;
using Orchestrator.Master.Leadership;
using Orchestrator.Master.Registry.Kinds.Core;
using Xunit;

namespace Orchestrator.Master.Tests.Leadership;

/// <summary>componentstatuses: each part of the control plane is Healthy when its actors answer, Unhealthy with the
/// reason when one does not, as kube-apiserver reports a failed health probe.</summary>
public sealed class ComponentStatusesTests : Akka.TestKit.Xunit2.TestKit
{
    private sealed class Idle : ReceiveActor;

    private void StartControlPlane(params string[] except)
    {
        foreach (var name in ControlPlaneProbe.Components.SelectMany(c => c.Actors).Distinct().Except(except))
            Sys.ActorOf(Props.Create(() => new Idle()), name);
    }

    private static (string Status, string? Message, string? Error) Healthy(V1ComponentStatus s)
    {
        var c = Assert.Single(s.Conditions);
        Assert.Equal("Healthy", c.Type);
        return (c.Status, c.Message, c.Error);
    }

    [Fact]
    public async Task Every_part_that_answers_is_Healthy_ok()
    {
        StartControlPlane();
        var statuses = await ControlPlaneProbe.ProbeAsync(Sys, null, () => null, CancellationToken.None);
        Assert.Equal(["controller-manager", "scheduler", "store-0"], statuses.Select(s => s.Metadata.Name));
        Assert.All(statuses, s => Assert.Equal(("True", "ok", (string?)null), Healthy(s)));
        Assert.All(statuses, s => Assert.Equal(("v1", "ComponentStatus"), (s.ApiVersion, s.Kind)));
    }

    [Fact]
    public async Task A_part_whose_actor_is_not_running_is_Unhealthy_with_the_reason()
    {
        StartControlPlane(except: "scheduler");
        var statuses = (await ControlPlaneProbe.ProbeAsync(Sys, null, () => null, CancellationToken.None)).ToDictionary(s => s.Metadata.Name);
        Assert.Equal(("False", null, "/user/scheduler is not running"), Healthy(statuses["scheduler"]));
        Assert.Equal("True", Healthy(statuses["controller-manager"]).Status);
    }

    [Fact]
    public async Task A_store_that_is_not_ready_is_Unhealthy_and_one_probe_asks_only_its_part()
    {
        StartControlPlane();
        var store = Assert.Single(await ControlPlaneProbe.ProbeAsync(Sys, null, () => "the journal is not writable", CancellationToken.None,
            only: "store-0"));
        Assert.Equal(("False", null, "the journal is not writable"), Healthy(store));
    }

    [Fact]
    public async Task Without_a_master_holding_the_control_plane_every_part_is_Unhealthy()
    {
        var statuses = await ControlPlaneProbe.ProbeAsync(Sys, new LeaderView(null, null, Reachable: false, IsSelf: false), () => null,
            CancellationToken.None);
        Assert.All(statuses, s => Assert.Equal(("False", null, "no master holds the control plane"), Healthy(s)));
    }

    [Theory]
    [InlineData("True", "Healthy")]
    [InlineData("False", "Unhealthy")]
    public void The_table_shows_the_Healthy_condition(string status, string shown)
    {
        var table = new ComponentStatusTablePrinter();
        Assert.Equal(["Name", "Status", "Message", "Error"], table.Columns.Select(c => c.Name));
        var cs = new V1ComponentStatus
        {
            Metadata = new V1ObjectMeta { Name = "scheduler" },
            Conditions = [new V1ComponentCondition { Type = "Healthy", Status = status, Message = "m", Error = "e" }],
        };
        Assert.Equal(["scheduler", shown, "m", "e"], table.Cells((k8s.IKubernetesObject<V1ObjectMeta>)cs, DateTime.UtcNow));
    }
}
