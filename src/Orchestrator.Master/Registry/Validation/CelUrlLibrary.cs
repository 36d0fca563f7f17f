using System.Globalization;
using System.Text;
using Cel;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Registry.Validation;

/// <summary>A URL as kube's CEL sees it: Go's url.ParseRequestURI of the text (an absolute URL, or an absolute path).</summary>
internal sealed class CelUrl : CelOpaqueValue
{
    public required string Text { get; init; }
    public string Scheme { get; init; } = "";
    public string Opaque { get; init; } = "";
    public string Host { get; init; } = "";
    public string RawPath { get; init; } = "";
    public string RawQuery { get; init; } = "";

    public override string CelTypeName => "kubernetes.URL";
    protected override object EqualityKey => Text;
}

/// <summary>
/// kube's URL library (apiserver/pkg/cel/library/urls.go): <c>url(s)</c>, <c>isURL(s)</c>, and on a URL
/// <c>getScheme</c>, <c>getHost</c>, <c>getHostname</c>, <c>getPort</c>, <c>getEscapedPath</c>, <c>getQuery</c>, with Go's
/// net/url parsing (ParseRequestURI: no fragment, a relative reference refused) and its error texts.
/// </summary>
internal static class CelUrlLibrary
{
    public static readonly IReadOnlyList<string> Functions =
        ["url", "isURL", "getScheme", "getHost", "getHostname", "getPort", "getEscapedPath", "getQuery"];

    public static void Register(CelEnvironment env)
    {
        env.RegisterFunction("url", [typeof(string)], a =>
            Parse((string)a[0]!, out var url) is { } error ? throw new CelException($"URL parse error during conversion from string: {error}") : url);
        env.RegisterFunction("isURL", [typeof(string)], a => Parse((string)a[0]!, out _) is null);
        env.RegisterFunction("getScheme", [typeof(CelUrl)], a => ((CelUrl)a[0]!).Scheme);
        env.RegisterFunction("getHost", [typeof(CelUrl)], a => ((CelUrl)a[0]!).Host);
        env.RegisterFunction("getHostname", [typeof(CelUrl)], a => SplitHostPort(((CelUrl)a[0]!).Host).Host);
        env.RegisterFunction("getPort", [typeof(CelUrl)], a => SplitHostPort(((CelUrl)a[0]!).Host).Port);
        env.RegisterFunction("getEscapedPath", [typeof(CelUrl)], a => EscapedPath(((CelUrl)a[0]!).RawPath));
        env.RegisterFunction("getQuery", [typeof(CelUrl)], a => Query(((CelUrl)a[0]!).RawQuery));
    }

    /// <summary>Go's url.ParseRequestURI: null and the URL, or Go's error text.</summary>
    public static string? Parse(string raw, out CelUrl? url)
    {
        url = null;
        string Fail(string why) => $"parse {GoQuote.Quote(raw)}: {why}";
        if (raw.Any(c => c < 0x20 || c == 0x7f)) return Fail("net/url: invalid control character in URL");
        if (raw.Length == 0) return Fail("empty url");
        if (raw == "*")
        {
            url = new CelUrl { Text = raw, RawPath = "*" };
            return null;
        }
        var (scheme, rest, schemeError) = SplitScheme(raw);
        if (schemeError is not null) return Fail(schemeError);
        var query = "";
        if (rest.IndexOf('?') is var q and >= 0)
        {
            query = rest[(q + 1)..];
            rest = rest[..q];
        }
        if (!rest.StartsWith('/'))
        {
            if (scheme.Length == 0) return Fail("invalid URI for request");
            url = new CelUrl { Text = raw, Scheme = scheme, Opaque = rest, RawQuery = query };
            return null;
        }
        var host = "";
        if (scheme.Length > 0 && rest.StartsWith("//", StringComparison.Ordinal))
        {
            var authority = rest[2..];
            var slash = authority.IndexOf('/');
            rest = slash < 0 ? "" : authority[slash..];
            if (slash >= 0) authority = authority[..slash];
            var at = authority.LastIndexOf('@');
            if (at >= 0 && !authority[..at].All(ValidUserinfo)) return Fail("net/url: invalid userinfo");
            host = authority[(at + 1)..];
            if (HostError(host) is { } hostError) return Fail(hostError);
        }
        if (Unescape(rest, query: false) is null) return Fail($"invalid URL escape {GoQuote.Quote(BadEscape(rest))}");
        url = new CelUrl { Text = raw, Scheme = scheme, Host = host, RawPath = rest, RawQuery = query };
        return null;
    }

