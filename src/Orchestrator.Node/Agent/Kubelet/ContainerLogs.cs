using System.Globalization;
using Microsoft.AspNetCore.Http;
using Orchestrator.Node.Runtime;

namespace Orchestrator.Node.Agent.Kubelet;

/// <summary>GET /containerLogs/{ns}/{pod}/{container}?follow&amp;previous&amp;tailLines&amp;sinceSeconds&amp;sinceTime&amp;limitBytes&amp;timestamps&amp;stream&amp;podUID —
/// the kubelet's log endpoint: plain text, streamed while <c>follow</c> is set, ended after <c>limitBytes</c>, of one
/// stream when <c>stream</c> is Stdout or Stderr (the kubelet's PodLogsQuerySplitStreams).</summary>
internal static class ContainerLogs
{
    public static async Task ServeAsync(HttpContext context, IContainerRuntime runtime, string ns, string pod, string container)
    {
        var query = context.Request.Query;
        var ct = context.RequestAborted;
        ContainerLogRequest request;
        long? limitBytes;
        try
        {
            var stream = (string?)query["stream"] ?? "All";
            request = new ContainerLogRequest(
                Follow: Flag(query["follow"]) && !Flag(query["previous"]),
                TailLines: Number(query["tailLines"], "tailLines", min: 0),
                SinceSeconds: Number(query["sinceSeconds"], "sinceSeconds", min: 1),
                Timestamps: Flag(query["timestamps"]),
                SinceTime: Time(query["sinceTime"]),
                Stdout: stream is "All" or "Stdout" ? true : stream is "Stderr" ? false : throw new FormatException($"stream: invalid value {stream}"),
                Stderr: stream is "All" or "Stderr");
            if (stream != "All" && request.TailLines is not null)
                throw new FormatException("`tailLines` and specific `stream` are mutually exclusive for now");
            limitBytes = Number(query["limitBytes"], "limitBytes", min: 1);
        }
        catch (FormatException e)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync(e.Message, ct);
            return;
        }
        var (current, previous) = await KubeletServer.FindAsync(runtime, ns, pod, container, NullIfEmpty(query["podUID"]), ct);
        var previousWanted = Flag(query["previous"]);
        var target = previousWanted ? previous : current;
        if (target is null)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            await context.Response.WriteAsync(previousWanted
                ? $"previous terminated container \"{container}\" in pod \"{pod}\" not found"
                : $"container \"{container}\" in pod \"{pod}\" is not available", ct);
            return;
        }
        context.Response.ContentType = "text/plain";
        await context.Response.StartAsync(ct);
        if (limitBytes is not { } limit)
        {
            await runtime.StreamLogsAsync(target.Id, request, context.Response.Body, ct);
            return;
        }
        // as the kubelet's LimitWriter: the log ends once the limit is written, also while following
        using var reached = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var limited = new LimitedStream(context.Response.Body, limit, reached);
        try
        {
            await runtime.StreamLogsAsync(target.Id, request, limited, reached.Token);
        }
        catch (OperationCanceledException) when (limited.Full && !ct.IsCancellationRequested)
        {
        }
    }

    private static bool Flag(string? value) => value is "true" or "1";

    private static long? Number(string? value, string name, long min) =>
        string.IsNullOrEmpty(value) ? null
        : long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) && n >= min ? n
        : throw new FormatException($"{name}: invalid value {value}");

    private static DateTimeOffset? Time(string? value) =>
        string.IsNullOrEmpty(value) ? null
        : DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t
        : throw new FormatException($"sinceTime: invalid value {value}");

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    /// <summary>Passes on at most <c>limit</c> bytes, then cancels <c>reached</c> so that the reader stops.</summary>
    private sealed class LimitedStream(Stream inner, long limit, CancellationTokenSource reached) : Stream
    {
        private long _left = limit;

        public bool Full => _left == 0;

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default)
        {
            if (_left == 0) return;
            var part = buffer.Length <= _left ? buffer : buffer[..(int)_left];
            await inner.WriteAsync(part, ct);
            _left -= part.Length;
            if (_left == 0)
            {
                await inner.FlushAsync(ct);
                await reached.CancelAsync();
            }
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
            WriteAsync(buffer.AsMemory(offset, count), ct).AsTask();

        public override Task FlushAsync(CancellationToken ct) => _left == 0 ? Task.CompletedTask : inner.FlushAsync(ct);
        public override void Flush() => inner.Flush();
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) =>
            WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
    }
}
