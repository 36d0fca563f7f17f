using System.Buffers;
using System.Diagnostics;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Orchestrator.Node.Proxy;

/// <summary>One client connection through the balancer: the first byte race, then the pass-through.</summary>
internal sealed partial class ApiServerLoadBalancer
{
    /// <summary>How long a server has to send its first byte after a new connection's first client bytes reached it
    /// before the next server is tried too. On an idle machine a master answers a ClientHello within milliseconds, so
    /// 1 s is far above the normal; a loaded machine (CI at load 20-40 on 2 cores) can take longer, which costs one
    /// more handshake and never the connection: the slow server stays in the race and wins if it answers first. More
    /// would eat most of a client's request timeout (kubectl --request-timeout=5s) before the first retry elsewhere.</summary>
    internal static readonly TimeSpan FirstByteDeadline = TimeSpan.FromSeconds(1);

    /// <summary>How long a connection waits for the first answer of any server it tried, counted from the client's first
    /// bytes; then it keeps the first server alone and waits on it as long as the client does, as it did before
    /// racing existed (so racing never fails a connection that waiting would have served). Well above any client's
    /// TLS handshake timeout (Go's is 10 s).</summary>
    internal static readonly TimeSpan RaceBound = TimeSpan.FromSeconds(30);

    /// <summary>The most client bytes kept to replay to another server: a TLS ClientHello is under 16 KiB. A client
    /// that sends more before any answer is not racing: its connection stays with its first server.</summary>
    internal const int ReplayLimit = 32 * 1024;

    private async Task HandleAsync(Socket client)
    {
        client.NoDelay = true;
        var connection = new Connection(this, client);
        try { await connection.RunAsync(); }
        catch (Exception e)
        {
            // never let one connection's failure reach the process
            _log.LogDebug(e, "API connection ended with an error");
        }
        finally { connection.Dispose(); }
    }

    /// <summary>
    /// One client connection. Until a server's first byte reaches the client nothing is decided: the client's bytes go
    /// to every server tried and are kept (up to <see cref="ReplayLimit"/>); when the newest server sends nothing
    /// within <see cref="FirstByteDeadline"/> of them, the next server in <see cref="RaceOrder"/> is connected, sent
    /// the same bytes, and the silent ones are suspected. The first server to answer keeps the connection, the others
    /// are closed (they saw only a ClientHello). A client that sends nothing starts no race. Then bytes are copied both
    /// ways with pooled buffers; a half-close is passed on, a reset or error on either side ends both.
    /// </summary>
    private sealed class Connection(ApiServerLoadBalancer balancer, Socket client) : IDisposable
    {
        private readonly List<Attempt> _attempts = []; // the servers racing, oldest first
        private readonly Queue<Server> _next = new();
        private readonly ArrayBufferWriter<byte> _replay = new();
        private readonly CancellationTokenSource _timers = new();
        private byte[]? _clientBuffer;
        private Task<int>? _clientRead;
        private Task<Attempt?>? _connecting;
        private bool _clientEnded;
        private bool _overflow;

