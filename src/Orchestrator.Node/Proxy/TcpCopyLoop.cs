using System.Buffers;
using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Orchestrator.Node.Proxy;

/// <summary>
/// Copies the bytes of the L4 connections on one thread of its own, which waits in <c>epoll_wait</c> and does the
/// non-blocking <c>recv</c>/<c>send</c> itself when a socket is ready. .NET's socket engine hands every completed read
/// from its epoll thread to a thread-pool worker (a futex wake and a context switch per read, each direction); that
/// hand-off was most of the L4 path's cost (bench/proxy/README.md, branch proxy3: about 9 context switches and 15
/// syscalls per request through the thread pool, 1.4 and 7.5 without it). The engine can skip it only process-wide
/// (<c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS</c>), which would run all of the node's socket continuations on
/// one thread; this loop does it for the L4 sockets alone. One shared buffer serves every connection; a connection
/// holds a buffer of its own only while its destination cannot take what was read (a full send buffer). Linux on
/// x64 only (<see cref="IsSupported"/>: the layout of <c>struct epoll_event</c> differs elsewhere); elsewhere the forwarder copies with async socket calls.
/// </summary>
internal sealed class TcpCopyLoop : IDisposable
{
    public static bool IsSupported { get; } = OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64;

    private const int BufferSize = 64 * 1024;
    private const int MaxEvents = 256;
    private const int EpollCtlAdd = 1;
    private const uint EpollIn = 0x001, EpollOut = 0x004, EpollErr = 0x008, EpollHup = 0x010, EpollRdHup = 0x2000, EpollEt = 1u << 31;
    private const int EAgain = 11, EIntr = 4;
    private const int MsgNoSignal = 0x4000;

    private readonly ConcurrentDictionary<long, Connection> _connections = new();
    private readonly byte[] _buffer = GC.AllocateArray<byte>(BufferSize, pinned: true);
    private readonly int _epoll;
    private readonly Thread _thread;
    private long _nextId;
    private volatile bool _stopped;

    public TcpCopyLoop()
    {
        _epoll = epoll_create1(0x80000 /* EPOLL_CLOEXEC */);
        if (_epoll < 0) throw new SocketException(Marshal.GetLastPInvokeError());
        _thread = new Thread(Run) { IsBackground = true, Name = "proxy-l4-copy" };
        _thread.Start();
    }

    /// <summary>Takes over both connected sockets: copies between them until both directions ended (or the backend
    /// closed, or either failed), then disposes them and calls <paramref name="closed"/> (on the loop's thread).</summary>
    public void Add(Socket client, Socket backend, Action closed)
    {
        client.Blocking = false;
        backend.Blocking = false;
        var id = Interlocked.Increment(ref _nextId);
        var connection = new Connection(client, backend, closed);
        _connections[id] = connection;
        // edge-triggered: an event when a socket becomes readable or writable (and at once if it already is)
        var events = EpollIn | EpollOut | EpollRdHup | EpollEt;
        var clientEvent = new EpollEvent { Events = events, Data = (ulong)id << 1 };
        var backendEvent = new EpollEvent { Events = events, Data = ((ulong)id << 1) | 1 };
        if (epoll_ctl(_epoll, EpollCtlAdd, connection.ClientFd, ref clientEvent) < 0
            || epoll_ctl(_epoll, EpollCtlAdd, connection.BackendFd, ref backendEvent) < 0)
        {
            // (out of memory in the kernel) whichever of the loop and this thread removes it closes it
            if (_connections.TryRemove(id, out _)) connection.Close();
        }
    }

    private void Run()
    {
        var events = new EpollEvent[MaxEvents];
        while (!_stopped)
        {
            var count = epoll_wait(_epoll, events, MaxEvents, 500);
            if (count < 0)
            {
                if (Marshal.GetLastPInvokeError() == EIntr) continue;
                break;
            }
            for (var i = 0; i < count; i++)
            {
                var id = (long)(events[i].Data >> 1);
                if (!_connections.TryGetValue(id, out var connection)) continue;
                try
                {
                    var backendSide = (events[i].Data & 1) == 1;
                    var ready = events[i].Events;
                    // to this socket: what was left over when it was full; from it: everything it has
                    var into = backendSide ? connection.ToBackend : connection.ToClient;
                    var from = backendSide ? connection.ToClient : connection.ToBackend;
                    if ((ready & (EpollOut | EpollErr | EpollHup)) != 0 && into.Pending is not null) Pump(into);
                    if ((ready & (EpollIn | EpollRdHup | EpollErr | EpollHup)) != 0) Pump(from);
                    if (connection.Done && _connections.TryRemove(id, out _)) connection.Close();
                }
                catch (Exception) when (_connections.TryRemove(id, out _))
                {
                    // an exception on this thread would end the node: the connection ends instead
                    try { connection.Close(); }
                    catch (Exception) { /* its sockets are gone either way */ }
                }
            }
        }
        foreach (var id in _connections.Keys)
            if (_connections.TryRemove(id, out var connection)) connection.Close();
    }

