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

/// <summary>Akka's in-memory journal with faults switched on and off per actor system.</summary>
public sealed class FlakyJournal : MemoryJournal
{
    private static readonly ConcurrentDictionary<string, JournalFault> Faults = new();

    public const string Hocon = """
        akka.persistence.journal.plugin = "akka.persistence.journal.flaky"
        akka.persistence.journal.flaky {
          class = "Orchestrator.Master.Tests.Store.Support.FlakyJournal, Orchestrator.Master.Tests"
          plugin-dispatcher = "akka.actor.default-dispatcher"
        }
        akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.inmem"

        """;

    public static void Set(ActorSystem system, JournalFault fault) => Faults[system.Name] = fault;

    protected override async Task<IImmutableList<Exception?>> WriteMessagesAsync(IEnumerable<AtomicWrite> messages, CancellationToken cancellationToken)
    {
        switch (Faults.GetValueOrDefault(Context.System.Name))
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
