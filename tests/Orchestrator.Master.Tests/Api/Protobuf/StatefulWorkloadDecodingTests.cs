using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s.Models;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Protobuf;

/// <summary>StatefulSet, DaemonSet and ControllerRevision bodies as client-go's protobuf clients send them (their
/// controllers write status through the status subresource so too), hand-encoded with Kubernetes' field numbers.</summary>
public class StatefulWorkloadDecodingTests
{
    private static ProtoWriter Template(string app) => new ProtoWriter()
        .Message(1, m => m.Entry(11, "app", app)) // metadata.labels
        .Message(2, s => s.Message(2, c => c.String(1, "c").String(2, "img"))); // spec.containers

    private static ProtoWriter Condition(string type, string reason) => new ProtoWriter()
        .String(1, type).String(2, "True").Message(3, t => t.Varint(1, 1_764_000_000)).String(4, reason).String(5, "m");

    private static V1StatefulSet DecodeStatefulSet() => Fixtures.Decode<V1StatefulSet>(ProtoWriter.Envelope(
        "apps/v1", "StatefulSet", new ProtoWriter()
            .Message(1, m => m.String(1, "db").String(3, "default"))
            .Message(2, s => s
                .Varint(1, 0) // replicas: a pointer, so zero is set
                .Message(2, sel => sel.Entry(1, "app", "db")) // selector.matchLabels
                .Message(3, Template("db"))
                .Message(4, pvc => pvc // volumeClaimTemplates[0]: a PersistentVolumeClaim
                    .Message(1, m => m.String(1, "data"))
                    .Message(2, spec => spec
                        .String(1, "ReadWriteOnce") // accessModes
                        .Message(2, r => r.QuantityEntry(2, "storage", "1Gi")) // resources.requests
                        .String(5, "") // storageClassName: a pointer, "" is set
                        .String(6, "Filesystem"))) // volumeMode
                .String(5, "db-headless") // serviceName
                .String(6, "Parallel") // podManagementPolicy
                .Message(7, u => u.String(1, "RollingUpdate") // updateStrategy {type, rollingUpdate {partition, maxUnavailable}}
                    .Message(2, ru => ru.Varint(1, 0).Str(2, "50%")))
                .Varint(8, 3) // revisionHistoryLimit
                .Varint(9, 10) // minReadySeconds
                .Message(10, p => p.String(1, "Delete").String(2, "Retain")) // persistentVolumeClaimRetentionPolicy
                .Message(11, o => o.Varint(1, 5))) // ordinals.start
            .Message(3, st => st
                .Varint(1, 4) // observedGeneration
                .Varint(2, 2).Varint(3, 1).Varint(4, 2).Varint(5, 1) // replicas, ready, current, updated
                .String(6, "db-7c9").String(7, "db-8d1") // currentRevision, updateRevision
                .Varint(9, 0) // collisionCount: a pointer
                .Message(10, Condition("Ready", "AllReady"))
                .Varint(11, 1)))); // availableReplicas

    [Fact]
    public void A_stateful_set_spec_keeps_its_claims_strategy_policy_and_ordinals()
    {
        var set = DecodeStatefulSet();
        var spec = set.Spec;

        Assert.Equal(("apps/v1", "StatefulSet", "db", "default"), (set.ApiVersion, set.Kind, set.Metadata.Name, set.Metadata.NamespaceProperty));
        Assert.Equal(0, spec.Replicas);
        Assert.Equal("db", spec.Selector.MatchLabels["app"]);
        Assert.Equal("img", Assert.Single(spec.Template.Spec.Containers).Image);
        Assert.Equal(("db-headless", "Parallel", 3, 10), (spec.ServiceName, spec.PodManagementPolicy, spec.RevisionHistoryLimit, spec.MinReadySeconds));
        Assert.Equal("RollingUpdate", spec.UpdateStrategy.Type);
        Assert.Equal(0, spec.UpdateStrategy.RollingUpdate.Partition);
        Assert.Equal("50%", spec.UpdateStrategy.RollingUpdate.MaxUnavailable?.Value);
        Assert.Equal(("Delete", "Retain"), (spec.PersistentVolumeClaimRetentionPolicy.WhenDeleted, spec.PersistentVolumeClaimRetentionPolicy.WhenScaled));
        Assert.Equal(5, spec.Ordinals.Start);
        var claim = Assert.Single(spec.VolumeClaimTemplates);
        Assert.Equal("data", claim.Metadata.Name);
        Assert.Equal(["ReadWriteOnce"], claim.Spec.AccessModes);
        Assert.Equal("1Gi", claim.Spec.Resources.Requests["storage"].ToString());
        Assert.Equal("", claim.Spec.StorageClassName);
        Assert.Equal("Filesystem", claim.Spec.VolumeMode);
    }