    private static (string Scheme, string Remainder, string? Error) SplitScheme(string raw)
    {
        for (var i = 0; i < raw.Length; i++)
        {
            var c = raw[i];
            if (char.IsAsciiLetter(c)) continue;
            if (char.IsAsciiDigit(c) || c is '+' or '-' or '.')
            {
                if (i == 0) return ("", raw, null);
                continue;
            }
            if (c == ':')
                return i == 0 ? ("", raw, "missing protocol scheme") : (raw[..i].ToLowerInvariant(), raw[(i + 1)..], null);
            return ("", raw, null);
        }
        return ("", raw, null);
    }

    private static bool ValidUserinfo(char c) =>
        char.IsAsciiLetterOrDigit(c) || "-._:~!$&'()*+,;=%@".Contains(c);

    /// <summary>Go's parseHost: a bracketed IPv6 literal, or a name, with an optional numeric port.</summary>
    private static string? HostError(string host)
    {
        string? portPart;
        if (host.StartsWith('['))
        {
            var close = host.LastIndexOf(']');
            if (close < 0) return "missing ']' in host";
            portPart = host[(close + 1)..];
            if (portPart.Length > 0 && !ValidOptionalPort(portPart)) return $"invalid port {GoQuote.Quote(portPart)} after host";
            return null;
        }
        var colon = host.LastIndexOf(':');
        if (colon >= 0 && !ValidOptionalPort(host[colon..])) return $"invalid port {GoQuote.Quote(host[colon..])} after host";
        foreach (var c in host)
            if (c < 0x80 && !char.IsAsciiLetterOrDigit(c) && !"-_.~!$&'()*+,;=:[]<>\"%".Contains(c))
                return $"invalid character {GoQuote.Quote(c.ToString())} in host name";
        return null;
    }

    private static bool ValidOptionalPort(string port) => port.Length == 0 || (port[0] == ':' && port.Skip(1).All(char.IsAsciiDigit));

    private static (string Host, string Port) SplitHostPort(string hostPort)
    {
        var (host, port) = (hostPort, "");
        var colon = hostPort.LastIndexOf(':');
        if (colon >= 0 && ValidOptionalPort(hostPort[colon..])) (host, port) = (hostPort[..colon], hostPort[(colon + 1)..]);
        if (host.StartsWith('[') && host.EndsWith(']')) host = host[1..^1];
        return (host, port);
    }

    /// <summary>Go's URL.EscapedPath: the path as written when that is a valid escaping, else the decoded path escaped.</summary>
    private static string EscapedPath(string raw)
    {
        if (raw.All(c => c == '%' || (c < 0x80 && (char.IsAsciiLetterOrDigit(c) || "-_.~$&+,/:;=@!'()*[]".Contains(c))))) return raw;
        var decoded = Unescape(raw, query: false) ?? raw;
        var escaped = new StringBuilder();
        foreach (var b in Encoding.UTF8.GetBytes(decoded))
        {
            var c = (char)b;
            if (b < 0x80 && (char.IsAsciiLetterOrDigit(c) || "-_.~$&+,/:;=@".Contains(c))) escaped.Append(c);
            else escaped.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
        }
        return escaped.ToString();
    }

    /// <summary>Go's url.ParseQuery, keeping the pairs it can read (a pair with a bad escape or a ';' is dropped).</summary>
    private static Dictionary<string, object?> Query(string raw)
    {
        var values = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var pair in raw.Split('&'))
        {
            if (pair.Length == 0 || pair.Contains(';')) continue;
            var eq = pair.IndexOf('=');
            var key = Unescape(eq < 0 ? pair : pair[..eq], query: true);
            var value = Unescape(eq < 0 ? "" : pair[(eq + 1)..], query: true);
            if (key is null || value is null) continue;
            if (!values.TryGetValue(key, out var list)) values[key] = list = new List<object?>();
            ((List<object?>)list!).Add(value);
        }
        return values;
    }

    /// <summary>Percent-decoding (and '+' as a space in a query); null when an escape is malformed.</summary>
    private static string? Unescape(string text, bool query)
    {
        if (!text.Contains('%') && !(query && text.Contains('+'))) return text;
        var bytes = new List<byte>();
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '%')
            {
                if (i + 2 >= text.Length || !char.IsAsciiHexDigit(text[i + 1]) || !char.IsAsciiHexDigit(text[i + 2])) return null;
                bytes.Add(byte.Parse(text.AsSpan(i + 1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                i += 2;
            }
            else if (c == '+' && query) bytes.Add((byte)' ');
            else bytes.AddRange(Encoding.UTF8.GetBytes(c.ToString()));
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    private static string BadEscape(string text)
    {
        var i = text.IndexOf('%');
        while (i >= 0 && i + 2 < text.Length && char.IsAsciiHexDigit(text[i + 1]) && char.IsAsciiHexDigit(text[i + 2])) i = text.IndexOf('%', i + 3);
        return i < 0 ? "" : text[i..Math.Min(text.Length, i + 3)];
    }

}
