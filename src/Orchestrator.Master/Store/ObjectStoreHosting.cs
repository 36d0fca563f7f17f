using System.Runtime.CompilerServices;
using Akka.Actor;
using Akka.Hosting;
using Akka.Persistence.Sql.Hosting;
using Orchestrator.Master.Store.Encryption;
using Orchestrator.Master.Store.Persistence;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Store;

/// <summary>
/// Where and how the store keeps its journal and snapshots. From the master's flags:
/// <c>--event-ttl</c> (a Go duration, default 1h0m0s), <c>--encryption-provider-config FILE</c>
/// (an EncryptionConfiguration; without it objects are stored as plain JSON) and
/// <c>--store-recovery none|skip-corrupt</c> (what to do with corrupt records found at start, default none) and
/// <c>--datastore-endpoint postgres://…</c> (the journal in PostgreSQL; without it, SQLite in the data directory).
/// </summary>
internal sealed record StoreOptions(string DataDirectory)
{
    public ObjectStoreSettings Settings { get; init; } = ObjectStoreSettings.Default;
    public EncryptionConfiguration Encryption { get; init; } = EncryptionConfiguration.None;
    public StoreRecovery Recovery { get; init; } = StoreRecovery.None;

    /// <summary>What the store says about itself; the API's /readyz reads it.</summary>
    public StoreHealth Health { get; init; } = new();

    /// <summary>The validating admission plugins every create and update goes through (Pod Security).</summary>
    public IReadOnlyList<IAdmissionPlugin> Admissions { get; init; } = [];

    /// <summary>The PostgreSQL database named by --datastore-endpoint, or null: the SQLite file <see cref="DatabasePath"/>.</summary>
    public PostgresJournalDatabase? Postgres { get; init; }

    public string DatabasePath => Path.Combine(DataDirectory, "store.db");

    /// <summary>Where the journal and snapshots are kept.</summary>
    internal JournalDatabase Journal() => Postgres ?? (JournalDatabase)new SqliteJournalFile(DatabasePath);

    /// <summary>The options given on the command line; <see cref="FormatException"/> names a bad one.</summary>
    public static StoreOptions From(IConfiguration configuration, string dataDirectory)
    {
        var options = new StoreOptions(dataDirectory);
        if (configuration["event-ttl"] is { } ttl)
            options = options with { Settings = options.Settings with { EventTtl = ParseEventTtl(ttl) } };
        if (configuration["datastore-endpoint"] is { Length: > 0 } endpoint)
            options = options with { Postgres = PostgresJournalDatabase.Parse(endpoint) };
        if (configuration["encryption-provider-config"] is { Length: > 0 } path)
            options = options with { Encryption = EncryptionConfiguration.Load(path) };
        options = options with
        {
            Recovery = configuration["store-recovery"] switch
            {
                null or "" or "none" => StoreRecovery.None,
                "skip-corrupt" => StoreRecovery.SkipCorrupt,
                var other => throw new FormatException($"--store-recovery: \"{other}\" is not one of none, skip-corrupt"),
            },
        };
        return options;
    }

    /// <summary>A Go duration as kube-apiserver takes it ("1h", "30m", "1h0m0s", "90s", "1.5h"; Go's time.ParseDuration,
    /// <see cref="GoDuration"/>), without a sign and at least a millisecond.</summary>
    public static TimeSpan ParseEventTtl(string text)
    {
        if (text is "" or "0" || text[0] is '+' or '-' || GoDuration.TryParseTimeSpan(text, out _) is not { } duration)
            throw new FormatException($"--event-ttl: invalid duration \"{text}\" (examples: 1h, 30m, 1h30m, 90s)");
        if (duration < TimeSpan.FromMilliseconds(1)) throw new FormatException($"--event-ttl: \"{text}\" must be positive");
        return duration;
    }

    /// <summary>The encryption config applied to the resources <paramref name="catalog"/> describes; a custom
    /// resource not served (yet) is named by its store name, plural.group.</summary>
    public StorageTransformer Transformer(IResourceCatalog catalog) =>
        new(Encryption, storeName => catalog.Find(storeName) is { } r ? (r.Group, r.Resource) : ObjectStoreHosting.SplitStoreName(storeName));
}

