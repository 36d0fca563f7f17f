using Akka.Actor;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Orchestrator.Master.Store;
using Orchestrator.Master.Store.Persistence;
using Orchestrator.Master.Tests.Registry;
using Orchestrator.Master.Tests.Store.Support;
using Xunit;

namespace Orchestrator.Master.Tests.Store.Persistence;

/// <summary>
/// The write fence of several masters on one PostgreSQL journal (docs/multi-master.md, "The rule: exactly one writer"),
/// against a real PostgreSQL: once another process's writer claimed the journal, the old writer's batches fail inside
/// their transaction and are never acknowledged, even though its store still runs (an old leader paused during downing).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class JournalWriterFenceSpec(PostgresServer postgres) : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "fence-spec-" + Guid.NewGuid().ToString("N"));
    private readonly List<IHost> _hosts = [];

    /// <summary>A store as one master runs it: its own PostgresJournalDatabase (its own writer name) on the endpoint.</summary>
    private async Task<IActorRef> Start(string endpoint)
    {
        var options = new StoreOptions(_dataDirectory) { Postgres = PostgresJournalDatabase.Parse(endpoint) };
        var host = new HostBuilder()
            .ConfigureServices(s => s.AddAkka("fence-spec", b => b.WithObjectStore(options, BuiltIn.NewCatalog())))
            .Build();
        _hosts.Add(host);
        await host.StartAsync();
        return await host.Services.GetRequiredService<ActorRegistry>().GetAsync<ObjectStore>();
    }

    private static async Task<object> Ask(IActorRef store, object message) => await store.Ask<object>(message, Timeout);

    [SkippableFact]
    public async Task A_store_whose_journal_another_writer_claimed_acknowledges_no_write()
    {
        var endpoint = postgres.NewDatabaseEndpoint();
        var old = await Start(endpoint);
        Assert.IsType<ObjectStored>(await Ask(old, new CreateObject("configmaps", Objects.ConfigMap("before"))));

        // a new leader's store starts on the same journal while the old one still runs
        var next = await Start(endpoint);
        Assert.IsType<ObjectStored>(await Ask(next, new GetObject(new ResourceKey("configmaps", "default", "before"))));

        var refused = Assert.IsType<StoreFailed>(await Ask(old, new CreateObject("configmaps", Objects.ConfigMap("stale"))));
        Assert.True(refused.Error.Code >= 500, refused.Error.ToString());
        Assert.IsType<ObjectStored>(await Ask(next, new CreateObject("configmaps", Objects.ConfigMap("after"))));
        // and the old writer, started again by its store, does not take the journal back
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.IsType<StoreFailed>(await Ask(old, new CreateObject("configmaps", Objects.ConfigMap("stale-2"))));

        // what a third writer recovers: every acknowledged write, none of the refused ones
        var third = await Start(endpoint);
        var listed = Assert.IsType<ObjectsListed>(await Ask(third, new ListObjects("configmaps", "default")));
        Assert.Equal(["after", "before"], listed.Items.Select(i => i.Metadata.Name).Where(n => n != "kube-root-ca.crt"));
    }

    [SkippableFact]
    public void A_session_that_does_not_name_the_claimed_writer_cannot_change_the_journal()
    {
        var (first, second) = TwoProcessesOnANewJournal();
        Execute(first, "INSERT INTO journal (sequence_number) VALUES (1)");

        second.ClaimWriter();
        foreach (var statement in new[] { "INSERT INTO journal (sequence_number) VALUES (2)", "DELETE FROM journal", "UPDATE journal SET sequence_number = 9" })
        {
            var fenced = Assert.Throws<PostgresException>(() => Execute(first, statement));
            Assert.Equal(PostgresJournalDatabase.FencedState, fenced.SqlState);
        }
        Execute(second, "INSERT INTO journal (sequence_number) VALUES (2)");
        // a fenced process claims only once: its writer starting again does not take the journal back
        first.ClaimWriter();
        Assert.Throws<PostgresException>(() => Execute(first, "INSERT INTO journal (sequence_number) VALUES (3)"));
        using var connection = second.Open();
        using var count = connection.CreateCommand();
        count.CommandText = "SELECT string_agg(sequence_number::text, ',' ORDER BY sequence_number) FROM journal";
        Assert.Equal("1,2", count.ExecuteScalar());
    }

    /// <summary>An old leader paused (SIGSTOP) between its batch's INSERT and its COMMIT holds the writer row FOR SHARE
    /// for as long as it stays paused: the new writer's claim ends that session after the grace, instead of waiting
    /// for it without a bound (the store of the new leader then never recovered, and the control plane hung).</summary>
    [SkippableFact]
    public void A_claim_ends_the_batch_in_flight_of_an_old_writer_that_stopped_running()
    {
        var (old, next) = TwoProcessesOnANewJournal();
        Execute(old, "INSERT INTO journal (sequence_number) VALUES (1)");
        using var stalled = old.Open();
        using var batch = stalled.BeginTransaction();
        using (var insert = stalled.CreateCommand())
        {
            insert.CommandText = "INSERT INTO journal (sequence_number) VALUES (2)";
            insert.ExecuteNonQuery(); // the fence took the writer row FOR SHARE; the COMMIT never comes
        }

        // without the claim's bound this waits for the batch until Npgsql's command timeout, and throws
        Assert.Single(next.ClaimWriter());
        // the stalled batch was rolled back: its commit fails, and it is not in the journal
        Assert.ThrowsAny<Exception>(() => batch.Commit());
        Execute(next, "INSERT INTO journal (sequence_number) VALUES (2)");
        Assert.Equal("1,2", Sequences(next));
    }

    /// <summary>A batch of a running old writer that commits within the grace is waited for, not ended: recovery reads
    /// every batch the old writer committed.</summary>
    [SkippableFact]
    public async Task A_claim_waits_for_a_batch_in_flight_that_commits_within_the_grace()
    {
        var (old, next) = TwoProcessesOnANewJournal();
        using var slow = old.Open();
        var batch = slow.BeginTransaction();
        using (var insert = slow.CreateCommand())
        {
            insert.CommandText = "INSERT INTO journal (sequence_number) VALUES (1)";
            insert.ExecuteNonQuery();
        }

        var claim = Task.Run(next.ClaimWriter);
        await Task.Delay(PostgresJournalDatabase.InFlightGrace / 3);
        Assert.False(claim.IsCompleted, "the claim waits for the batch in flight");
        batch.Commit();
        Assert.Empty(await claim.WaitAsync(Timeout));
        Assert.Equal("1", Sequences(next));
    }

    /// <summary>Two processes' journal databases on a new database with the journal table as Akka.Persistence.Sql makes
    /// it, reduced to what the fence needs; the first has claimed the journal.</summary>
    private (PostgresJournalDatabase First, PostgresJournalDatabase Second) TwoProcessesOnANewJournal()
    {
        var endpoint = postgres.NewDatabaseEndpoint();
        var first = PostgresJournalDatabase.Parse(endpoint);
        var second = PostgresJournalDatabase.Parse(endpoint);
        first.Prepare();
        Execute(first, "CREATE TABLE journal (ordering bigserial PRIMARY KEY, sequence_number bigint NOT NULL)");
        first.ClaimWriter();
        return (first, second);
    }

    private static string? Sequences(PostgresJournalDatabase database)
    {
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT string_agg(sequence_number::text, ',' ORDER BY sequence_number) FROM journal";
        return (string?)command.ExecuteScalar();
    }

    private static void Execute(PostgresJournalDatabase database, string sql)
    {
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public void Dispose()
    {
        foreach (var host in _hosts)
        {
            try
            {
                host.StopAsync().GetAwaiter().GetResult();
            }
            catch (Exception) { }
            host.Dispose();
        }
        try { Directory.Delete(_dataDirectory, recursive: true); } catch (IOException) { }
    }
}
