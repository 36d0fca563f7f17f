using Akka.Actor;
using Akka.Event;
using Orchestrator.Master.Store.Encryption;

namespace Orchestrator.Master.Store.Persistence;

/// <summary>
/// What both journal writers (<see cref="SqliteJournalWriter"/> on the file, <see cref="JournalWriter"/> on PostgreSQL)
/// do alike with the values they store and read back: the encryption provider config applied on the way in and out —
/// noting whether a value read back was written under a provider that is no longer the first (the store then writes it
/// again) — and how they fail and name a failure.
/// </summary>
internal sealed class StoredValues(StorageTransformer transformer)
{
    /// <summary>Some value read back was stored under an older provider.</summary>
    public bool RewriteNeeded { get; private set; }

    public SnapshotObject FromStorage(SnapshotObject o) => o with { Json = FromStorage(o.Resource, o.Json) };

    public string FromStorage(string resource, string stored)
    {
        var json = transformer.FromStorage(resource, stored, out var stale);
        RewriteNeeded |= stale;
        return json;
    }

    /// <summary>A journal record's UTF-8 text as read back (see <see cref="FromStorage(string, string)"/>).</summary>
    public byte[] FromStorage(string resource, byte[] stored)
    {
        var json = transformer.FromStorage(resource, stored, out var stale);
        RewriteNeeded |= stale;
        return json;
    }

    public SnapshotObject ToStorage(SnapshotObject o) => o with { Json = transformer.ToStorage(o.Resource, o.Json) };

    public IStoreRecord ToStorage(IStoreRecord record) =>
        record is ObjectPut put && transformer.ToStorage(put.Resource, put.Json) is var stored && !ReferenceEquals(stored, put.Json)
            ? put with { Json = stored }
            : record;

    public static long ResourceVersionOf(IStoreRecord record) => record switch
    {
        ObjectPut p => p.ResourceVersion,
        ObjectRemoved r => r.ResourceVersion,
        _ => 0,
    };

    /// <summary>A writer's end: it tells its parent why and stops (the parent starts another with back-off).</summary>
    public static void Fail(IActorContext context, ILoggingAdapter log, string reason)
    {
        log.Error("The journal writer stops: {0}", reason);
        context.Parent.Tell(new JournalFailed(reason));
        context.Stop(context.Self);
    }

    /// <summary>The innermost message, on one line: "SQLite Error 13: 'database or disk is full'."</summary>
    public static string Reason(Exception e)
    {
        var inner = e;
        while (inner.InnerException is not null) inner = inner.InnerException;
        return string.Join(" ", inner.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }
}