internal static class ObjectStoreHosting
{
    /// <summary>A custom resource's group and plural from its store name (plural.group).</summary>
    internal static (string Group, string Resource) SplitStoreName(string storeName) =>
        storeName.IndexOf('.') is var dot and > 0 ? (storeName[(dot + 1)..], storeName[..dot]) : ("", storeName);

    /// <summary>
    /// Makes the data directory private (0700, umask 077), creates or opens store.db (0600, WAL) or connects to the
    /// PostgreSQL database (creating it when the server has none of that name), and checks every record recovery
    /// will read. Returns the one line to exit with when the journal cannot be used, else null;
    /// records dropped by --store-recovery=skip-corrupt are reported through <paramref name="warn"/>.
    /// Call before anything writes to the data directory.
    /// </summary>
    public static string? PrepareStore(StoreOptions options, IResourceCatalog catalog, Action<string> warn)
    {
        DataDirectory.Prepare(options.DataDirectory);
        var file = options.Journal();
        try
        {
            file.Prepare();
        }
        catch (Microsoft.Data.Sqlite.SqliteException e)
        {
            // quick_check in the check below says more about a damaged file
            warn($"{file.Name}: could not set up the database file: {e.Message}");
        }
        catch (JournalUnavailableException e)
        {
            return e.Message;
        }
        var result = new JournalCheck(file, options.Transformer(catalog),
            // custom resources are served only once their definitions are read, after this check
            r => catalog.Find(r) is not null || r.Contains('.')).Run(options.Recovery);
        foreach (var skipped in result.Skipped) warn($"{file.Name}: {skipped}");
        return result.Error;
    }

    /// <summary>
    /// Journal and snapshot store on SQLite at <c>{DataDirectory}/store.db</c> (the store's own writer) or in the PostgreSQL
    /// database of --datastore-endpoint (Akka.Persistence.Sql), tables created on first use, and the ObjectStore actor ("object-store"),
    /// registered in the ActorRegistry as <see cref="ObjectStore"/>, keeping the resources <paramref name="catalog"/>
    /// describes. <see cref="PrepareStore"/> comes first.
    /// </summary>
    public static AkkaConfigurationBuilder WithObjectStore(this AkkaConfigurationBuilder builder, StoreOptions options,
        IResourceCatalog catalog)
    {
        return builder.WithObjectStorePersistence(options)
            .WithActors((system, registry) => StartObjectStore(system, registry, options, catalog));
    }

    /// <summary>The journal and snapshot store of <see cref="WithObjectStore"/> without the store actor, which
    /// <see cref="StartObjectStore"/> starts (on a multi-master cluster, only on the master holding the control plane).</summary>
    public static AkkaConfigurationBuilder WithObjectStorePersistence(this AkkaConfigurationBuilder builder, StoreOptions options)
    {
        var file = options.Journal();
        DataDirectory.Prepare(options.DataDirectory);
        file.Prepare();
        // The SQLite file is read and written by the store's own writer (SqliteJournalWriter): no persistence plugin, so
        // Akka.Persistence, Akka.Persistence.Sql and linq2db are not loaded at all.
        return options.Postgres is { } postgres ? WithSqlPersistence(builder, postgres) : builder;
    }

    /// <summary>Akka.Persistence.Sql on the PostgreSQL database (a method of its own: compiling it loads the plugin's assemblies).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static AkkaConfigurationBuilder WithSqlPersistence(AkkaConfigurationBuilder builder, PostgresJournalDatabase postgres) =>
        builder
            .AddHocon(StoreRecordSerializer.Hocon, HoconAddMode.Prepend)
            .WithSqlPersistence(postgres.DataOptions(), autoInitialize: true);

    /// <summary>The ObjectStore actor ("object-store"), registered in the ActorRegistry as <see cref="ObjectStore"/>.</summary>
    public static IActorRef StartObjectStore(ActorSystem system, IActorRegistry registry, StoreOptions options, IResourceCatalog catalog)
    {
        var store = system.ActorOf(ObjectStore.Props(catalog, options.Settings, options.Health, options.Transformer(catalog), options.Journal(),
            options.Admissions),
            ObjectStore.ActorName);
        registry.Register<ObjectStore>(store);
        return store;
    }
}
