using System.Text;
using Akka.Actor;
using Akka.Event;
using k8s.Models;
using Orchestrator.Master.Store.Persistence;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Store;

// The ObjectStore's journal writer: starting it, reading the journal back, its failures and snapshots.
internal sealed partial class ObjectStore
{
    private void StartWriter()
    {
        _incarnation++;
        if (!_recovered) ResetState();
        var resumeAfter = _recovered ? _state.ResourceVersion : (long?)null;
        _writer = Context.ActorOf(_file is SqliteJournalFile sqlite
            ? SqliteJournalWriter.Props(_transformer, resumeAfter, sqlite)
            : PersistentWriterProps(resumeAfter), $"journal-{_incarnation}");
        Context.WatchWith(_writer, new WriterStopped(_incarnation));
    }

    /// <summary>The writer through Akka.Persistence (PostgreSQL, or the actor system's journal): a method of its own, so
    /// that on SQLite compiling <see cref="StartWriter"/> does not load Akka.Persistence.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private Props PersistentWriterProps(long? resumeAfter) => JournalWriter.Props(_transformer, resumeAfter, _file);

    private void ResetState()
    {
        _state.Clear();
        _watch.Reset(0);
        _expiry.Clear();
        _recordsSinceSnapshot = _bytesSinceSnapshot = 0;
    }

    private void LoadSnapshot(JournalSnapshotLoaded loaded)
    {
        if (_recovered) return; // a replacing writer replays without a snapshot
        var snapshot = loaded.Snapshot;
        ResetState();
        try
        {
            foreach (var o in snapshot.Objects)
            {
                var obj = _catalog.Decode(o.Resource, o.Json);
                _state.Put(o.Resource, obj, 0, Encoding.UTF8.GetByteCount(o.Json));
                if (EventExpiry.Expires(o.Resource)) _expiry.Recovered(o.Resource, obj, DateTime.UtcNow);
            }
        }
        catch (Exception e)
        {
            Unreadable($"the snapshot at sequence number {snapshot.ResourceVersion}", e);
            return;
        }
        _state.SetResourceVersion(snapshot.ResourceVersion);
        _watch.Reset(snapshot.ResourceVersion);
    }

    private void Replay(IReadOnlyList<IStoreRecord> records)
    {
        foreach (var record in records)
        {
            try
            {
                Apply(record, null, 0, live: _recovered);
            }
            catch (Exception e)
            {
                Unreadable($"journal record {(record as ObjectPut)?.ResourceVersion ?? (record as ObjectRemoved)?.ResourceVersion}", e);
                return;
            }
        }
    }

    /// <summary>A record that passed the start-up check but cannot be applied: the store cannot go on.</summary>
    private void Unreadable(string what, Exception e)
    {
        var message = $"{_file?.Name ?? "the journal"}: {what} cannot be read: {e.Message}";
        _log.Error(e, "{0}", message);
        _health.Failed(message);
        if (_writer is not null) Context.Stop(_writer);
        _view.Close();
        Become(Broken);
        Stash.UnstashAll();
    }

    private void OnRecovered(JournalRecovered recovered)
    {
        if (_recovered && recovered.LastSequenceNr < _state.ResourceVersion)
        {
            Unreadable($"the journal (it ends at {recovered.LastSequenceNr}, behind the store's resourceVersion {_state.ResourceVersion})",
                new InvalidOperationException("records that were acknowledged are missing"));
            return;
        }
        _state.AdvanceTo(recovered.LastSequenceNr);
        _rewriteNeeded |= recovered.RewriteNeeded;
        if (!_recovered) _log.Info("Recovered {0} objects at resourceVersion {1}", _state.All().Count(), _state.ResourceVersion);
        _recovered = true;
    }

    private void OnWritable(JournalWritable writable)
    {
        _state.AdvanceTo(writable.LastSequenceNr);
        if (_health.NotReadyReason is { } was && _recovered && _incarnation > 1)
            _log.Info("The journal takes writes again (it failed: {0})", was);
        _writable = true;
        _backoff = _settings.BackoffMin;
        _failure = "the journal writer stopped";
        // Ready once the default objects are stored too (see Recovering).
        if (_serving) _health.Writable();
        if (_rewriteNeeded)
        {
            _rewriteNeeded = false;
            Snapshot();
        }
        SeedDefaults();
    }

    private void OnWriterStopped(WriterStopped stopped)
    {
        if (stopped.Incarnation != _incarnation) return;
        _writer = null;
        _writable = false;
        _health.NotWritable(_recovered ? $"the journal cannot be written: {_failure}" : $"recovering the journal: {_failure}");
        // The batch being stored fails whole; those planned behind it were judged against it and fail too.
        var (failed, queued) = (_inFlight, _next);
        _inFlight = _next = null;
        _planning.Clear();
        foreach (var answer in failed?.Answers ?? [])
            answer.Write.Failed(StoreErrors.WriteFailed($"the object store could not write to its journal: {_failure}"));
        foreach (var answer in queued?.Answers ?? []) answer.Write.Failed(StoreErrors.Unavailable(UnavailableMessage));
        var delay = _backoff + TimeSpan.FromMilliseconds(Random.Shared.Next(0, (int)(_backoff.TotalMilliseconds / 5) + 1));
        _backoff = TimeSpan.FromTicks(Math.Min(_backoff.Ticks * 2, _settings.BackoffMax.Ticks));
        _log.Warning("The journal writer stopped ({0}); a new one starts in {1:0.0} s", _failure, delay.TotalSeconds);
        Timers.StartSingleTimer("restart-writer", RestartWriter.Instance, delay);
        // Read, but the first probe failed: serve reads (writes get 503) until a writer succeeds.
        if (_recovered) BecomeServing();
    }

    private void MaybeSnapshot()
    {
        // Both thresholds grow with the state, so that writing a snapshot of every object stays O(1) per record
        // amortised (a fixed record count made it O(objects / SnapshotEvery) per write: 100 objects per write at 100,000).
        if (_recordsSinceSnapshot >= Math.Max(_settings.SnapshotEvery, _state.Count) ||
            _bytesSinceSnapshot >= Math.Max(_settings.SnapshotAfterBytes, _state.Bytes))
            Snapshot();
    }

    private void Snapshot()
    {
        if (!_writable || _writer is null) return;
        _recordsSinceSnapshot = _bytesSinceSnapshot = 0;
        _writer.Tell(new SaveStoreSnapshot(_state.All().ToList(), _state.ResourceVersion));
    }
}