        public async Task RunAsync()
        {
            foreach (var server in balancer.RaceOrder()) _next.Enqueue(server);
            var first = await ConnectNextAsync();
            if (first is null)
            {
                balancer._log.LogDebug("no API server took a connection from {Client}", client.RemoteEndPoint);
                return;
            }
            _attempts.Add(first);
            if (_next.Count == 0)
            {
                await PinAsync(first); // nothing to race with
                return;
            }

            _clientBuffer = ArrayPool<byte>.Shared.Rent(BufferSize);
            _clientRead = client.ReceiveAsync(_clientBuffer.AsMemory(), SocketFlags.None).AsTask();
            long? hedgeAt = null, raceEnds = null; // Stopwatch timestamps, from the client's first bytes
            while (true)
            {
                var canHedge = _connecting is null && _next.Count > 0 && !_overflow;
                long? due = canHedge && hedgeAt is { } h ? Math.Min(h, raceEnds!.Value) : raceEnds;
                var waits = new List<Task>(_attempts.Count + 3);
                if (_clientRead is not null) waits.Add(_clientRead);
                waits.AddRange(_attempts.Select(a => a.Read));
                if (_connecting is not null) waits.Add(_connecting);
                Task? timer = null;
                if (due is { } at) waits.Add(timer = Task.Delay(Until(at), _timers.Token));
                var done = await Task.WhenAny(waits);

                if (done == _clientRead)
                {
                    if (!await ForwardClientBytesAsync()) return; // the client reset
                    if (hedgeAt is null && _replay.WrittenCount > 0)
                    {
                        hedgeAt = Stopwatch.GetTimestamp() + (long)(FirstByteDeadline.TotalSeconds * Stopwatch.Frequency);
                        raceEnds = Stopwatch.GetTimestamp() + (long)(RaceBound.TotalSeconds * Stopwatch.Frequency);
                    }
                    if (_overflow)
                    {
                        // not a ClientHello: no more racing, the oldest server tried keeps it (it got every byte)
                        if (_attempts.Count == 0) return;
                        await PinAsync(_attempts[0]);
                        return;
                    }
                }
                else if (done == _connecting)
                {
                    var attempt = await _connecting;
                    _connecting = null;
                    if (attempt is not null)
                    {
                        if (await JoinAsync(attempt)) hedgeAt = Stopwatch.GetTimestamp() + (long)(FirstByteDeadline.TotalSeconds * Stopwatch.Frequency);
                        else TryNext(); // it closed before it took the bytes: the one after it, now
                    }
                    if (_attempts.Count == 0 && !TryNext()) return;
                }
                else if (done == timer)
                {
                    if (Stopwatch.GetTimestamp() >= raceEnds!.Value)
                    {
                        // every server had its chance: as before racing, the first one alone, for as long as the client waits
                        if (_attempts.Count == 0) return;
                        await PinAsync(_attempts[0]);
                        return;
                    }
                    if (!canHedge) continue;
                    foreach (var silent in _attempts.Where(a => a.Server.Healthy)) balancer.Suspect(silent.Server);
                    balancer._log.LogDebug("API connection from {Client}: no answer from {Servers}; trying the next server too",
                        client.RemoteEndPoint, string.Join(", ", _attempts.Select(a => Format(a.Server.EndPoint))));
                    hedgeAt = null;
                    TryNext();
                }
                else
                {
                    var attempt = _attempts.First(a => a.Read == done);
                    if (done.IsCompletedSuccessfully && attempt.Read.Result > 0)
                    {
                        balancer.Answered(attempt.Server);
                        await PinAsync(attempt);
                        return;
                    }
                    // closed or reset before it sent anything. The last one, to a client that sent nothing or ended:
                    // its end is passed on as before (a probe that only connects is not raced through every server)
                    if (_attempts.Count == 1 && _connecting is null && (_clientEnded || _replay.WrittenCount == 0))
                    {
                        await PinAsync(attempt);
                        return;
                    }
                    // else nothing reached the client, and another server may serve it
                    _attempts.Remove(attempt);
                    attempt.Drop();
                    if (_attempts.Count == 0 && _connecting is null && !TryNext()) return;
                }
            }
        }

        private static TimeSpan Until(long timestamp) =>
            TimeSpan.FromSeconds(Math.Max(0, timestamp - Stopwatch.GetTimestamp()) / (double)Stopwatch.Frequency);

        /// <summary>Starts connecting the next server; false when there is none to race (or the client's bytes can no
        /// longer be replayed).</summary>
        private bool TryNext()
        {
            if (_connecting is not null) return true;
            if (_next.Count == 0 || _overflow) return false;
            _connecting = ConnectNextAsync();
            return true;
        }

        /// <summary>The next server in order that takes a TCP connection; one that refuses is marked failed.</summary>
        private async Task<Attempt?> ConnectNextAsync()
        {
            while (_next.TryDequeue(out var server))
            {
                var downs = Volatile.Read(ref server.Downs);
                var socket = await balancer.ConnectAsync(server.EndPoint);
                if (socket is null)
                {
                    balancer.Refused(server);
                    continue;
                }
                var link = new Link(socket);
                // it went down while this connected: its connections were closed, this one with them
                if (!server.Add(link, downs)) continue;
                return new Attempt(server, socket, link);
            }
            return null;
        }

        /// <summary>A server joining the race gets every byte the client sent so far (and its half-close).</summary>
        private async Task<bool> JoinAsync(Attempt attempt)
        {
            try
            {
                if (_overflow) throw new IOException("the client's bytes were not all kept");
                await SendAllAsync(attempt.Socket, _replay.WrittenMemory);
                if (_clientEnded) attempt.Socket.Shutdown(SocketShutdown.Send);
                _attempts.Add(attempt);
                return true;
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or IOException)
            {
                attempt.Drop();
                return false;
            }
        }

        /// <summary>Passes what the client sent (or its half-close) to every server racing and keeps it for the next;
        /// false when the client reset.</summary>
        private async Task<bool> ForwardClientBytesAsync()
        {
            int read;
            try { read = await _clientRead!; }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or IOException) { return false; }
            if (read == 0)
            {
                _clientEnded = true;
                _clientRead = null;
                foreach (var attempt in _attempts)
                    try { attempt.Socket.Shutdown(SocketShutdown.Send); }
                    catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
                return true;
            }
            var bytes = _clientBuffer.AsMemory(0, read);
            if (_replay.WrittenCount + read > ReplayLimit) _overflow = true;
            else _replay.Write(bytes.Span);
            foreach (var attempt in _attempts.ToList())
            {
                try { await SendAllAsync(attempt.Socket, bytes); }
                catch (Exception e) when (e is SocketException or ObjectDisposedException or IOException)
                {
                    _attempts.Remove(attempt);
                    attempt.Drop();
                }
            }
            _clientRead = client.ReceiveAsync(_clientBuffer.AsMemory(), SocketFlags.None).AsTask();
            return true;
        }

