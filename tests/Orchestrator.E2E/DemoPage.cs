using System.Net.Http;
using System.Text.RegularExpressions;
using Xunit;

namespace Orchestrator.E2E;

/// <summary>What the demo image (katacoda/docker-http-server stand-in) answers, and which pod answered.</summary>
public static class DemoPage
{
    public static readonly Regex HostPage = new(@"<h1>This request was processed by host: (\S+)</h1>");

    /// <summary>A client that opens a new connection per request, as curl does: a Service port without appProtocol is
    /// balanced per connection (as kube-proxy balances it), so one keep-alive connection's requests all reach one pod.</summary>
    public static HttpClient ConnectionPerRequest(TimeSpan timeout, bool useProxy = true) =>
        new(new SocketsHttpHandler { UseProxy = useProxy, PooledConnectionLifetime = TimeSpan.Zero }) { Timeout = timeout };

    /// <summary>The host name (= pod name) on the page served at <paramref name="url"/>; fails on any other page.</summary>
    public static async Task<string> ServedHost(HttpClient http, string url)
    {
        var body = await http.GetStringAsync(url);
        var match = HostPage.Match(body);
        Assert.True(match.Success, $"unexpected page from {url}: {body}");
        return match.Groups[1].Value;
    }
}
