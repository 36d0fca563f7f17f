
namespace Orchestrator.Master.Api.Http;

/// <summary>
/// What a Kubernetes API path addresses, parsed the way the real API server's RequestInfoFactory does:
/// <c>/api/v1[/namespaces/{ns}]/{resource}[/{name}[/{subresource}]]</c> and the same under
/// <c>/apis/{group}/{version}</c>. <c>/api/v1/namespaces/{name}/status|finalize</c> address the namespace itself.
/// </summary>
internal sealed record RequestInfo(string Group, string Version, string? Namespace, string? ResourceName, string? Name,
    string? Subresource)
{
    private static readonly HashSet<string> NamespaceSubresources = ["status", "finalize"];

    /// <summary>Null when the path is not a resource path (discovery paths, or too many segments).</summary>
    public static RequestInfo? Parse(string path)
    {
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        string group, version;
        int rest;
        if (parts.Length >= 2 && parts[0] == "api")
        {
            (group, version, rest) = ("", parts[1], 2);
        }
        else if (parts.Length >= 3 && parts[0] == "apis")
        {
            (group, version, rest) = (parts[1], parts[2], 3);
        }
        else
        {
            return null;
        }

        var segments = parts[rest..];
        if (segments.Length == 0) return new RequestInfo(group, version, null, null, null, null);

        string? ns = null;
        if (segments[0] == "namespaces" && segments.Length > 1)
        {
            ns = segments[1];
            if (segments.Length > 2 && !NamespaceSubresources.Contains(segments[2]))
                segments = segments[2..];
            else
                return segments.Length > 3
                    ? null
                    : new RequestInfo(group, version, null, "namespaces", segments[1], segments.Length > 2 ? segments[2] : null);
        }

        return segments.Length switch
        {
            1 => new RequestInfo(group, version, ns, segments[0], null, null),
            2 => new RequestInfo(group, version, ns, segments[0], segments[1], null),
            3 => new RequestInfo(group, version, ns, segments[0], segments[1], segments[2]),
            _ => null,
        };
    }

    public bool IsGroupVersionRoot => ResourceName is null;
}
