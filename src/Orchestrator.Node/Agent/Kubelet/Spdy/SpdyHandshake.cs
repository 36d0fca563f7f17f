using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Orchestrator.Node.Agent.Kubelet.Spdy;

/// <summary>The HTTP/1.1 side of a plain SPDY/3.1 upgrade, shared by exec, attach and port-forward as the kubelet's
/// httpstream handshake is: the request's <c>Upgrade</c>, the stream protocols it offers, and the switch itself.</summary>
internal static class SpdyHandshake
{
    public const string ProtocolHeader = "X-Stream-Protocol-Version";

    public static bool IsSpdyUpgrade(HttpRequest request) =>
        request.Headers.Upgrade.Any(u => u?.Contains("SPDY/3.1", StringComparison.OrdinalIgnoreCase) == true);

    /// <summary>Every protocol named in <c>X-Stream-Protocol-Version</c> (repeated or comma-separated).</summary>
    public static IReadOnlyList<string> OfferedProtocols(HttpRequest request) =>
        request.Headers[ProtocolHeader].SelectMany(v => (v ?? "").Split(',', StringSplitOptions.TrimEntries))
            .Where(p => p.Length > 0).ToList();

    /// <summary>Answers 101 with the chosen protocol and returns the raw connection.</summary>
    public static Task<Stream> SwitchAsync(HttpContext context, IHttpUpgradeFeature upgrade, string protocol)
    {
        context.Response.Headers.Connection = "Upgrade";
        context.Response.Headers.Upgrade = "SPDY/3.1";
        context.Response.Headers[ProtocolHeader] = protocol;
        return upgrade.UpgradeAsync();
    }
}
