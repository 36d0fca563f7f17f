using System.Net;
using System.Net.Sockets;
using Cel;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Registry.Validation;

/// <summary>An IP address in CEL (Go's netip.Addr, without zone, never IPv4-mapped IPv6).</summary>
internal sealed class CelIp(IPAddress address) : CelOpaqueValue
{
    public IPAddress Address { get; } = address;

    public bool Is4 => Address.AddressFamily == AddressFamily.InterNetwork;

    public override string CelTypeName => "net.IP";
    protected override object EqualityKey => Address.ToString();
}

/// <summary>A CIDR in CEL (Go's netip.Prefix: the address as written, and the prefix length).</summary>
internal sealed class CelCidr(CelIp ip, int bits) : CelOpaqueValue
{
    public CelIp Ip { get; } = ip;
    public int Bits { get; } = bits;

    public override string CelTypeName => "net.CIDR";
    protected override object EqualityKey => $"{Ip.Address}/{Bits}";

    public CelCidr Masked() => new(new CelIp(Mask(Ip.Address, Bits)), Bits);

    public bool Contains(CelIp ip) => ip.Is4 == Ip.Is4 && Mask(ip.Address, Bits).Equals(Mask(Ip.Address, Bits));

    public static IPAddress Mask(IPAddress address, int bits)
    {
        var bytes = address.GetAddressBytes();
        for (var i = 0; i < bytes.Length; i++)
        {
            var keep = Math.Clamp(bits - i * 8, 0, 8);
            bytes[i] &= (byte)(0xff << (8 - keep));
        }
        return new IPAddress(bytes);
    }
}

/// <summary>
/// kube's IP and CIDR libraries (apiserver/pkg/cel/library/ip.go, cidr.go): <c>ip(s)</c>, <c>isIP(s)</c>,
/// <c>ip.isCanonical(s)</c>, <c>string(ip)</c>, <c>family</c>, <c>isUnspecified</c>, <c>isLoopback</c>,
/// <c>isLinkLocalMulticast</c>, <c>isLinkLocalUnicast</c>, <c>isGlobalUnicast</c>; <c>cidr(s)</c>, <c>isCIDR(s)</c>,
/// <c>string(cidr)</c>, <c>containsIP</c>, <c>containsCIDR</c> (of a value or its text), <c>ip()</c>, <c>masked</c>,
/// <c>prefixLength</c>. Parsing is Go's netip (dotted IPv4 without leading zeros; zones and IPv4-mapped IPv6 refused),
/// with kube's error texts.
/// </summary>
internal static class CelNetworkLibrary
{
    public static readonly IReadOnlyList<string> Functions =
    [
        "ip", "isIP", "isCanonical", "family", "isUnspecified", "isLoopback", "isLinkLocalMulticast", "isLinkLocalUnicast",
        "isGlobalUnicast", "cidr", "isCIDR", "containsIP", "containsCIDR", "masked", "prefixLength",
    ];

    public static void Register(CelEnvironment env)
    {
        var ip = typeof(CelIp);
        var cidr = typeof(CelCidr);
        env.RegisterFunction("ip", [typeof(string)], a => ParseIp((string)a[0]!, out var value) is { } error ? throw new CelException(error) : value);
        env.RegisterFunction("isIP", [typeof(string)], a => ParseIp((string)a[0]!, out _) is null);
        env.RegisterFunction("isCanonical", [typeof(CelNamespace), typeof(string)], a =>
            ParseIp((string)a[1]!, out var value) is { } error ? throw new CelException(error) : value!.Address.ToString() == (string)a[1]!);
        env.RegisterFunction("string", [ip], a => ((CelIp)a[0]!).Address.ToString());
        env.RegisterFunction("family", [ip], a => ((CelIp)a[0]!).Is4 ? 4L : 6L);
        env.RegisterFunction("isUnspecified", [ip], a => IPAddress.Any.Equals(A(a[0])) || IPAddress.IPv6Any.Equals(A(a[0])));
        env.RegisterFunction("isLoopback", [ip], a => IsLoopback((CelIp)a[0]!));
        env.RegisterFunction("isLinkLocalMulticast", [ip], a => IsLinkLocalMulticast((CelIp)a[0]!));
        env.RegisterFunction("isLinkLocalUnicast", [ip], a => IsLinkLocalUnicast((CelIp)a[0]!));
        env.RegisterFunction("isGlobalUnicast", [ip], a => IsGlobalUnicast((CelIp)a[0]!));

        env.RegisterFunction("cidr", [typeof(string)], a => ParseCidr((string)a[0]!, out var value) is { } error ? throw new CelException(error) : value);
        env.RegisterFunction("isCIDR", [typeof(string)], a => ParseCidr((string)a[0]!, out _) is null);
        env.RegisterFunction("string", [cidr], a => a[0]!.ToString());
        env.RegisterFunction("containsIP", [cidr, ip], a => ((CelCidr)a[0]!).Contains((CelIp)a[1]!));
        env.RegisterFunction("containsIP", [cidr, typeof(string)], a =>
            ParseIp((string)a[1]!, out var value) is { } error ? throw new CelException(error) : ((CelCidr)a[0]!).Contains(value!));
        env.RegisterFunction("containsCIDR", [cidr, cidr], a => ContainsCidr((CelCidr)a[0]!, (CelCidr)a[1]!));
        env.RegisterFunction("containsCIDR", [cidr, typeof(string)], a =>
            ParseCidr((string)a[1]!, out var value) is { } error ? throw new CelException(error) : ContainsCidr((CelCidr)a[0]!, value!));
        env.RegisterFunction("ip", [cidr], a => ((CelCidr)a[0]!).Ip);
        env.RegisterFunction("masked", [cidr], a => ((CelCidr)a[0]!).Masked());
        env.RegisterFunction("prefixLength", [cidr], a => (long)((CelCidr)a[0]!).Bits);
    }

