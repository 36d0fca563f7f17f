using System.Globalization;
using Microsoft.AspNetCore.Http;
using Orchestrator.Node.Runtime;

namespace Orchestrator.Node.Agent.Kubelet;

/// <summary>GET /containerLogs/{ns}/{pod}/{container}?follow&amp;previous&amp;tailLines&amp;sinceSeconds&amp;timestamps&amp;podUID —
/// the kubelet's log endpoint: plain text, streamed while <c>follow</c> is set.</summary>
internal static class ContainerLogs
{
    public static async Task ServeAsync(HttpContext context, IContainerRuntime runtime, string ns, string pod, string container)
    {
        var query = context.Request.Query;
        var ct = context.RequestAborted;
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
        var request = new ContainerLogRequest(
            Follow: Flag(query["follow"]) && !previousWanted,
            TailLines: Number(query["tailLines"]),
            SinceSeconds: Number(query["sinceSeconds"]),
            Timestamps: Flag(query["timestamps"]));
        await runtime.StreamLogsAsync(target.Id, request, context.Response.Body, ct);
    }

    private static bool Flag(string? value) => value is "true" or "1";

    private static long? Number(string? value) =>
        long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