    [Fact]
    public void A_stateful_set_status_is_decoded_for_its_status_subresource()
    {
        var status = DecodeStatefulSet().Status;

        Assert.Equal((4L, 2, 1, 2, 1, 1), (status.ObservedGeneration, status.Replicas, status.ReadyReplicas, status.CurrentReplicas,
            status.UpdatedReplicas, status.AvailableReplicas));
        Assert.Equal(("db-7c9", "db-8d1", 0), (status.CurrentRevision, status.UpdateRevision, status.CollisionCount));
        var condition = Assert.Single(status.Conditions);
        Assert.Equal(("Ready", "True", "AllReady", "m"), (condition.Type, condition.Status, condition.Reason, condition.Message));
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_764_000_000).UtcDateTime, condition.LastTransitionTime);
    }

    [Fact]
    public void A_daemon_set_keeps_its_update_strategy_pointers_and_status()
    {
        var set = Fixtures.Decode<V1DaemonSet>(ProtoWriter.Envelope("apps/v1", "DaemonSet", new ProtoWriter()
            .Message(1, m => m.String(1, "agent").String(3, "kube-system"))
            .Message(2, s => s
                .Message(1, sel => sel.Entry(1, "app", "agent")) // selector
                .Message(2, Template("agent"))
                .Message(3, u => u.String(1, "RollingUpdate").Message(2, ru => ru.Int(1, 0).Str(2, "10%")))
                .Varint(4, 7) // minReadySeconds
                .Varint(6, 0)) // revisionHistoryLimit: a pointer
            .Message(3, st => st
                .Varint(1, 3).Varint(2, 1).Varint(3, 4).Varint(4, 2) // currentNumberScheduled, numberMisscheduled, desired, ready
                .Varint(5, 9).Varint(6, 3).Varint(7, 2).Varint(8, 2) // observedGeneration, updated, available, unavailable
                .Varint(9, 1) // collisionCount
                .Message(10, Condition("Progressing", "Rolling")))));

        var spec = set.Spec;
        Assert.Equal("agent", spec.Selector.MatchLabels["app"]);
        Assert.Equal("agent", spec.Template.Metadata.Labels["app"]);
        Assert.Equal("RollingUpdate", spec.UpdateStrategy.Type);
        Assert.Equal("0", spec.UpdateStrategy.RollingUpdate.MaxUnavailable?.Value);
        Assert.Equal("10%", spec.UpdateStrategy.RollingUpdate.MaxSurge?.Value);
        Assert.Equal((7, 0), (spec.MinReadySeconds, spec.RevisionHistoryLimit));
        var status = set.Status;
        Assert.Equal((3, 1, 4, 2, 9L, 3, 2, 2, 1), (status.CurrentNumberScheduled, status.NumberMisscheduled, status.DesiredNumberScheduled,
            status.NumberReady, status.ObservedGeneration, status.UpdatedNumberScheduled, status.NumberAvailable, status.NumberUnavailable,
            status.CollisionCount));
        Assert.Equal(("Progressing", "Rolling"), (Assert.Single(status.Conditions).Type, status.Conditions[0].Reason));
    }

    [Fact]
    public void A_controller_revision_keeps_its_raw_json_data_and_revision()
    {
        const string data = """{"spec":{"template":{"$patch":"replace","spec":{"containers":[{"name":"c","image":"img:2"}]}}}}""";
        var revision = Fixtures.Decode<V1ControllerRevision>(ProtoWriter.Envelope("apps/v1", "ControllerRevision", new ProtoWriter()
            .Message(1, m => m.String(1, "db-8d1").String(3, "default").Entry(11, "controller-revision-hash", "8d1"))
            .Message(2, raw => raw.Bytes(1, Encoding.UTF8.GetBytes(data))) // data: a RawExtension
            .Varint(3, 2))); // revision

        Assert.Equal(("db-8d1", "8d1"), (revision.Metadata.Name, revision.Metadata.Labels["controller-revision-hash"]));
        Assert.Equal(2, revision.Revision);
        var decoded = JsonNode.Parse(JsonSerializer.Serialize(revision.Data))!;
        Assert.Equal("replace", decoded["spec"]!["template"]!["$patch"]!.ToString());
        Assert.Equal("img:2", decoded["spec"]!["template"]!["spec"]!["containers"]![0]!["image"]!.ToString());
    }
}
