using System.Security.Cryptography.X509Certificates;
using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Data;
using LinqToDB.Mapping;
using Orchestrator.Master.Api.Security;
using Orchestrator.Master.Store.Persistence;

namespace Orchestrator.Master;

/// <summary>
/// Start-up work done ahead, on a thread of its own, while the main thread builds the host and the actor system
/// (issue 19). A master's start is mostly one thread of JIT and type initialisation until its actor system runs, so
/// the second core is idle for the first seconds; after it, the store's recovery (Akka.Persistence.Sql: linq2db's
/// mapping, its SQLite or PostgreSQL provider, its query translation and compilation, all on first use) and Kestrel's
/// HTTPS set-up (a chain build that reads every certificate of the machine's trust store) came one beside the other
/// on the critical path. Done here first, what they need is compiled and cached when they get to it:
/// <list type="bullet">
/// <item>the machine's trust store, which .NET loads once and keeps (a chain build of the cluster CA, read-only);</item>
/// <item>linq2db against the store's own journal and snapshot tables: the queries recovery runs (the newest snapshot,
/// the highest sequence number, records after it), read-only, on a connection of their own.</item>
/// </list>
/// Nothing here changes what the master does or decides; a failure is ignored (the real start meets and reports the
/// same problem), and the master never waits for this.
/// </summary>
internal static class StartupWarmup
{
    /// <summary>Starts the warm-up; call once the store's database is prepared and checked
    /// (<see cref="Store.ObjectStoreHosting.PrepareStore"/>), which also made the data directory private.
    /// <paramref name="journal"/>: the store's database when the store starts at once on this master, else null
    /// (several masters: the store starts on one of them later; <see cref="Leadership.JournalWarmup"/> readies it).</summary>
    public static void Start(string dataDirectory, JournalDatabase? journal)
    {
        var thread = new Thread(() =>
        {
            TrustStore(dataDirectory);
            if (journal is not null) Journal(journal);
        })
        {
            IsBackground = true,
            Name = "startup-warmup",
        };
        thread.Start();
    }

    private static void TrustStore(string dataDirectory)
    {
        try
        {
            var path = Path.Combine(dataDirectory, ServingCertificates.CaCertificateFile);
            if (!File.Exists(path)) return; // the first start: the CA is made on the main thread
            using var ca = X509Certificate2.CreateFromPem(File.ReadAllText(path));
            using var chain = new X509Chain();
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            chain.ChainPolicy.DisableCertificateDownloads = true;
            chain.Build(ca);
        }
        catch (Exception)
        {
            // only a warm-up: Kestrel builds its own chain and reports what it meets
        }
    }

    private static void Journal(JournalDatabase journal)
    {
        try
        {
            using var db = new DataConnection(journal.DataOptions());
            const string id = JournalCheck.PersistenceId;
            _ = db.GetTable<SnapshotRow>().Where(r => r.PersistenceId == id && r.SequenceNumber <= long.MaxValue)
                .OrderByDescending(r => r.SequenceNumber).FirstOrDefaultAsync().GetAwaiter().GetResult();
            var highest = db.GetTable<JournalRow>().Where(r => r.PersistenceId == id && r.SequenceNumber >= 0)
                .Select(r => (long?)r.SequenceNumber).MaxAsync().GetAwaiter().GetResult() ?? 0;
            // the replay's shape, past the end: it reads nothing
            _ = db.GetTable<JournalRow>().Where(r => r.PersistenceId == id && r.SequenceNumber > highest && r.SequenceNumber <= long.MaxValue && !r.Deleted)
                .OrderBy(r => r.SequenceNumber).Take(500).ToListAsync().GetAwaiter().GetResult();
        }
        catch (Exception)
        {
            // only a warm-up (before the first start there are no tables): the store's recovery reports what it meets
        }
    }

    /// <summary>Akka.Persistence.Sql's journal table (its default column names), as far as recovery reads it.</summary>
    [Table("journal")]
    private sealed class JournalRow
    {
        [Column("ordering")] public long Ordering { get; set; }
        [Column("deleted")] public bool Deleted { get; set; }
        [Column("persistence_id")] public string PersistenceId { get; set; } = "";
        [Column("sequence_number")] public long SequenceNumber { get; set; }
        [Column("created")] public long Created { get; set; }
        [Column("message")] public byte[] Message { get; set; } = [];
        [Column("manifest")] public string? Manifest { get; set; }
        [Column("identifier")] public int? Identifier { get; set; }
    }

    /// <summary>Its snapshot table.</summary>
    [Table("snapshot")]
    private sealed class SnapshotRow
    {
        [Column("persistence_id")] public string PersistenceId { get; set; } = "";
        [Column("sequence_number")] public long SequenceNumber { get; set; }
        [Column("created")] public long Created { get; set; }
        [Column("snapshot")] public byte[] Snapshot { get; set; } = [];
        [Column("manifest")] public string? Manifest { get; set; }
        [Column("serializer_id")] public int? SerializerId { get; set; }
    }
}
