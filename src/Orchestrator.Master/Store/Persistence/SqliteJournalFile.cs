using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace Orchestrator.Master.Store.Persistence;

/// <summary>
/// The SQLite file that holds the store's journal and snapshots ({data-dir}/store.db, with -wal and -shm beside
/// it). It is created here, before the store opens it, with mode 0600 (SQLite gives the -wal and -shm files the mode of
/// the database file), in WAL mode and with incremental auto-vacuum. Every connection the store opens
/// (<see cref="SqliteJournal"/>) deletes securely (deleted rows are overwritten with zeros, so a compacted Secret is gone
/// from the file) and syncs every commit.
/// </summary>
internal sealed class SqliteJournalFile(string path) : JournalDatabase
{
    public string Path { get; } = path;

    public override string Name => Path;

    public override string Noun => "file";

    public string ConnectionString => new SqliteConnectionStringBuilder { DataSource = Path }.ToString();

    /// <summary>Creates the file (0600) or brings an existing one to the settings above; files made before these
    /// rules lose their group and other permissions.</summary>
    public override void Prepare()
    {
        var fresh = !File.Exists(Path) || new FileInfo(Path).Length == 0;
        if (!File.Exists(Path))
        {
            var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows()) create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            new FileStream(Path, create).Dispose();
        }
        if (!OperatingSystem.IsWindows())
            foreach (var file in new[] { Path, Path + "-wal", Path + "-shm" })
                if (File.Exists(file)) File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        using var connection = OpenSqlite();
        // auto_vacuum is decided when the first table is made; an older file switches with one VACUUM.
        if (fresh) Execute(connection, "PRAGMA auto_vacuum=INCREMENTAL;");
        Execute(connection, "PRAGMA journal_mode=WAL;");
        if (!fresh && Convert.ToInt64(Scalar(connection, "PRAGMA auto_vacuum;")) != 2)
        {
            Execute(connection, "PRAGMA auto_vacuum=INCREMENTAL;");
            Execute(connection, "VACUUM;");
        }
    }

    /// <summary>
    /// After compaction: the WAL is checkpointed into the database and truncated to nothing (it still held the
    /// page images of deleted rows), and the free pages at the end of the file are given back.
    /// </summary>
    public override void Shrink()
    {
        using var connection = OpenSqlite();
        Execute(connection, PragmaStatements);
        Execute(connection, "PRAGMA wal_checkpoint(TRUNCATE);");
        Execute(connection, "PRAGMA incremental_vacuum;");
        Execute(connection, "PRAGMA wal_checkpoint(TRUNCATE);");
    }

    /// <summary>The per-connection settings (SQLite does not keep them in the file) every connection to the file runs.</summary>
    internal const string PragmaStatements = "PRAGMA secure_delete=ON; PRAGMA synchronous=FULL;";

    public override long Bytes() => new[] { Path, Path + "-wal" }.Where(File.Exists).Sum(f => new FileInfo(f).Length);

    public override DbConnection Open() => OpenSqlite();

    public override bool Exists() => File.Exists(Path) && new FileInfo(Path).Length > 0;

    public override bool HasJournal(DbConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'journal'";
        return (long)command.ExecuteScalar()! > 0;
    }

    /// <summary>SQLite's <c>PRAGMA quick_check</c>.</summary>
    public override string? CheckStructure(DbConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA quick_check(1);";
        var result = command.ExecuteScalar() as string;
        return result == "ok" ? null : result ?? "quick_check returned nothing";
    }

    private SqliteConnection OpenSqlite()
    {
        var connection = new SqliteConnection(ConnectionString);
        connection.Open();
        return connection;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static object? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }
}
