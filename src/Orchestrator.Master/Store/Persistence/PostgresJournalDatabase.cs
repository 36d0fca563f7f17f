using System.Data.Common;
using LinqToDB;
using Npgsql;

namespace Orchestrator.Master.Store.Persistence;

/// <summary>
/// The store's journal and snapshots in a PostgreSQL database, named by <c>--datastore-endpoint</c> as k3s names it:
/// <c>postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=disable</c> (also <c>postgresql://</c>; port 5432 and
/// database "kubernetes" by default). The database is created when the server has none of that name (as k3s does);
/// Akka.Persistence.Sql creates its tables in it. Messages name the endpoint without its password.
/// </summary>
internal sealed class PostgresJournalDatabase : JournalDatabase
{
    public const string DefaultDatabase = "kubernetes";
    private const string InvalidCatalogName = "3D000";
    private static readonly Dictionary<string, SslMode> SslModes = new()
    {
        ["disable"] = SslMode.Disable, ["allow"] = SslMode.Allow, ["prefer"] = SslMode.Prefer,
        ["require"] = SslMode.Require, ["verify-ca"] = SslMode.VerifyCA, ["verify-full"] = SslMode.VerifyFull,
    };

    /// <summary>The session setting that names the writing process on each of its connections.</summary>
    private const string WriterSetting = "orchestrator.journal_writer";

    /// <summary>The SQLSTATE of a write by a writer that another one replaced.</summary>
    public const string FencedState = "OR001";

    private readonly Lock _gate = new();
    private bool _claimed;

    private PostgresJournalDatabase(string connectionString, string name)
    {
        // Every connection of this process (Akka.Persistence.Sql's pooled ones included) names it as the writer.
        ConnectionString = new NpgsqlConnectionStringBuilder(connectionString) { Options = $"-c {WriterSetting}={WriterId}" }.ConnectionString;
        Name = name;
    }

    /// <summary>This process's (this database object's) name as the journal's writer.</summary>
    public string WriterId { get; } = Guid.NewGuid().ToString("N");

