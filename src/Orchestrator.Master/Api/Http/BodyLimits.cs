namespace Orchestrator.Master.Api.Http;

/// <summary>
/// The bounds every request body is read within, so that no body can take the process down or hold unbounded memory
/// or CPU. Sizes are kube-apiserver's (<c>MaxRequestBodyBytes</c>, <c>JSONPatchMaxCopyBytes</c>, the JSON patch
/// operation limit). The nesting depth is lower than kube's 10,000: objects are handled by recursive code
/// (System.Text.Json's serializer stops at 64 levels) and no Kubernetes object nests deeper than about 30.
/// </summary>
internal static class BodyLimits
{
    /// <summary>kube-apiserver's request body limit (3 MiB).</summary>
    public const long MaxBodyBytes = 3 * 1024 * 1024;

    /// <summary>Objects and arrays nested deeper than this are refused (400).</summary>
    public const int MaxDepth = 64;

    /// <summary>A JSON patch with more operations is refused with 413, as kube-apiserver does.</summary>
    public const int MaxJsonPatchOperations = 10_000;

    /// <summary>What the <c>copy</c> operations of one JSON patch may add together (422 beyond it).</summary>
    public const long MaxJsonPatchCopyBytes = 3 * 1024 * 1024;

    /// <summary>The whole body must arrive within this time (kube-apiserver's default request timeout); Kestrel's
    /// minimum data rate ends bodies that trickle in more slowly still.</summary>
    public static readonly TimeSpan BodyReadTimeout = TimeSpan.FromSeconds(60);
}

/// <summary>A body that is not well-formed within <see cref="BodyLimits"/>; the caller words the 400 for its context
/// ("error decoding patch: …", "… cannot be handled as a Pod: …").</summary>
internal sealed class MalformedBodyException(string message) : Exception(message);
