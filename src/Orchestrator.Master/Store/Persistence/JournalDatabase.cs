using System.Data.Common;

namespace Orchestrator.Master.Store.Persistence;

/// <summary>
/// Where the store's journal and snapshots live (Akka.Persistence.Sql's "journal" and "snapshot" tables): the
/// embedded SQLite file (<see cref="SqliteJournalFile"/>, the default) or a PostgreSQL database
/// (<see cref="PostgresJournalDatabase"/>, <c>--datastore-endpoint</c>, through Akka.Persistence.Sql). The store's
/// journal writer and the start-up check see only this.
/// </summary>
internal abstract class JournalDatabase
{
    /// <summary>How messages name it: the file's path, or the endpoint without its password.</summary>
    public abstract string Name { get; }

    /// <summary>"file" or "database", in advice such as "restore the file from a backup".</summary>
    public abstract string Noun { get; }

    /// <summary>Creates what must exist before Akka opens it, and brings it to the settings the store needs.
    /// Throws <see cref="JournalUnavailableException"/> when it cannot be reached at all.</summary>
    public abstract void Prepare();

    /// <summary>A new open connection, for the start-up check.</summary>
    public abstract DbConnection Open();

    /// <summary>False when there is certainly nothing to read yet (checked without opening, which would create a file).</summary>
    public virtual bool Exists() => true;

    /// <summary>Whether there is anything recovery would read (false before the first start).</summary>
    public abstract bool HasJournal(DbConnection connection);

    /// <summary>The database's own check of its structure: null when sound, else what is wrong.</summary>
    public virtual string? CheckStructure(DbConnection connection) => null;

    /// <summary>Makes this process the journal's only writer before its first writer recovers (several masters share a
    /// PostgreSQL journal: see <see cref="PostgresJournalDatabase.ClaimWriter"/>); a journal only this process opens
    /// needs nothing. Throws when the claim cannot be made (the writer then fails and is started again). Returns the
    /// sessions of a stalled old writer the claim ended (empty: none).</summary>
    public virtual IReadOnlyList<string> ClaimWriter() => [];

    /// <summary>After compaction: gives back the space deleted records held.</summary>
    public abstract void Shrink();

    /// <summary>The bytes the journal and snapshots take.</summary>
    public abstract long Bytes();
}

/// <summary>The journal's database cannot be reached (a refused connection, a wrong password); the message is one line
/// that names it without secrets.</summary>
internal sealed class JournalUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