    /// <summary>Sends what is pending, then reads and sends until the source has nothing more or the destination is full.</summary>
    private void Pump(Direction direction)
    {
        if (direction.Pending is { } pending)
        {
            var sent = SendAll(direction, pending, direction.PendingOffset, direction.PendingCount);
            if (sent < 0) return;
            direction.PendingOffset += sent;
            direction.PendingCount -= sent;
            if (direction.PendingCount > 0) return; // still full: the next EPOLLOUT edge comes back here
            ArrayPool<byte>.Shared.Return(pending);
            direction.Pending = null;
            if (direction.Eof) direction.ShutdownDestination();
        }
        while (!direction.Eof && !direction.Failed)
        {
            var read = recv(direction.FromFd, ref _buffer[0], BufferSize, 0);
            if (read < 0)
            {
                var error = Marshal.GetLastPInvokeError();
                if (error == EIntr) continue;
                if (error != EAgain) direction.Failed = true;
                return;
            }
            if (read == 0)
            {
                direction.Eof = true; // a FIN goes on as a FIN
                direction.ShutdownDestination();
                return;
            }
            var sent = SendAll(direction, _buffer, 0, (int)read);
            if (sent < 0) return;
            if (sent < read)
            {
                // the destination is full: keep the rest and stop reading until it can take more
                var rest = ArrayPool<byte>.Shared.Rent((int)read - sent);
                Buffer.BlockCopy(_buffer, sent, rest, 0, (int)read - sent);
                direction.Pending = rest;
                direction.PendingOffset = 0;
                direction.PendingCount = (int)read - sent;
                return;
            }
        }
    }

    /// <summary>Bytes sent until done or the destination is full; -1 when the destination failed.</summary>
    private static int SendAll(Direction direction, byte[] buffer, int offset, int count)
    {
        var sent = 0;
        while (sent < count)
        {
            var n = send(direction.ToFd, ref buffer[offset + sent], count - sent, MsgNoSignal);
            if (n >= 0)
            {
                sent += (int)n;
                continue;
            }
            var error = Marshal.GetLastPInvokeError();
            if (error == EIntr) continue;
            if (error == EAgain) break;
            direction.Failed = true;
            return -1;
        }
        return sent;
    }

    public void Dispose()
    {
        _stopped = true;
        if (Thread.CurrentThread != _thread) _thread.Join(TimeSpan.FromSeconds(2));
        close(_epoll);
    }

    /// <summary>One direction of a connection: reads <see cref="FromFd"/>, writes <see cref="ToFd"/>.</summary>
    private sealed class Direction
    {
        private readonly Socket _to;
        public readonly int FromFd;
        public readonly int ToFd;
        public byte[]? Pending;
        public int PendingOffset, PendingCount;
        public bool Eof, Failed;

        public Direction(Socket from, Socket to)
        {
            _to = to;
            FromFd = (int)from.SafeHandle.DangerousGetHandle();
            ToFd = (int)to.SafeHandle.DangerousGetHandle();
        }

        public void ShutdownDestination()
        {
            if (Pending is not null) return; // after the pending bytes
            try { _to.Shutdown(SocketShutdown.Send); }
            catch (Exception e) when (e is SocketException or ObjectDisposedException) { Failed = true; }
        }

        public void ReturnBuffer()
        {
            if (Pending is { } pending) ArrayPool<byte>.Shared.Return(pending);
            Pending = null;
        }
    }

    private sealed class Connection(Socket client, Socket backend, Action closed)
    {
        public readonly Direction ToBackend = new(client, backend);
        public readonly Direction ToClient = new(backend, client);
        public int ClientFd => ToBackend.FromFd;
        public int BackendFd => ToClient.FromFd;

        /// <summary>Either side failed; or the backend ended its answer (all of it passed on: as before, a closed
        /// backend ends the connection); or both sides ended theirs.</summary>
        public bool Done => ToBackend.Failed || ToClient.Failed || (ToClient.Eof && ToClient.Pending is null);

        public void Close()
        {
            ToBackend.ReturnBuffer();
            ToClient.ReturnBuffer();
            client.Dispose(); // closing the descriptors takes them out of the epoll set
            backend.Dispose();
            try { closed(); }
            catch (Exception) { /* metrics only */ }
        }
    }

    // x64's struct epoll_event is packed (12 bytes); arm64's is not (16)
    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    private struct EpollEvent
    {
        public uint Events;
        public ulong Data;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int epoll_create1(int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern int epoll_ctl(int epfd, int op, int fd, ref EpollEvent ev);

    [DllImport("libc", SetLastError = true)]
    private static extern int epoll_wait(int epfd, [Out] EpollEvent[] events, int maxEvents, int timeout);

    [DllImport("libc", SetLastError = true)]
    private static extern nint recv(int fd, ref byte buffer, nint length, int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern nint send(int fd, ref byte buffer, nint length, int flags);

    [DllImport("libc")]
    private static extern int close(int fd);
}