    private static IPAddress A(object? value) => ((CelIp)value!).Address;

    /// <summary>kube's parseIPAddr over Go's netip.ParseAddr: null and the address, or the error text.</summary>
    public static string? ParseIp(string raw, out CelIp? ip)
    {
        ip = null;
        var problem = AddrProblem(raw, out var address);
        if (problem is not null) return $"IP Address {GoQuote.Quote(raw)} parse error during conversion from string: ParseAddr({GoQuote.Quote(raw)}): {problem}";
        if (raw.Contains('%')) return $"IP address {GoQuote.Quote(raw)} with zone value is not allowed";
        if (address!.IsIPv4MappedToIPv6) return $"IPv4-mapped IPv6 address {GoQuote.Quote(raw)} is not allowed";
        ip = new CelIp(address);
        return null;
    }

    /// <summary>kube's parseCIDR over Go's netip.ParsePrefix: null and the prefix, or the error text.</summary>
    public static string? ParseCidr(string raw, out CelCidr? cidr)
    {
        cidr = null;
        string Fail(string why) => $"network address parse error during conversion from string: netip.ParsePrefix({GoQuote.Quote(raw)}): {why}";
        var slash = raw.LastIndexOf('/');
        if (slash < 0) return Fail("no '/'");
        var text = raw[..slash];
        if (AddrProblem(text, out var address) is { } problem) return Fail($"ParseAddr({GoQuote.Quote(text)}): {problem}");
        if (text.Contains('%')) return Fail("IPv6 zones cannot be present in a prefix");
        var bitsText = raw[(slash + 1)..];
        var max = address!.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        if (bitsText.Length == 0 || !bitsText.All(char.IsAsciiDigit) || (bitsText.Length > 1 && bitsText[0] == '0') || bitsText.Length > 3)
            return Fail($"bad bits after slash: {GoQuote.Quote(bitsText)}");
        var bits = int.Parse(bitsText, System.Globalization.CultureInfo.InvariantCulture);
        if (bits > max) return Fail("prefix length out of range");
        if (address.IsIPv4MappedToIPv6) return $"IPv4-mapped IPv6 address {GoQuote.Quote(raw)} is not allowed";
        cidr = new CelCidr(new CelIp(address), bits);
        return null;
    }

    /// <summary>Go's netip.ParseAddr's checks: IPv4 as four decimal fields without leading zeros; IPv6 as hex groups
    /// (with an optional trailing IPv4 and zone).</summary>
    private static string? AddrProblem(string s, out IPAddress? address)
    {
        address = null;
        if (s.Length == 0) return "unable to parse IP";
        if (s.Contains(':'))
        {
            var zone = s.IndexOf('%');
            if (zone == s.Length - 1) return "zone must be a non-empty string";
            var body = zone < 0 ? s : s[..zone];
            if (!body.All(c => char.IsAsciiHexDigit(c) || c is ':' or '.') || !IPAddress.TryParse(body, out address) ||
                address.AddressFamily != AddressFamily.InterNetworkV6)
            {
                address = null;
                return "unable to parse IP";
            }
            return null;
        }
        var fields = s.Split('.');
        if (!s.Contains('.')) return "unable to parse IP";
        if (fields.Length < 4) return "IPv4 address too short";
        if (fields.Length > 4) return "IPv4 address too long";
        var bytes = new byte[4];
        for (var i = 0; i < 4; i++)
        {
            var f = fields[i];
            if (f.Length == 0 || !f.All(char.IsAsciiDigit)) return f.Length == 0 ? "IPv4 field must have at least one digit" : "unexpected character";
            if (f.Length > 1 && f[0] == '0') return "IPv4 field has octet with leading zero";
            if (f.Length > 3 || int.Parse(f, System.Globalization.CultureInfo.InvariantCulture) > 255) return "IPv4 field has value >255";
            bytes[i] = byte.Parse(f, System.Globalization.CultureInfo.InvariantCulture);
        }
        address = new IPAddress(bytes);
        return null;
    }

    private static bool ContainsCidr(CelCidr outer, CelCidr inner) =>
        inner.Ip.Is4 == outer.Ip.Is4 && outer.Bits <= inner.Bits && outer.Contains(inner.Ip);

    private static bool IsLoopback(CelIp ip) => ip.Is4 ? ip.Address.GetAddressBytes()[0] == 127 : IPAddress.IPv6Loopback.Equals(ip.Address);

    private static bool IsLinkLocalMulticast(CelIp ip)
    {
        var b = ip.Address.GetAddressBytes();
        return ip.Is4 ? b[0] == 224 && b[1] == 0 && b[2] == 0 : b[0] == 0xff && (b[1] & 0x0f) == 0x02;
    }

    private static bool IsLinkLocalUnicast(CelIp ip)
    {
        var b = ip.Address.GetAddressBytes();
        return ip.Is4 ? b[0] == 169 && b[1] == 254 : b[0] == 0xfe && (b[1] & 0xc0) == 0x80;
    }

    /// <summary>Go's Addr.IsGlobalUnicast: none of unspecified, IPv4 broadcast, loopback, multicast, link-local unicast.</summary>
    private static bool IsGlobalUnicast(CelIp ip)
    {
        var b = ip.Address.GetAddressBytes();
        if (IPAddress.Any.Equals(ip.Address) || IPAddress.IPv6Any.Equals(ip.Address) || IPAddress.Broadcast.Equals(ip.Address)) return false;
        var multicast = ip.Is4 ? b[0] >= 224 && b[0] <= 239 : b[0] == 0xff;
        return !IsLoopback(ip) && !multicast && !IsLinkLocalUnicast(ip);
    }
}
