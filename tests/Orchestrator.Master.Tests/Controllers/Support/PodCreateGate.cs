using Akka.Actor;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Tests.Controllers.Support;

/// <summary>Stands in front of a store and holds every pod create until the test answers it: <see cref="Answer"/>
/// passes the oldest held creates on to the store and refuses the next ones with 429, as a full store does.
/// Everything else goes straight through. <see cref="CountHeld"/> is answered with the number held.</summary>
public sealed class PodCreateGate : ReceiveActor
{
    public sealed record Answer(int Accept, int Refuse = 0);

    public sealed record CountHeld;

    private readonly Queue<(CreateObject Request, IActorRef Sender)> _held = new();

    public PodCreateGate(IActorRef target)
    {
        Receive<CreateObject>(c => c.Resource == "pods", c => _held.Enqueue((c, Sender)));
        Receive<CountHeld>(_ => Sender.Tell(_held.Count));
        Receive<Answer>(a =>
        {
            for (var i = 0; i < a.Accept && _held.TryDequeue(out var held); i++) target.Tell(held.Request, held.Sender);
            for (var i = 0; i < a.Refuse && _held.TryDequeue(out var held); i++)
                held.Sender.Tell(new StoreFailed(StoreErrors.TooManyRequests()));
        });
        ReceiveAny(message => target.Forward(message));
    }

    public static Props Props(IActorRef target) => Akka.Actor.Props.Create(() => new PodCreateGate(target));
}
