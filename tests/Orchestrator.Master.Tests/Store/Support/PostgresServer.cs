using System.Diagnostics;
using Orchestrator.Master.Store;
using Orchestrator.Master.Store.Persistence;
using Xunit;

namespace Orchestrator.Master.Tests.Store.Support;

/// <summary>
/// A private PostgreSQL cluster for the store's tests, started once for the collection with
/// <c>deploy/lib/postgres.sh</c> (which installs Debian's postgresql when missing) in a temporary directory on a free
/// loopback port, and stopped at the end. Each test takes a database of its own. When PostgreSQL cannot be installed
/// on this machine, <see cref="Unavailable"/> says why and the PostgreSQL tests are skipped with that reason; any other
/// failure to start fails them.
/// </summary>
public sealed class PostgresServer : IDisposable
{
    private const int NotInstallable = 3;
    private readonly string _directory = Directory.CreateTempSubdirectory("store-postgres-").FullName;
    private readonly string? _endpoint;
    private readonly string? _startFailure;

    public PostgresServer()
    {
        var (code, stdout, stderr) = Run("start", _directory, "", "postgres");
        if (code == 0) _endpoint = stdout.Trim().Split('\n')[^1];
        else if (code == NotInstallable) Unavailable = $"PostgreSQL cannot be installed here: {stderr.Trim()}";
        else _startFailure = $"deploy/lib/postgres.sh start failed ({code}): {stderr.Trim()}";
    }

    /// <summary>Why PostgreSQL tests are skipped, or null.</summary>
    public string? Unavailable { get; }

    /// <summary>The endpoint of a database no one has used (the master creates it on first start). Skips the
    /// calling test when PostgreSQL cannot be installed.</summary>
    public string NewDatabaseEndpoint()
    {
        Skip.If(Unavailable is not null, Unavailable);
        if (_startFailure is not null) throw new Xunit.Sdk.XunitException(_startFailure);
        var uri = new UriBuilder(_endpoint!) { Path = "/store_" + Guid.NewGuid().ToString("N")[..12] };
        return uri.Uri.ToString();
    }

    private static (int Code, string Stdout, string Stderr) Run(params string[] args)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(RepoRoot(), "deploy", "lib", "postgres.sh"));
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Orchestrator.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Orchestrator.sln not found");
    }

    public void Dispose()
    {
        Npgsql.NpgsqlConnection.ClearAllPools();
        if (_endpoint is not null) Run("stop", _directory);
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>
{
    public const string Name = "postgres";
}

/// <summary>Which journal a persistence spec runs on: SQLite in its data directory, or a fresh PostgreSQL database.</summary>
public sealed class StoreBackend(string dataDirectory, PostgresServer? postgres)
{
    private readonly Lazy<PostgresJournalDatabase?> _database =
        new(() => postgres is null ? null : PostgresJournalDatabase.Parse(postgres.NewDatabaseEndpoint()));

    public bool IsPostgres => postgres is not null;

    /// <summary>Store options on this backend (skips the test when PostgreSQL cannot be installed).</summary>
    internal StoreOptions Options() => new(dataDirectory) { Postgres = _database.Value };

    /// <summary>How error messages name the journal: store.db's path, or the endpoint without its password.</summary>
    internal string Name => Options().Journal().Name;

    internal System.Data.Common.DbConnection Open()
    {
        var connection = Options().Journal().Open();
        return connection;
    }
}
