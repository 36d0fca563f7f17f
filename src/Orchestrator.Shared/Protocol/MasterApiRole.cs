namespace Orchestrator.Shared.Protocol;

/// <summary>
/// The cluster role by which each master of several announces where it serves the API ("api_10.0.0.1_6443",
/// "api_~~1_6443" for ::1): the masters find the leader's API through it, the leader lists every live master in the
/// kubernetes Service's endpoints. A role is written unquoted into HOCON by Akka.Hosting, so it holds letters, digits,
/// '.', '-', '_' and '~' only.
/// </summary>
public static class MasterApiRole
{
    public const string Prefix = "api_";

    public static string Format(string host, int port) => $"{Prefix}{host.Replace(':', '~')}_{port}";

    /// <summary>The host (an IPv6 address without brackets) and port a role of <see cref="Format"/> announces; null for
    /// any other role.</summary>
    public static (string Host, int Port)? Parse(string role)
    {
        if (!role.StartsWith(Prefix, StringComparison.Ordinal)) return null;
        var rest = role[Prefix.Length..];
        var last = rest.LastIndexOf('_');
        if (last <= 0 || !int.TryParse(rest[(last + 1)..], System.Globalization.NumberStyles.None, null, out var port) || port is <= 0 or > 65535)
            return null;
        return (rest[..last].Replace('~', ':'), port);
    }

    /// <summary>The API a member with <paramref name="roles"/> announces, or null (a node, or a single master).</summary>
    public static (string Host, int Port)? Of(IEnumerable<string> roles)
    {
        foreach (var role in roles)
            if (Parse(role) is { } api) return api;
        return null;
    }
}