        /// <summary>The connection is the winner's: the others are closed, and bytes are copied both ways, starting
        /// with the reads already under way.</summary>
        private async Task PinAsync(Attempt winner)
        {
            foreach (var other in _attempts.Where(a => a != winner)) other.Drop();
            _attempts.RemoveAll(a => a != winner);
            if (!winner.Link.Pin(client)) return; // its server went down meanwhile
            var down = CopyAsync(winner.Socket, client, winner.Buffer, winner.Read);
            var up = _clientEnded ? Task.FromResult(true)
                : CopyAsync(client, winner.Socket, _clientBuffer ??= ArrayPool<byte>.Shared.Rent(BufferSize), _clientRead);
            _clientRead = null; // the copy owns it now
            // a side that ended cleanly half-closes the other and waits for its answer; an error ends both
            var first = await Task.WhenAny(up, down);
            if (!await first) winner.Link.Abort();
            await Task.WhenAll(up, down);
        }

        /// <summary>True when <paramref name="from"/> ended cleanly (and <paramref name="to"/> got the half-close).</summary>
        private static async Task<bool> CopyAsync(Socket from, Socket to, byte[] buffer, Task<int>? pending)
        {
            try
            {
                while (true)
                {
                    var read = pending is not null ? await pending : await from.ReceiveAsync(buffer.AsMemory(), SocketFlags.None);
                    pending = null;
                    if (read == 0)
                    {
                        to.Shutdown(SocketShutdown.Send);
                        return true;
                    }
                    await SendAllAsync(to, buffer.AsMemory(0, read));
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or IOException)
            {
                return false;
            }
        }

        private static async Task SendAllAsync(Socket to, ReadOnlyMemory<byte> bytes)
        {
            var sent = 0;
            while (sent < bytes.Length) sent += await to.SendAsync(bytes[sent..], SocketFlags.None);
        }

        public void Dispose()
        {
            _timers.Cancel();
            _timers.Dispose();
            foreach (var attempt in _attempts) attempt.Drop();
            // a server still connecting when the connection ended is closed as soon as it is connected
            _connecting?.ContinueWith(t => { if (t.IsCompletedSuccessfully) t.Result?.Drop(); }, TaskScheduler.Default);
            client.Dispose();
            if (_clientBuffer is { } buffer) ReturnAfter(_clientRead, buffer);
        }
    }

    /// <summary>A pooled buffer goes back once the read into it is over (a closed socket ends it at once).</summary>
    private static void ReturnAfter(Task<int>? read, byte[] buffer)
    {
        if (read is null || read.IsCompleted)
        {
            _ = read?.Exception;
            ArrayPool<byte>.Shared.Return(buffer);
            return;
        }
        read.ContinueWith(t =>
        {
            _ = t.Exception; // observed: a read ended by the close faults
            ArrayPool<byte>.Shared.Return(buffer);
        }, TaskScheduler.Default);
    }

    /// <summary>One server tried for a connection: its socket and its first read.</summary>
    private sealed class Attempt
    {
        public Attempt(Server server, Socket socket, Link link)
        {
            Server = server;
            Socket = socket;
            Link = link;
            Read = socket.ReceiveAsync(Buffer.AsMemory(), SocketFlags.None).AsTask();
        }

        public Server Server { get; }
        public Socket Socket { get; }
        public Link Link { get; }
        public byte[] Buffer { get; } = ArrayPool<byte>.Shared.Rent(BufferSize);
        public Task<int> Read { get; }

        /// <summary>Closes it and gives its buffer back once its read is over; it no longer counts for its server.</summary>
        public void Drop()
        {
            Link.Abort();
            Server.Remove(Link);
            ReturnAfter(Read, Buffer);
        }
    }

    /// <summary>What a server's failed checks close: the upstream socket, and the client's once the connection is
    /// the server's (while racing, the client may still be served by another).</summary>
    private sealed class Link(Socket upstream)
    {
        private readonly object _gate = new();
        private Socket? _client;
        private bool _aborted;

        public bool Pin(Socket client)
        {
            lock (_gate)
            {
                if (_aborted) return false;
                _client = client;
                return true;
            }
        }

        public void Abort()
        {
            Socket? client;
            lock (_gate)
            {
                _aborted = true;
                client = _client;
            }
            try { upstream.Close(0); } catch (ObjectDisposedException) { }
            try { client?.Close(0); } catch (ObjectDisposedException) { }
        }
    }
}
