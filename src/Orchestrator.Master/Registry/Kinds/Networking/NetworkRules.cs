using System.Net;
using System.Text.RegularExpressions;
using Orchestrator.Master.Registry.Validation;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Registry.Kinds.Networking;

/// <summary>apimachinery's network-shaped validators, with the API server's messages: wildcard DNS subdomains, port
/// numbers, CIDRs, IP addresses, domain-prefixed paths.</summary>
internal static partial class NetworkRules
{
    private const string WildcardFormat = "\\*\\." + Names.Dns1123SubdomainFormat;

    [GeneratedRegex("^" + WildcardFormat + "\\z")] private static partial Regex Wildcard();
    [GeneratedRegex("^[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+\\z")] private static partial Regex PathSegment();

    public static IEnumerable<string> CheckWildcardHost(string host)
    {
        if (host.Length > 253) yield return "must be no more than 253 characters";
        if (!Wildcard().IsMatch(host))
            yield return "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must " +
                         "consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character " +
                         "(e.g. '*.example.com', regex used for validation is '" + WildcardFormat + "')";
    }

    /// <summary>A host rule: a DNS name (wildcard or not), never an IP address.</summary>
    public static void ValidateHost(string host, string path, List<StoreErrorCause> causes)
    {
        if (IPAddress.TryParse(host, out _) && (host.Contains('.') || host.Contains(':')))
            causes.Add(FieldErrors.Invalid(path, host, "must be a DNS name, not an IP address"));
        var messages = host.Contains('*') ? CheckWildcardHost(host) : Names.Check(host, Names.Rule.Dns1123Subdomain);
        foreach (var message in messages) causes.Add(FieldErrors.Invalid(path, host, message));
    }

    public static IEnumerable<string> CheckPort(long port)
    {
        if (port is < 1 or > 65535) yield return "must be between 1 and 65535, inclusive";
    }

    /// <summary>Go's net.ParseCIDR (IPv4 or IPv6 with a prefix length).</summary>
    public static bool TryParseCidr(string cidr, out IPAddress address, out int prefix)
    {
        address = IPAddress.None;
        prefix = 0;
        var slash = cidr.IndexOf('/');
        if (slash < 0 || !IPAddress.TryParse(cidr[..slash], out var parsed) || !int.TryParse(cidr[(slash + 1)..], out prefix)) return false;
        if (cidr[..slash].Contains('%')) return false;
        var bits = parsed.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128;
        if (parsed.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && cidr[..slash].Count(c => c == '.') != 3) return false;
        if (prefix < 0 || prefix > bits || cidr[(slash + 1)..].StartsWith('+')) return false;
        address = parsed;
        return true;
    }

    public static void ValidateCidr(string cidr, string path, List<StoreErrorCause> causes)
    {
        if (!TryParseCidr(cidr, out _, out _))
            causes.Add(FieldErrors.Invalid(path, cidr, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"));
    }

    /// <summary>Whether <paramref name="inner"/> is a strict subset of <paramref name="outer"/> (as NetworkPolicy's
    /// ipBlock.except must be).</summary>
    public static bool StrictSubset(string outer, string inner)
    {
        if (!TryParseCidr(outer, out var outerIp, out var outerBits) || !TryParseCidr(inner, out var innerIp, out var innerBits)) return false;
        if (outerIp.AddressFamily != innerIp.AddressFamily || outerBits >= innerBits) return false;
        var a = outerIp.GetAddressBytes();
        var b = innerIp.GetAddressBytes();
        for (var i = 0; i < outerBits; i++)
        {
            var mask = 0x80 >> (i % 8);
            if ((a[i / 8] & mask) != (b[i / 8] & mask)) return false;
        }
        return true;
    }

    /// <summary>IsDomainPrefixedPath: "example.com/path", the host a DNS subdomain, the path of URL-safe characters.</summary>
    public static void ValidateDomainPrefixedPath(string value, string path, List<StoreErrorCause> causes)
    {
        if (value.Length == 0)
        {
            causes.Add(FieldErrors.Required(path));
            return;
        }
        var slash = value.IndexOf('/');
        if (slash <= 0 || slash == value.Length - 1)
        {
            causes.Add(FieldErrors.Invalid(path, value, "must be a domain-prefixed path (such as \"acme.io/foo\")"));
            return;
        }
        var host = value[..slash];
        foreach (var message in Names.Check(host, Names.Rule.Dns1123Subdomain))
            causes.Add(FieldErrors.Invalid(path, host, message));
        var rest = value[(slash + 1)..];
        if (!PathSegment().IsMatch(rest)) causes.Add(FieldErrors.Invalid(path, rest, "Invalid path"));
    }
}
