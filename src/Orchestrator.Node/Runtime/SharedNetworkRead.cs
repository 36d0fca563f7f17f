namespace Orchestrator.Node.Runtime;

/// <summary>
/// The addresses in use on the pod network, read once for every sandbox allocation that was waiting for it (issue 19:
/// N pods started at once cost one network inspect, not N one after another under the allocation lock). A caller takes
/// a ticket when it asks (<see cref="Ask"/>) and, under the allocation lock, gets a read begun after its ticket — as
/// fresh as one it would have made itself when it asked — unless an address was released since that read
/// (<see cref="Released"/>): a sandbox started after the read holds its address on the network, where that read cannot
/// show it, and only its reservation kept it from being handed out again. Addresses reserved since the read need no
/// new read: the allocator holds them. Not thread-safe beyond <see cref="Ask"/> and <see cref="Released"/>: the caller
/// serialises <see cref="GetAsync"/> (the allocation lock).
/// </summary>
internal sealed class SharedNetworkRead
{
    private long _asked;
    private long _releases;
    private Snapshot? _last;

    private sealed record Snapshot(long Covers, long Releases, IReadOnlyList<string> Used);

    /// <summary>How many reads of the network this instance made (for tests and the log).</summary>
    public int Reads { get; private set; }

    /// <summary>A ticket: the read that serves it begins after this call.</summary>
    public long Ask() => Interlocked.Increment(ref _asked);

    /// <summary>An address went back to the allocator: reads made before this do not serve anyone any more.</summary>
    public void Released() => Interlocked.Increment(ref _releases);

    public async Task<IReadOnlyList<string>> GetAsync(long ticket, Func<Task<IReadOnlyList<string>>> read)
    {
        var releases = Interlocked.Read(ref _releases);
        if (_last is { } last && last.Covers >= ticket && last.Releases == releases) return last.Used;
        // every ticket taken before the read begins is served by it
        var covers = Interlocked.Read(ref _asked);
        var used = await read();
        Reads++;
        _last = new Snapshot(covers, releases, used);
        return used;
    }
}
