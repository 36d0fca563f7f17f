using Akka.Actor;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Tests.Controllers.Support;

/// <summary>Stands in front of a store: forwards everything (the store answers the original sender) and echoes
/// every write request to a probe, so tests can assert what a controller wrote.</summary>
public sealed class RecordingStoreProxy : ReceiveActor
{
    public RecordingStoreProxy(IActorRef target, IActorRef writes)
    {
        ReceiveAny(message =>
        {
            if (message is CreateObject or UpdateObject or DeleteObject or WriteObjects) writes.Tell(message);
            target.Forward(message);
        });
    }

    public static Props Props(IActorRef target, IActorRef writes) =>
        Akka.Actor.Props.Create(() => new RecordingStoreProxy(target, writes));
}
