using Akka.Actor;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Store;

/// <summary>
/// The leader's end of one replica's change stream, a child of the ObjectStore: it takes a snapshot of the state and a
/// subscription to every change in one step from the store, and sends them to the replica as numbered messages
/// (ReplicationProtocol.cs), then each change as it is published, and the store's resourceVersion when the
/// replica asks. It keeps nothing but the next sequence number; it stops when the replica stops or asks it to.
/// </summary>
internal sealed class ReplicationFeed : ReceiveActor
{
    /// <summary>JSON per snapshot part: well under remoting's 16 MiB frame, and one object is at most 1.5 MiB.</summary>
    private const int PartBytes = 4 * 1024 * 1024;

    private readonly IActorRef _replica;
    private long _sequence;

    public ReplicationFeed(IActorRef replica)
    {
        _replica = replica;
        Receive<StateSnapshot>(SendSnapshot);
        Receive<ObjectChanged>(c => _replica.Tell(new ChangeReplicated(++_sequence, c.Type, c.Resource, KubeObjects.Serialize(c.Object), c.ResourceVersion)));
        Receive<ProgressRequested>(_ => Context.Parent.Tell(GetResourceVersion.Instance));
        Receive<ResourceVersionIs>(rv => _replica.Tell(new ProgressReported(++_sequence, rv.ResourceVersion)));
        Receive<StopReplication>(_ => Context.Stop(Self));
        Receive<Terminated>(_ => Context.Stop(Self));
    }

    public static Props Props(IActorRef replica) => Akka.Actor.Props.Create(() => new ReplicationFeed(replica));

    protected override void PreStart()
    {
        Context.Watch(_replica);
        Context.Parent.Tell(SnapshotState.Instance);
    }

    private void SendSnapshot(StateSnapshot snapshot)
    {
        var part = new List<ReplicatedObject>();
        var bytes = 0;
        foreach (var (resource, obj) in snapshot.Objects)
        {
            var json = KubeObjects.Serialize(obj);
            if (part.Count > 0 && bytes + json.Length > PartBytes)
            {
                _replica.Tell(new SnapshotPart(++_sequence, part));
                part = [];
                bytes = 0;
            }
            part.Add(new ReplicatedObject(resource, json));
            bytes += json.Length;
        }
        if (part.Count > 0) _replica.Tell(new SnapshotPart(++_sequence, part));
        _replica.Tell(new SnapshotDone(++_sequence, snapshot.ResourceVersion));
    }
}
