using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Orchestrator.Node.Agent.Kubelet.Spdy;
using Orchestrator.Node.Runtime;

namespace Orchestrator.Node.Tests.Agent.Kubelet.Spdy;

/// <summary>exec/attach over SPDY/3.1 as client-go's SPDY executor speaks it, on a loopback connection: streams named
/// by streamType, stdin's FIN closing the command's stdin, output on stdout/stderr, the outcome on the error stream.</summary>
public sealed class SpdyRemoteCommandTests
{
    private static async Task<(SpdyRemoteCommand Server, SpdyTestClient Client, Stream ServerStream, Stream ClientStream)> ConnectAsync(
        string protocol, RemoteCommandStreams wanted)
    {
        var (server, client) = await SpdyTestClient.ConnectedPairAsync();
        return (new SpdyRemoteCommand(server, protocol, wanted, NullLogger.Instance), new SpdyTestClient(client), server, client);
    }

    [Fact]
    public async Task V4_exec_streams_stdin_and_output_and_ends_with_the_exit_code_status()
    {
        var (server, client, serverStream, clientStream) = await ConnectAsync(SpdyRemoteCommand.V4, new(Stdin: true, Stdout: true, Stderr: true, Tty: false));
        using var _ = client;
        await using var __ = serverStream;
        await using var ___ = clientStream;
        var accepting = server.AcceptStreamsAsync(TimeSpan.FromSeconds(10), default);
        // error 1, stdin 3, stdout 5, stderr 7, as client-go opens them
        await client.OpenStreamAsync(1, "error");
        await client.OpenStreamAsync(3, "stdin");
        await client.OpenStreamAsync(5, "stdout");
        Assert.False(accepting.IsCompleted);
        await client.OpenStreamAsync(7, "stderr");
        Assert.True(await accepting);

        var session = new EchoSession(exitCode: 3);
        var running = server.RunAsync(session, () => Task.FromResult(new RemoteCommandOutcome(
            """{"metadata":{},"status":"Failure","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"3"}]}}""",
            "command terminated with non-zero exit code")), default);
        await client.SendDataAsync(3, "hello");
        await client.SendDataAsync(3, "", fin: true);

        var others = new List<SpdyFrame>();
        var stdout = await client.ReadStreamAsync(5, others);
        var frames = new List<SpdyFrame>(others);
        var error = await ReadFromAsync(client, frames, 1);
        var stderr = Collect(frames, 7);
        Assert.Equal("HELLO", stdout);
        Assert.Equal("err:hello", stderr);
        Assert.Contains("\"reason\":\"NonZeroExitCode\"", error);
        Assert.Contains("{\"reason\":\"ExitCode\",\"message\":\"3\"}", error);
        Assert.True(session.StdinClosed);
        clientStream.Close(); // kubectl closes the connection once it has everything
        await running.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task V3_sends_the_failure_as_text_and_nothing_on_success_and_tty_resizes_reach_the_session()
    {
        var (server, client, serverStream, clientStream) = await ConnectAsync(SpdyRemoteCommand.V3, new(Stdin: false, Stdout: true, Stderr: false, Tty: true));
        using var _ = client;
        await using var __ = serverStream;
        await using var ___ = clientStream;
        var accepting = server.AcceptStreamsAsync(TimeSpan.FromSeconds(10), default);
        await client.OpenStreamAsync(1, "error");
        await client.OpenStreamAsync(3, "stdout");
        await client.OpenStreamAsync(5, "resize");
        Assert.True(await accepting);

        var session = new EchoSession(exitCode: 0);
        var running = server.RunAsync(session, () => Task.FromResult(new RemoteCommandOutcome("""{"metadata":{},"status":"Success"}""", null)), default);
        // two sizes, the second split across frames
        await client.SendDataAsync(5, """{"Width":80,"Height":24}{"Width":""");
        await client.SendDataAsync(5, "120,\"Height\":40}");
        await session.Resized.Task.WaitAsync(TimeSpan.FromSeconds(10));
        session.End();

        var frames = new List<SpdyFrame>();
        var stdout = await client.ReadStreamAsync(3, frames);
        var error = await ReadFromAsync(client, frames, 1);
        Assert.Equal("", stdout);
        Assert.Equal("", error);
        Assert.Equal([(80, 24), (120, 40)], session.Sizes);
        clientStream.Close();
        await running.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_client_that_does_not_open_its_streams_in_time_is_not_served()
    {
        var (server, client, serverStream, clientStream) = await ConnectAsync(SpdyRemoteCommand.V4, new(Stdin: false, Stdout: true, Stderr: true, Tty: false));
        using var _ = client;
        await using var __ = serverStream;
        await using var ___ = clientStream;
        var accepting = server.AcceptStreamsAsync(TimeSpan.FromMilliseconds(200), default);
        await client.OpenStreamAsync(1, "error");
        Assert.False(await accepting);
    }

    /// <summary>The rest of a stream whose earlier frames may already be in <paramref name="seen"/>.</summary>
    private static async Task<string> ReadFromAsync(SpdyTestClient client, List<SpdyFrame> seen, uint streamId)
    {
        if (seen.OfType<DataFrame>().Any(d => d.StreamId == streamId && d.Fin)) return Collect(seen, streamId);
        var before = Collect(seen, streamId);
        return before + await client.ReadStreamAsync(streamId, seen);
    }

    private static string Collect(IEnumerable<SpdyFrame> frames, uint streamId) =>
        string.Concat(frames.OfType<DataFrame>().Where(d => d.StreamId == streamId).Select(d => Encoding.UTF8.GetString(d.Data)));

    /// <summary>Upper-cases stdin to stdout and echoes it to stderr once stdin closes (or <see cref="End"/>).</summary>
    private sealed class EchoSession(int exitCode) : IExecSession
    {
        private readonly StringBuilder _stdin = new();
        private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly Queue<(string Text, int Stream)> _out = new();
        private bool _queued;
        public bool StdinClosed { get; private set; }
        public List<(int, int)> Sizes { get; } = [];
        public TaskCompletionSource Resized { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void End() => _closed.TrySetResult();

        public async Task<ExecOutput> ReadAsync(byte[] buffer, CancellationToken ct)
        {
            await _closed.Task.WaitAsync(ct);
            if (!_queued && _stdin.Length > 0)
            {
                _out.Enqueue((_stdin.ToString().ToUpperInvariant(), 1));
                _out.Enqueue(("err:" + _stdin, 2));
            }
            _queued = true;
            if (!_out.TryDequeue(out var next)) return new ExecOutput(0, 1, true);
            var bytes = Encoding.UTF8.GetBytes(next.Text);
            bytes.CopyTo(buffer, 0);
            return new ExecOutput(bytes.Length, next.Stream, false);
        }

        public Task WriteStdinAsync(byte[] buffer, int offset, int count, CancellationToken ct)
        {
            _stdin.Append(Encoding.UTF8.GetString(buffer, offset, count));
            return Task.CompletedTask;
        }

        public void CloseStdin()
        {
            StdinClosed = true;
            _closed.TrySetResult();
        }

        public Task ResizeAsync(int width, int height, CancellationToken ct)
        {
            Sizes.Add((width, height));
            if (Sizes.Count == 2) Resized.TrySetResult();
            return Task.CompletedTask;
        }

        public Task<int> ExitCodeAsync(CancellationToken ct) => Task.FromResult(exitCode);
        public void Dispose() { }
    }
}
