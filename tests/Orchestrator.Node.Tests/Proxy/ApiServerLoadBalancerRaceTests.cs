using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Orchestrator.Node.Proxy;
using Xunit;

namespace Orchestrator.Node.Tests.Proxy;

/// <summary>The balancer's first byte race against fake masters: a paused one (accepts TCP, as a SIGSTOPped master's
/// kernel does, then never reads nor writes) and answering ones that, like a TLS server after a ClientHello, wait for
/// the client's first bytes and answer "NAME|" followed by every byte they got. The client speaks first, as on the API
/// port. Bounds are generous (a loaded CI machine); the tests assert what happens, not how fast.</summary>
public sealed class ApiServerLoadBalancerRaceTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private readonly List<IDisposable> _masters = [];
    private readonly ConcurrentDictionary<int, bool> _health = new();
    private readonly ConcurrentDictionary<int, int> _checks = new();
    private ApiServerLoadBalancer? _balancer;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_balancer is not null) await _balancer.DisposeAsync();
        foreach (var master in _masters) master.Dispose();
    }

    private T Add<T>(T master) where T : IDisposable
    {
        _masters.Add(master);
        return master;
    }

    private ApiServerLoadBalancer Balancer(params int[] ports)
    {
        // the loop's rounds are an hour apart: the checks seen are the first round's, the test's and a suspect's
        _balancer = new ApiServerLoadBalancer(new IPEndPoint(IPAddress.Loopback, 0), ports.Select(p => new DnsEndPoint("127.0.0.1", p)),
            NullLogger.Instance, (server, _) =>
            {
                _checks.AddOrUpdate(server.Port, 1, (_, n) => n + 1);
                return Task.FromResult(_health.GetValueOrDefault(server.Port, true));
            }, TimeSpan.FromHours(1));
        _balancer.Start();
        return _balancer;
    }

    private async Task<Socket> ConnectAsync()
    {
        var client = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await client.ConnectAsync(_balancer!.LocalEndPoint);
        return client;
    }

    /// <summary>Bytes standing in for a ClientHello: random, so a replay that dropped, doubled or reordered any shows.</summary>
    private static byte[] Hello(int length)
    {
        var bytes = new byte[length];
        new Random(length).NextBytes(bytes);
        return bytes;
    }

    /// <summary>Reads until <paramref name="length"/> bytes came, the peer closed, or the patience ran out.</summary>
    private static async Task<byte[]> ReadAsync(Socket socket, int length)
    {
        var received = new MemoryStream();
        var buffer = new byte[16 * 1024];
        using var timeout = new CancellationTokenSource(Patience);
        try
        {
            while (received.Length < length)
            {
                var read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
                if (read == 0) break;
                received.Write(buffer, 0, read);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException) { }
        return received.ToArray();
    }

    /// <summary>What an <see cref="AnsweringMaster"/> named <paramref name="name"/> answers to <paramref name="sent"/>.</summary>
    private static byte[] Answer(string name, byte[] sent) => [.. Encoding.ASCII.GetBytes(name + "|"), .. sent];

    private static async Task Eventually(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < Patience, $"not within {Patience.TotalSeconds} s: {what}");
            await Task.Delay(50);
        }
    }

    private int Connections(int port) => _balancer!.Connections.Single(c => c.Server.Port == port).Connections;

    [Fact]
    public async Task A_new_connection_whose_server_stays_silent_gets_the_next_servers_answer_to_the_same_bytes()
    {
        var paused = Add(new PausedMaster());
        var b = Add(new AnsweringMaster("b"));
        var balancer = Balancer(paused.Port, b.Port);
        var hello = Hello(3000);

        using var client = await ConnectAsync();
        await client.SendAsync(hello.AsMemory(0, 1000), SocketFlags.None);
        await client.SendAsync(hello.AsMemory(1000), SocketFlags.None);
        var answer = await ReadAsync(client, 2 + hello.Length);

        Assert.Equal(Answer("b", hello), answer); // every byte, once, in order
        Assert.Equal(1, paused.Accepted); // it was tried first (it had the bytes and sent nothing)
        await Eventually(() => paused.Open == 0, "the balancer closes its connection to the silent server");
        // suspected and checked at once (the rounds are an hour apart): the first round's check and this one
        await Eventually(() => _checks.GetValueOrDefault(paused.Port) >= 2, "the silent server is checked at once");
        await Eventually(() => Connections(paused.Port) == 0 && Connections(b.Port) == 1, "the connection counts for b alone");

        // the client's next bytes go to b alone, the connection is b's now
        await client.SendAsync("more"u8.ToArray(), SocketFlags.None);
        Assert.Equal("more", Encoding.ASCII.GetString(await ReadAsync(client, 4)));
        client.Close();
        await Eventually(() => Connections(b.Port) == 0, "a closed connection no longer counts");
    }

    [Fact]
    public async Task A_suspected_server_is_checked_at_once_and_new_connections_go_elsewhere_until_it_passes()
    {
        var paused = Add(new PausedMaster());
        var b = Add(new AnsweringMaster("b"));
        var balancer = Balancer(paused.Port, b.Port);
        _health[paused.Port] = false; // the first round (at start) may have seen it healthy or not: one failure at most

        using (var first = await ConnectAsync())
        {
            await first.SendAsync(Hello(500), SocketFlags.None);
            Assert.StartsWith("b|", Encoding.Latin1.GetString(await ReadAsync(first, 502)));
        }
        // the suspect's checks run without waiting for the next round (an hour away): two failures take it down
        await Eventually(() => !balancer.Servers.Single(s => s.Server.Port == paused.Port).Healthy, "the suspect fails two checks");
        Assert.True(_checks.GetValueOrDefault(paused.Port) >= 2);

        using (var second = await ConnectAsync())
        {
            await second.SendAsync(Hello(500), SocketFlags.None);
            Assert.StartsWith("b|", Encoding.Latin1.GetString(await ReadAsync(second, 502)));
        }
        Assert.Equal(1, paused.Accepted); // the second connection did not wait on it

        // it comes back when it passes a check, and is no longer suspected
        _health[paused.Port] = true;
        await balancer.CheckHealthAsync(CancellationToken.None);
        Assert.Empty(balancer.Suspected);
        Assert.All(balancer.Servers, s => Assert.True(s.Healthy));
    }

    [Fact]
    public async Task A_suspect_that_passes_its_check_is_no_longer_suspected()
    {
        var paused = Add(new PausedMaster());
        var b = Add(new AnsweringMaster("b"));
        var balancer = Balancer(paused.Port, b.Port);

        using var client = await ConnectAsync();
        await client.SendAsync(Hello(500), SocketFlags.None);
        Assert.StartsWith("b|", Encoding.Latin1.GetString(await ReadAsync(client, 502)));

        // its health check passes (the fake says healthy): it was a slow answer, not a dead server
        await Eventually(() => balancer.Suspected.Count == 0, "the suspect's check passes");
        Assert.All(balancer.Servers, s => Assert.True(s.Healthy));
    }

    [Fact]
    public async Task A_slow_single_server_still_serves()
    {
        var slow = Add(new AnsweringMaster("slow", TimeSpan.FromSeconds(3)));
        Balancer(slow.Port);
        var hello = Hello(800);

        using var client = await ConnectAsync();
        await client.SendAsync(hello, SocketFlags.None);

        Assert.Equal(Answer("slow", hello), await ReadAsync(client, 5 + hello.Length));
    }

    [Fact]
    public async Task A_slow_server_that_answers_after_the_race_began_keeps_the_connection()
    {
        // the first server answers after 3 s, three times the deadline; the second never does: racing must not turn
        // the slow answer into a failure
        var slow = Add(new AnsweringMaster("slow", TimeSpan.FromSeconds(3)));
        var paused = Add(new PausedMaster());
        Balancer(slow.Port, paused.Port);
        var hello = Hello(800);

        using var client = await ConnectAsync();
        await client.SendAsync(hello, SocketFlags.None);

        Assert.Equal(Answer("slow", hello), await ReadAsync(client, 5 + hello.Length));
        Assert.Equal(1, paused.Accepted); // it was raced
        await Eventually(() => paused.Open == 0, "the loser is closed");
    }

    [Fact]
    public async Task With_every_server_silent_the_connection_waits_on_all_and_takes_the_first_answer()
    {
        var first = Add(new AnsweringMaster("first", TimeSpan.FromSeconds(4)));
        var second = Add(new AnsweringMaster("second", TimeSpan.FromSeconds(2.5)));
        Balancer(first.Port, second.Port);
        var hello = Hello(800);

        using var client = await ConnectAsync();
        await client.SendAsync(hello, SocketFlags.None);

        // the second got the bytes at about 1 s and answers at about 3.5 s, before the first at 4 s; on a loaded
        // machine either may be first, and either answer is whole
        var answer = await ReadAsync(client, 7 + hello.Length);
        var name = answer.Length > 0 && answer[0] == (byte)'s' ? "second" : "first";
        Assert.Equal([.. Encoding.ASCII.GetBytes(name + "|"), .. hello], answer[..Math.Min(answer.Length, name.Length + 1 + hello.Length)]);
        Assert.Equal(1, second.Accepted);
    }

    [Fact]
    public async Task A_client_that_sends_nothing_is_not_raced()
    {
        var paused = Add(new PausedMaster());
        var b = Add(new AnsweringMaster("b"));
        var balancer = Balancer(paused.Port, b.Port);

        using (await ConnectAsync())
        {
            await Eventually(() => paused.Accepted == 1, "the first server gets the connection");
            await Task.Delay(ApiServerLoadBalancer.FirstByteDeadline * 3);
            Assert.Equal(0, b.Accepted);
            Assert.Empty(balancer.Suspected);
        }
        // a probe that connects and closes: its close reaches the server, and no other server is tried
        await Eventually(() => paused.Open == 0, "the close is passed on");
        await Task.Delay(ApiServerLoadBalancer.FirstByteDeadline * 2);
        Assert.Equal(0, b.Accepted);
    }

    [Fact]
    public async Task A_client_that_sent_more_than_the_replay_limit_stays_with_its_first_server()
    {
        var first = Add(new AnsweringMaster("first", TimeSpan.FromSeconds(3)));
        var b = Add(new AnsweringMaster("b"));
        var balancer = Balancer(first.Port, b.Port);
        var lots = Hello(ApiServerLoadBalancer.ReplayLimit + 1);

        using var client = await ConnectAsync();
        await client.SendAsync(lots, SocketFlags.None);

        // not a ClientHello: the bytes could not be replayed, so no other server was tried
        Assert.Equal(Answer("first", lots), await ReadAsync(client, 6 + lots.Length));
        Assert.Equal(0, b.Accepted);
        Assert.Empty(balancer.Suspected);
    }

    [Fact]
    public async Task A_health_check_that_never_returns_counts_as_failed()
    {
        // before: the round's timeout equalled the check's, and a round that hit it threw before reporting anyone, so a
        // paused master whose check never returned stayed healthy (and took every new connection) for as long as it
        // stayed paused; here the check ignores nothing, it just never answers, as a paused master's /livez
        var hung = Add(new PausedMaster());
        var b = Add(new AnsweringMaster("b"));
        await using var balancer = new ApiServerLoadBalancer(new IPEndPoint(IPAddress.Loopback, 0),
            [new DnsEndPoint("127.0.0.1", hung.Port), new DnsEndPoint("127.0.0.1", b.Port)], NullLogger.Instance,
            async (server, cancellation) =>
            {
                if (server.Port == hung.Port) await Task.Delay(Timeout.Infinite, cancellation);
                return true;
            }, TimeSpan.FromMilliseconds(100));
        balancer.Start();

        var clock = Stopwatch.StartNew();
        while (balancer.Servers.Single(s => s.Server.Port == hung.Port).Healthy)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(40), "the server whose checks never return is still taken as healthy");
            await Task.Delay(100);
        }
        Assert.True(balancer.Servers.Single(s => s.Server.Port == b.Port).Healthy);
    }

    /// <summary>A paused master: the kernel completes the handshake (the listen backlog), nobody reads or writes.</summary>
    private sealed class PausedMaster : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly ConcurrentQueue<Socket> _accepted = new();
        private readonly CancellationTokenSource _stop = new();

        public PausedMaster()
        {
            _listener.Start();
            _ = AcceptAsync();
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;
        public int Accepted => _accepted.Count;

        /// <summary>Connections not closed by the balancer. To tell, what the balancer sent is read and dropped (as a
        /// master resumed long after would): behind it is the end or the reset, or nothing yet while it is open.</summary>
        public int Open => _accepted.Count(s => !Closed(s));

        private static bool Closed(Socket socket)
        {
            var buffer = new byte[64 * 1024];
            socket.Blocking = false;
            try
            {
                while (true)
                    if (socket.Receive(buffer) == 0) return true;
            }
            catch (SocketException e) { return e.SocketErrorCode != SocketError.WouldBlock; }
            catch (ObjectDisposedException) { return true; }
        }

        private async Task AcceptAsync()
        {
            // accepted only to be counted and watched: it never reads, as a stopped process would not
            while (!_stop.IsCancellationRequested)
            {
                try { _accepted.Enqueue(await _listener.AcceptSocketAsync(_stop.Token)); }
                catch (Exception) { return; }
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
            foreach (var socket in _accepted) socket.Dispose();
        }
    }

    /// <summary>Waits for a connection's first bytes, then (after its delay, a loaded master's slow handshake) answers
    /// "NAME|" and every byte it got, and echoes the rest.</summary>
    private sealed class AnsweringMaster : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private readonly string _name;
        private readonly TimeSpan _delay;
        private int _accepted;

        public AnsweringMaster(string name, TimeSpan delay = default)
        {
            _name = name;
            _delay = delay;
            _listener.Start();
            _ = AcceptAsync();
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;
        public int Accepted => Volatile.Read(ref _accepted);

        private async Task AcceptAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                Socket socket;
                try { socket = await _listener.AcceptSocketAsync(_stop.Token); }
                catch (Exception) { return; }
                Interlocked.Increment(ref _accepted);
                _ = ServeAsync(socket);
            }
        }

        private async Task ServeAsync(Socket socket)
        {
            var buffer = new byte[64 * 1024];
            try
            {
                var read = await socket.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                if (read == 0) return;
                var got = new MemoryStream();
                got.Write(buffer, 0, read);
                var pending = socket.ReceiveAsync(buffer, SocketFlags.None, _stop.Token).AsTask();
                // what arrives during the delay is part of the answer too
                var until = Task.Delay(_delay, _stop.Token);
                while (await Task.WhenAny(pending, until) == pending)
                {
                    if (await pending == 0) break;
                    got.Write(buffer, 0, pending.Result);
                    pending = socket.ReceiveAsync(buffer, SocketFlags.None, _stop.Token).AsTask();
                }
                await until;
                await socket.SendAsync(Encoding.ASCII.GetBytes(_name + "|").Concat(got.ToArray()).ToArray(), SocketFlags.None, _stop.Token);
                while (await pending is var more and > 0)
                {
                    await socket.SendAsync(buffer.AsMemory(0, more), SocketFlags.None, _stop.Token);
                    pending = socket.ReceiveAsync(buffer, SocketFlags.None, _stop.Token).AsTask();
                }
            }
            catch (Exception) { }
            finally { socket.Dispose(); }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
        }
    }
}
