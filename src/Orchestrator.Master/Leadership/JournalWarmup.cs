using Akka.Actor;
using Akka.Event;
using Akka.Persistence;

namespace Orchestrator.Master.Leadership;

/// <summary>
/// Readies the journal plugin on a master that does not hold the control plane, so that taking it over is quick: a
/// persistent actor that recovers a persistenceId nobody writes ("journal-warmup") through the same journal and
/// snapshot store as the object store, then stops. That starts the plugin, opens its first PostgreSQL connections and
/// runs (and compiles) its recovery queries, which a master's first recovery otherwise pays for at failover: the store
/// of a new leader took 3–4.7 s to recover a few dozen objects on a busy 2-core lab. It only reads.
/// </summary>
internal sealed class JournalWarmup : ReceivePersistentActor
{
    public const string ActorName = "journal-warmup";

    /// <summary>After the master is Up, and later still, so that the first master has created the tables.</summary>
    public static readonly TimeSpan Delay = TimeSpan.FromSeconds(5);

    private readonly ILoggingAdapter _log = Context.GetLogger();

    public override string PersistenceId => ActorName;

    public JournalWarmup()
    {
        Recover<RecoveryCompleted>(_ =>
        {
            _log.Debug("journal plugin ready (recovered {0} in {1})", PersistenceId, ActorName);
            Context.Stop(Self);
        });
        Recover<object>(_ => { });
        CommandAny(_ => { });
    }

    protected override void OnRecoveryFailure(Exception reason, object? message = null) =>
        _log.Warning("could not read the journal ahead of a failover ({0}); the store will open it when this master takes over", reason.Message);

    /// <summary>Starts the warm-up <see cref="Delay"/> after this master is Up.
    /// (A top-level actor on purpose: it belongs to no other actor and stops itself.)</summary>
    public static void ScheduleOnMemberUp(ActorSystem system) =>
        Akka.Cluster.Cluster.Get(system).RegisterOnMemberUp(() =>
#pragma warning disable AK1008 // called from the host's start-up, not from inside this actor
            system.Scheduler.Advanced.ScheduleOnce(Delay, () => system.ActorOf(Props.Create(() => new JournalWarmup()), ActorName)));
#pragma warning restore AK1008
}
