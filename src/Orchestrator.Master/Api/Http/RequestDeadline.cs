using Orchestrator.Shared.Api;
using Microsoft.AspNetCore.Http.Features;

namespace Orchestrator.Master.Api.Http;

/// <summary>
/// kube-apiserver's bound on every request that is not long-running (its filters WithRequestDeadline and
/// WithTimeoutForNonLongRunningRequests): the request must be answered within the client's <c>?timeout=</c> (a Go
/// duration; kubectl sends its --request-timeout there) or the server's --request-timeout, whichever is shorter (a
/// timeout of 0, negative or above the server's is the server's). When the deadline passes, the request's work is
/// cancelled (<see cref="HttpContext.RequestAborted"/> is the deadline's token below this middleware: handlers, the store
/// client and the forwarding to the leader all stop) and, if nothing of the answer was sent yet, the answer is kube's
/// 504; an answer already under way is cut off, as kube's timeout handler does, so the client does not take a
/// truncated answer for a whole one. A <c>timeout</c> that is no Go duration is refused with kube's 400.
/// Long-running requests — watches, proxies, and the log, exec, attach and port-forward subresources — have no deadline
/// and never read <c>timeout</c> (a watch ends after its timeoutSeconds).
/// </summary>
internal sealed class RequestDeadline(RequestDelegate next, TimeSpan maximum)
{
    /// <summary>kube-apiserver's --request-timeout default.</summary>
    public static readonly TimeSpan DefaultMaximum = TimeSpan.FromMinutes(1);

    /// <summary>kube's body (apierrors.NewTimeoutError with retry 0, encoded by the timeout handler straight from the
    /// Status struct: no kind or apiVersion) and no Retry-After, so clients do not retry by themselves.</summary>
    internal static readonly byte[] TimeoutBody =
        """{"metadata":{},"status":"Failure","message":"Timeout: request did not complete within the allotted timeout","reason":"Timeout","details":{},"code":504}"""u8
            .ToArray().Append((byte)'\n').ToArray();

    /// <summary>The content type Go's server gives that body: the timeout handler sets none, so net/http sniffs it.</summary>
    internal const string TimeoutContentType = "text/plain; charset=utf-8";

    private static readonly HashSet<string> LongRunningSubresources = ["attach", "exec", "proxy", "log", "portforward"];

    public async Task InvokeAsync(HttpContext context)
    {
        // a master among several runs this before forwarding to the leader, and again in its own API pipeline
        if (context.Features.Get<Deadline>() is not null || IsLongRunning(context))
        {
            await next(context);
            return;
        }
        if (Timeout(context.Request.Query, maximum, out var problem) is not { } timeout)
        {
            await StatusResponses.WriteAsync(context, ApiException.BadRequest($"invalid timeout specified in the request URL - {problem}"));
            return;
        }

        var aborted = context.RequestAborted;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        var state = new Deadline(aborted, deadline.Token);
        context.Features.Set(state);
        // the headers the outer middlewares set (Audit-Id): an answer in place of the handler's keeps them, and only them
        var outer = new HeaderDictionary();
        foreach (var header in context.Response.Headers) outer[header.Key] = header.Value;
        context.RequestAborted = deadline.Token;
        // under 100 ns (a tick) the deadline has passed before the handler could start, as kube's context with a deadline
        // already past is done at once: the answer is the 504, whatever the handler would have managed before a timer fired
        if (timeout == TimeSpan.Zero) deadline.Cancel();
        else deadline.CancelAfter(timeout);
        try
        {
            if (!state.Passed) await next(context);
        }
        catch (Exception) when (state.Passed)
        {
            // the work the deadline cancelled; answered below
        }
        finally
        {
            context.RequestAborted = aborted;
        }
        if (!state.Passed) return;
        if (context.Response.HasStarted)
        {
            context.Abort();
            return;
        }
        context.Response.Headers.Clear();
        foreach (var header in outer) context.Response.Headers[header.Key] = header.Value;
        context.Response.StatusCode = StatusCodes.Status504GatewayTimeout;
        context.Response.ContentType = TimeoutContentType;
        context.Response.ContentLength = TimeoutBody.Length;
        try
        {
            await context.Response.Body.WriteAsync(TimeoutBody, aborted);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // the client went away as well
        }
    }

    /// <summary>Whether the request's deadline has passed (not: whether the client went away).</summary>
    public static bool Passed(HttpContext context) => context.Features.Get<Deadline>()?.Passed == true;

    /// <summary>The request's deadline: <c>timeout</c> when it is positive and below <paramref name="maximum"/>, else the
    /// maximum; null with Go's error when <c>timeout</c> is no Go duration (an empty one is none).</summary>
    internal static TimeSpan? Timeout(IQueryCollection query, TimeSpan maximum, out string? problem)
    {
        problem = null;
        var values = query["timeout"];
        if (values.Count == 0 || values[0] is not { Length: > 0 } text) return maximum;
        if (GoDuration.TryParse(text, out problem) is not { } nanoseconds) return null;
        // (ticks are 100 ns: a timeout of a few nanoseconds has passed already, as in kube)
        var requested = TimeSpan.FromTicks(nanoseconds / 100);
        return nanoseconds > 0 && requested < maximum ? requested : maximum;
    }

    /// <summary>kube-apiserver's long-running check (BasicLongRunningRequestCheck with the verbs watch and proxy and the
    /// subresources attach, exec, proxy, log and portforward), on the request as RequestInfoFactory reads it: the
    /// path as the client sent it, a collection's GET with a true <c>watch</c> being a watch.</summary>
    internal static bool IsLongRunning(HttpContext context)
    {
        var path = RawRequestPath.PathOf(context.Features.Get<IHttpRequestFeature>()?.RawTarget) is { } raw
            ? RawRequestPath.Decode(raw)
            : context.Request.Path.Value ?? "";
        return IsLongRunning(context.Request.Method, path, context.Request.Query);
    }

    internal static bool IsLongRunning(string method, string path, IQueryCollection query)
    {
        var parts = path.Trim('/').Split('/');
        // non-resource paths (discovery, /version, /openapi, health) and group or version roots are never long-running
        if (parts.Length < 3 || parts[0] is not ("api" or "apis") || (parts[0] == "apis" && parts.Length < 4)) return false;
        var rest = parts.AsSpan(parts[0] == "apis" ? 3 : 2);
        if (rest[0] is "watch" or "proxy") return rest.Length >= 2; // /api/v1/watch/…, /api/v1/proxy/…
        if (rest[0] == "namespaces" && rest.Length > 2 && rest[2] is not ("status" or "finalize")) rest = rest[2..];
        if (rest.Length >= 3) return LongRunningSubresources.Contains(rest[2]);
        return rest.Length == 1 && (HttpMethods.IsGet(method) || HttpMethods.IsHead(method)) && QueryParameters.Bool(query, "watch");
    }

    /// <summary>The request's deadline, for those below this middleware that answer a cancelled request themselves.</summary>
    private sealed class Deadline(CancellationToken client, CancellationToken deadline)
    {
        public bool Passed => deadline.IsCancellationRequested && !client.IsCancellationRequested;
    }
}