    /// <summary>
    /// The write fence (docs/multi-master.md, "The rule: exactly one writer"): the row <c>journal_writer</c> names the
    /// journal's one writer, and a trigger on the journal refuses, inside the writing transaction, every insert, update
    /// or delete from a session that does not name that writer (SQLSTATE <see cref="FencedState"/>). A new writer claims
    /// the row before it recovers; the claim waits for the batches in flight of the old writer (each holds the row
    /// FOR SHARE until it commits), so recovery reads every batch the old writer committed, and every later batch of
    /// the old writer fails and is never acknowledged — even while two singletons briefly coexist (an old leader
    /// paused during downing). Claimed once per database object, that is per incarnation of the master: a writer that
    /// was fenced and starts again does not take the journal back (its store stays read-only, 503 on writes, until its
    /// master is downed); a downed master's next incarnation makes a new object, a new writer id, and claims only if
    /// the control plane singleton comes to it.
    /// A batch in flight of an old writer that does not end within <see cref="InFlightGrace"/> belongs to a writer that
    /// no longer runs (an old leader paused, SIGSTOP, between its INSERT and its COMMIT: its transaction stays open, and
    /// its FOR SHARE lock with it, until the process runs again): the claim terminates that session (PostgreSQL rolls its
    /// batch back; it was never acknowledged, as its commit had not returned) and claims again. Before, the claim waited
    /// for it without a bound, so the new leader's store never recovered and every request to the control plane hung
    /// for as long as the old leader stayed paused.
    /// </summary>
    public override IReadOnlyList<string> ClaimWriter()
    {
        lock (_gate)
        {
            if (_claimed) return [];
            var ended = new List<string>();
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    Claim();
                    _claimed = true;
                    return ended;
                }
                catch (PostgresException e) when (e.SqlState == LockNotAvailable && attempt < ClaimAttempts)
                {
                    // the old writer's batch held the row past the grace: end its session, then claim again
                    ended.AddRange(TerminateStalledWriters());
                }
            }
        }
    }

    /// <summary>How long a claim waits for the old writer's batches in flight (a batch of a running writer takes
    /// milliseconds; on a loaded machine, well under a second) before it ends the sessions that still hold them.</summary>
    internal static readonly TimeSpan InFlightGrace = TimeSpan.FromSeconds(3);

    /// <summary>Claims made before the claim fails (each waits <see cref="InFlightGrace"/> at most): a fresh batch of a
    /// running old writer may take the row between two claims; its transaction is younger than the grace, so it is not
    /// ended, and the next claim waits for it as for any batch in flight.</summary>
    private const int ClaimAttempts = 5;

    /// <summary>SQLSTATE lock_not_available: a lock wait ran past lock_timeout.</summary>
    private const string LockNotAvailable = "55P03";

    private void Claim()
    {
        using var connection = Open();
        using var transaction = connection.BeginTransaction();
        using (var command = connection.CreateCommand())
        {
            // every lock this claim waits for (the claims' advisory lock, the writer row) is bounded
            command.CommandText = $"SET LOCAL lock_timeout = {(int)InFlightGrace.TotalMilliseconds}";
            command.ExecuteNonQuery();
        }
        using (var command = connection.CreateCommand())
        {
            // serialises concurrent claims (CREATE OR REPLACE FUNCTION is not safe against itself)
            command.CommandText = "SELECT pg_advisory_xact_lock(hashtext('orchestrator/journal_writer'))";
            command.ExecuteNonQuery();
        }
        using (var command = connection.CreateCommand())
        {
            command.CommandText = $$"""
                CREATE TABLE IF NOT EXISTS journal_writer (
                    id int PRIMARY KEY CHECK (id = 1), writer text NOT NULL, epoch bigint NOT NULL, claimed_at timestamptz NOT NULL);
                CREATE OR REPLACE FUNCTION orchestrator_journal_fence() RETURNS trigger LANGUAGE plpgsql AS $fence$
                DECLARE holder text;
                BEGIN
                    SELECT writer INTO holder FROM journal_writer WHERE id = 1 FOR SHARE;
                    IF holder IS DISTINCT FROM current_setting('{{WriterSetting}}', true) THEN
                        RAISE EXCEPTION 'the journal has another writer (a master took over the control plane): this one is fenced'
                            USING ERRCODE = '{{FencedState}}';
                    END IF;
                    RETURN NULL;
                END $fence$;
                """;
            command.ExecuteNonQuery();
        }
        using (var command = connection.CreateCommand())
        {
            // on the journal once Akka.Persistence.Sql has made it (a writer on a new database makes it when it
            // recovers; the next claim, at the first failover, finds it)
            command.CommandText = """
                DO $install$ BEGIN
                    IF to_regclass('journal') IS NOT NULL AND NOT EXISTS (
                        SELECT 1 FROM pg_trigger WHERE tgname = 'orchestrator_journal_fence' AND tgrelid = to_regclass('journal')) THEN
                        CREATE TRIGGER orchestrator_journal_fence BEFORE INSERT OR UPDATE OR DELETE ON journal
                            FOR EACH STATEMENT EXECUTE FUNCTION orchestrator_journal_fence();
                    END IF;
                END $install$;
                """;
            command.ExecuteNonQuery();
        }
        using (var command = connection.CreateCommand())
        {
            command.CommandText = """
                INSERT INTO journal_writer (id, writer, epoch, claimed_at) VALUES (1, @writer, 1, now())
                ON CONFLICT (id) DO UPDATE SET writer = EXCLUDED.writer, epoch = journal_writer.epoch + 1, claimed_at = now()
                """;
            command.Parameters.Add(new NpgsqlParameter("writer", WriterId));
            command.ExecuteNonQuery();
        }
        transaction.Commit();
    }

    /// <summary>Ends the sessions (of this database) that hold a lock on the writer row's table in a transaction open
    /// for longer than <see cref="InFlightGrace"/>: batches of a writer that stopped running. A session may end those
    /// of its own role, so no other privilege is needed. What it ended, as "pid N" (with "(not ended)" when refused).</summary>
    private List<string> TerminateStalledWriters()
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT DISTINCT a.pid, pg_terminate_backend(a.pid)
            FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'relation' AND l.granted AND l.relation = to_regclass('journal_writer')
              AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND a.pid <> pg_backend_pid() AND a.xact_start < clock_timestamp() - @grace
            """;
        command.Parameters.Add(new NpgsqlParameter("grace", InFlightGrace));
        var ended = new List<string>();
        using var reader = command.ExecuteReader();
        while (reader.Read()) ended.Add($"pid {reader.GetInt32(0)}{(reader.GetBoolean(1) ? "" : " (not ended)")}");
        return ended;
    }

    public string ConnectionString { get; }
    public override string Name { get; }
    public override string Noun => "database";

    /// <summary>The endpoint as <c>--datastore-endpoint</c> gives it; <see cref="FormatException"/> says what is wrong
    /// (without the password).</summary>
    public static PostgresJournalDatabase Parse(string endpoint)
    {
        const string flag = "--datastore-endpoint";
        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("postgres" or "postgresql"))
        {
            var scheme = endpoint.IndexOf("://", StringComparison.Ordinal) is var i and > 0 ? endpoint[..i] : null;
            throw new FormatException(scheme is null || scheme is "postgres" or "postgresql"
                ? $"{flag}: not a URL such as postgres://user:password@host:5432/kubernetes?sslmode=disable"
                : $"{flag}: unsupported scheme \"{scheme}\" (supported: postgres://, postgresql://; without the flag the store is SQLite in --data-dir)");
        }
        var user = Uri.UnescapeDataString(uri.UserInfo.Split(':', 2)[0]);
        var password = uri.UserInfo.Contains(':') ? Uri.UnescapeDataString(uri.UserInfo.Split(':', 2)[1]) : null;
        var database = Uri.UnescapeDataString(uri.AbsolutePath.Trim('/'));
        if (database.Length == 0) database = DefaultDatabase;
        var name = $"{uri.Scheme}://{(user.Length > 0 ? Uri.EscapeDataString(user) + "@" : "")}{uri.Host}:{(uri.IsDefaultPort || uri.Port < 0 ? 5432 : uri.Port)}/{database}";
        if (uri.Host.Length == 0) throw new FormatException($"{flag}: {name} names no host");
        if (database.Contains('/')) throw new FormatException($"{flag}: {name}: the path must be one database name");
        if (user.Length == 0) throw new FormatException($"{flag}: {name} names no user (postgres://user:password@host/...)");
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host.Trim('[', ']'),
            Port = uri.IsDefaultPort || uri.Port < 0 ? 5432 : uri.Port,
            Database = database,
            Username = user,
            Timeout = 10,
            // the journal writer is one connection at a time; a small pool is plenty
            MaxPoolSize = 20,
            ApplicationName = "orchestrator-master",
        };
        if (password is not null) builder.Password = password;
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var key = Uri.UnescapeDataString(pair.Split('=', 2)[0]);
            var value = pair.Contains('=') ? Uri.UnescapeDataString(pair.Split('=', 2)[1]) : "";
            switch (key)
            {
                case "sslmode" when SslModes.TryGetValue(value, out var mode):
                    builder.SslMode = mode;
                    break;
                case "sslmode":
                    throw new FormatException($"{flag}: {name}: sslmode \"{value}\" is not one of {string.Join(", ", SslModes.Keys)}");
                case "sslrootcert":
                    builder.RootCertificate = value;
                    break;
                case "sslcert":
                    builder.SslCertificate = value;
                    break;
                case "sslkey":
                    builder.SslKey = value;
                    break;
                case "connect_timeout" when int.TryParse(value, out var seconds) && seconds > 0:
                    builder.Timeout = seconds;
                    break;
                default:
                    throw new FormatException($"{flag}: {name}: unsupported parameter \"{key}\" (supported: sslmode, sslrootcert, sslcert, sslkey, connect_timeout)");
            }
        }
        return new PostgresJournalDatabase(builder.ConnectionString, name);
    }

    public override void Prepare()
    {
        try
        {
            using var connection = new NpgsqlConnection(ConnectionString);
            connection.Open();
        }
        catch (PostgresException e) when (e.SqlState == InvalidCatalogName)
        {
            CreateDatabase();
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or ArgumentException)
        {
            throw Unavailable(e);
        }
    }

    /// <summary>As k3s: a server without the database gets it, made through the maintenance database.</summary>
    private void CreateDatabase()
    {
        var builder = new NpgsqlConnectionStringBuilder(ConnectionString);
        var database = builder.Database!;
        builder.Database = "postgres";
        try
        {
            using var connection = new NpgsqlConnection(builder.ConnectionString);
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = $"CREATE DATABASE \"{database.Replace("\"", "\"\"")}\"";
            command.ExecuteNonQuery();
        }
        catch (PostgresException e) when (e.SqlState == "42P04") { } // made meanwhile by another master
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            throw new JournalUnavailableException($"{Name}: the database does not exist and could not be created: {OneLine(e)}", e);
        }
    }

    private JournalUnavailableException Unavailable(Exception e) => new($"{Name}: cannot connect: {OneLine(e)}", e);

    private static string OneLine(Exception e)
    {
        var message = e is PostgresException p ? p.MessageText : e.InnerException is { } inner && e.Message.StartsWith("Failed to connect", StringComparison.Ordinal)
            ? $"{e.Message.TrimEnd('.')}: {inner.Message}" : e.Message;
        return string.Join(" ", message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    /// <summary>By provider name (PostgreSQL 15's dialect, which later servers speak too): Akka.Persistence.Sql picks its
    /// table mapping by that name.</summary>
    public DataOptions DataOptions() =>
        new DataOptions().UseConnectionString(ProviderName.PostgreSQL15, ConnectionString);

    public override DbConnection Open()
    {
        var connection = new NpgsqlConnection(ConnectionString);
        try
        {
            connection.Open();
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            connection.Dispose();
            throw Unavailable(e);
        }
        return connection;
    }

    public override bool HasJournal(DbConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT to_regclass('journal') IS NOT NULL";
        return (bool)command.ExecuteScalar()!;
    }

    /// <summary>Compaction deleted rows: VACUUM makes their space reusable (without the exclusive lock of VACUUM FULL,
    /// so writes go on meanwhile).</summary>
    public override void Shrink()
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = "VACUUM journal, snapshot";
        command.ExecuteNonQuery();
    }

    public override long Bytes()
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COALESCE(pg_total_relation_size(to_regclass('journal')), 0) + " +
                              "COALESCE(pg_total_relation_size(to_regclass('snapshot')), 0)";
        return Convert.ToInt64(command.ExecuteScalar());
    }
}
