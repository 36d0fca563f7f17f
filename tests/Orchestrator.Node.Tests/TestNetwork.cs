using System.Net;
using System.Net.Sockets;

namespace Orchestrator.Node.Tests;

/// <summary>Loopback helpers shared by the tests that run real listeners and containers.</summary>
internal static class TestNetwork
{
    /// <summary>A port free on 127.0.0.1 at the time of the call.</summary>
    public static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    /// <summary>GETs <paramref name="url"/> every 100 ms until it answers with a success code or the attempts run out:
    /// a container or listener that was just started takes a moment to accept connections.</summary>
    public static async Task<string> GetWithRetry(string url, int attempts)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                var response = await http.GetAsync(url);
                if (response.IsSuccessStatusCode) return await response.Content.ReadAsStringAsync();
            }
            catch (Exception) when (attempt < attempts) { }
            if (attempt >= attempts) throw new Xunit.Sdk.XunitException($"{url} did not answer");
            await Task.Delay(100);
        }
    }

    /// <summary>Retries <paramref name="assertion"/> every 100 ms until it holds or 30 s pass.</summary>
    public static async Task Eventually(Action assertion)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                assertion();
                return;
            }
            catch (Xunit.Sdk.XunitException) when (DateTime.UtcNow < deadline) { await Task.Delay(100); }
        }
    }

    /// <summary>LISTEN sockets on <paramref name="endPoint"/>, from /proc/net/tcp (address and port in hex, the
    /// address in the kernel's byte order).</summary>
    public static int ListeningSockets(IPEndPoint endPoint)
    {
        var address = BitConverter.ToUInt32(endPoint.Address.GetAddressBytes()).ToString("X8", System.Globalization.CultureInfo.InvariantCulture);
        var local = $"{address}:{endPoint.Port.ToString("X4", System.Globalization.CultureInfo.InvariantCulture)}";
        return File.ReadLines("/proc/net/tcp").Skip(1)
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Count(f => f[1] == local && f[3] == "0A");
    }
}
