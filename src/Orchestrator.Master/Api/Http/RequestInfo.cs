
namespace Orchestrator.Master.Api.Http;

/// <summary>
/// What a Kubernetes API path addresses, parsed the way the real API server's RequestInfoFactory does:
/// <c>/api/v1[/namespaces/{ns}]/{resource}[/{name}[/{subresource}]]</c> and the same under
/// <c>/apis/{group}/{version}</c>. <c>/api/v1/namespaces/{name}/status|finalize</c> address the namespace itself.
/// The path is the one the client sent (<see cref="RawRequestPath"/>): segments are taken as they are, never collapsed,
/// so "." and ".." are names like any other and <see cref="CheckNames"/> refuses them.
/// </summary>
internal sealed record RequestInfo(string Group, string Version, string? Namespace, string? ResourceName, string? Name,
    string? Subresource)
{
    private static readonly HashSet<string> NamespaceSubresources = ["status", "finalize"];

    private static readonly object ParsedKey = new();

    /// <summary><see cref="Parse"/> of the request's path, once per request: the dispatch and the request metrics both
    /// ask (kept in the request's items with the path it was parsed from, and parsed again if the path was changed).</summary>
    public static RequestInfo? Of(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "";
        if (context.Items.TryGetValue(ParsedKey, out var kept) && kept is Parsed parsed && ReferenceEquals(parsed.Path, path))
            return parsed.Info;
        var info = Parse(path);
        context.Items[ParsedKey] = new Parsed(path, info);
        return info;
    }

    private sealed record Parsed(string Path, RequestInfo? Info);

    /// <summary>Null when the path is not a resource path (discovery paths, or too many segments).</summary>
    public static RequestInfo? Parse(string path)
    {
        // As kube's splitPath: surrounding slashes go, an empty segment inside addresses nothing.
        var trimmed = path.Trim('/');
        if (trimmed.Length == 0) return null;
        var parts = trimmed.Split('/');
        if (parts.Contains("")) return null;
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

    /// <summary>Refuses a name or namespace no object can have in a path, as kube-apiserver's key functions do:
    /// "Name parameter invalid: \"..\": may not be '..'" (400).</summary>
    public void CheckNames()
    {
        if (Name is not null && PathSegmentName.Problems(Name) is { Count: > 0 } name)
            throw ApiException.BadRequest($"Name parameter invalid: \"{Name}\": {string.Join(";", name)}");
        if (Namespace is not null && PathSegmentName.Problems(Namespace) is { Count: > 0 } ns)
            throw ApiException.BadRequest($"Namespace parameter invalid: \"{Namespace}\": {string.Join(";", ns)}");
    }
}

/// <summary>apimachinery's path segment name rule (IsValidPathSegmentName): what no name may be in a URL.</summary>
internal static class PathSegmentName
{
    public static IReadOnlyList<string> Problems(string name)
    {
        if (name == ".") return ["may not be '.'"];
        if (name == "..") return ["may not be '..'"];
        var problems = new List<string>();
        if (name.Contains('/')) problems.Add("may not contain '/'");
        if (name.Contains('%')) problems.Add("may not contain '%'");
        return problems;
    }
}
