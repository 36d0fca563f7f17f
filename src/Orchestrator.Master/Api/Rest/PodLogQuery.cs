using System.Globalization;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Registry.Validation;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Api.Rest;

/// <summary>
/// A log request's PodLogOptions, read from the query as kube-apiserver's parameter codec reads them (the first value
/// of each; booleans true unless "0" or "false"; numbers with Go's strconv.ParseInt and times with time.Parse(RFC3339),
/// a value they refuse answered 400 with Go's words) and checked as its ValidatePodLogOptions (422 PodLogOptions).
/// The kubelet gets them again in the same spelling as kube-apiserver's LogLocation passes them. <c>stream</c> is read
/// as 1.32 does with its PodLogsQuerySplitStreams gate on (defaulted to All; Stdout or Stderr alone, not with
/// tailLines), since the node can serve one stream of Docker's log.
/// </summary>
internal sealed record PodLogQuery(
    string? Container, bool Follow, bool Previous, bool Timestamps, long? SinceSeconds, DateTimeOffset? SinceTime,
    long? TailLines, long? LimitBytes, bool InsecureSkipTlsVerifyBackend, string Stream = PodLogQuery.AllStreams)
{
    public const string AllStreams = "All";
    private static readonly string[] Streams = [AllStreams, "Stderr", "Stdout"];

    public static PodLogQuery Parse(IQueryCollection query, string podName)
    {
        PodLogQuery options;
        try
        {
            options = new PodLogQuery(
                query.TryGetValue("container", out var container) && container.Count > 0 ? container[0] : null,
                QueryParameters.Bool(query, "follow"), QueryParameters.Bool(query, "previous"), QueryParameters.Bool(query, "timestamps"),
                Int64(query, "sinceSeconds"), Time(query, "sinceTime"), Int64(query, "tailLines"), Int64(query, "limitBytes"),
                QueryParameters.Bool(query, "insecureSkipTLSVerifyBackend"),
                query.TryGetValue("stream", out var stream) && stream.Count > 0 ? stream[0] ?? "" : AllStreams);
        }
        catch (FormatException e)
        {
            throw ApiException.BadRequest(e.Message);
        }
        var causes = new List<StoreErrorCause>();
        if (options.TailLines < 0) causes.Add(FieldErrors.Invalid("tailLines", options.TailLines, "must be greater than or equal to 0"));
        if (options.LimitBytes < 1) causes.Add(FieldErrors.Invalid("limitBytes", options.LimitBytes, "must be greater than 0"));
        if (options.SinceSeconds is not null && options.SinceTime is not null)
            causes.Add(FieldErrors.Forbidden("", "at most one of `sinceTime` or `sinceSeconds` may be specified"));
        else if (options.SinceSeconds < 1)
            causes.Add(FieldErrors.Invalid("sinceSeconds", options.SinceSeconds, "must be greater than 0"));
        if (!Streams.Contains(options.Stream, StringComparer.Ordinal))
            causes.Add(FieldErrors.NotSupported("stream", options.Stream, Streams));
        if (options.Stream != AllStreams && options.TailLines is not null)
            causes.Add(FieldErrors.Forbidden("", "`tailLines` and specific `stream` are mutually exclusive for now"));
        if (causes.Count > 0) throw ApiException.Invalid("", "PodLogOptions", podName, causes);
        return options;
    }

    /// <summary>The kubelet's query (<c>/containerLogs/…?…</c>): what is set, and the pod's uid so that a pod of the
    /// same name made since is not the one read.</summary>
    public string KubeletQuery(string podUid)
    {
        var parts = new List<string>();
        if (Follow) parts.Add("follow=true");
        if (Previous) parts.Add("previous=true");
        if (Timestamps) parts.Add("timestamps=true");
        if (SinceSeconds is { } seconds) parts.Add($"sinceSeconds={seconds.ToString(CultureInfo.InvariantCulture)}");
        if (SinceTime is { } time)
            parts.Add($"sinceTime={Uri.EscapeDataString(time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture))}");
        if (TailLines is { } tail) parts.Add($"tailLines={tail.ToString(CultureInfo.InvariantCulture)}");
        if (LimitBytes is { } limit) parts.Add($"limitBytes={limit.ToString(CultureInfo.InvariantCulture)}");
        parts.Add($"stream={Stream}");
        parts.Add($"podUID={Uri.EscapeDataString(podUid)}");
        return string.Join("&", parts);
    }

    private static long? Int64(IQueryCollection query, string name) =>
        query.TryGetValue(name, out var values) && values.Count > 0 ? GoValues.ParseInt64(values[0] ?? "") : null;

    /// <summary>metav1.Time's UnmarshalQueryParameter: empty or "null" is the zero time (set, so still "given").</summary>
    private static DateTimeOffset? Time(IQueryCollection query, string name) =>
        !query.TryGetValue(name, out var values) || values.Count == 0 ? null
        : values[0] is null or "" or "null" ? DateTimeOffset.MinValue
        : GoValues.ParseRfc3339(values[0]!);
}
