using System.Collections.Concurrent;
using System.Collections.Immutable;
using Akka.Actor;
using Akka.Persistence;
using Akka.Persistence.Journal;

namespace Orchestrator.Master.Tests.Store.Support;

/// <summary>How the <see cref="FlakyJournal"/> of one actor system treats writes.</summary>
public enum JournalFault
{
    None,

    /// <summary>Writes fail and store nothing (a full disk).</summary>
    Refuse,

    /// <summary>Writes are stored but reported as failed (the commit reached the disk, the answer did not).</summary>
    StoreThenFail,
}

/// <summary>Akka's in-memory journal with faults switched on and off per actor system; writes can be held at a
/// gate (<see cref="Hold"/>) and each write's records are counted (<see cref="Writes"/>).</summary>
public sealed class FlakyJournal : MemoryJournal
{
    private static readonly ConcurrentDictionary<string, JournalFault> Faults = new();
    private static readonly ConcurrentDictionary<string, SemaphoreSlim> Gates = new();
    private static readonly ConcurrentDictionary<string, ConcurrentQueue<int[]>> Written = new();

    public const string Hocon = """
        akka.persistence.journal.plugin = "akka.persistence.journal.flaky"
        akka.persistence.journal.flaky {
          class = "Orchestrator.Master.Tests.Store.Support.FlakyJournal, Orchestrator.Master.Tests"
          plugin-dispatcher = "akka.actor.default-dispatcher"
        }
        akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.inmem"

        """;

    public static void Set(ActorSystem system, JournalFault fault) => Faults[system.Name] = fault;

    /// <summary>From now on every write waits until <see cref="Release"/> lets it through (one per call).</summary>
    public static void Hold(ActorSystem system) => Gates[system.Name] = new SemaphoreSlim(0);

    public static void Release(ActorSystem system) => Gates[system.Name].Release();

    /// <summary>Writes go through again without waiting.</summary>
    public static void Open(ActorSystem system)
    {
        if (Gates.TryRemove(system.Name, out var gate)) gate.Release(1000);
    }

    /// <summary>Every write (WriteMessagesAsync call) so far, as the number of records of each of its atomic writes.</summary>
    public static IReadOnlyList<int[]> Writes(ActorSystem system) => Written.GetValueOrDefault(system.Name)?.ToList() ?? [];

    protected override async Task<IImmutableList<Exception?>> WriteMessagesAsync(IEnumerable<AtomicWrite> messages, CancellationToken cancellationToken)
    {
        var system = Context.System.Name; // no actor context after an await
        if (Gates.TryGetValue(system, out var gate)) await gate.WaitAsync(cancellationToken);
        messages = messages.ToList();
        Written.GetOrAdd(system, _ => new ConcurrentQueue<int[]>()).Enqueue(messages.Select(m => m.Size).ToArray());
        switch (Faults.GetValueOrDefault(system))
        {
            case JournalFault.Refuse:
                throw new IOException("No space left on device (test)");
            case JournalFault.StoreThenFail:
                await base.WriteMessagesAsync(messages, cancellationToken);
                throw new IOException("the answer from the disk was lost (test)");
            default:
                return await base.WriteMessagesAsync(messages, cancellationToken);
        }
    }
}
