using Orchestrator.Node.Diagnostics;
using Orchestrator.Node.Proxy;

namespace Orchestrator.Node;

/// <summary><c>orchestrator-node api-server-proxy --listen IP:PORT --api-servers HOST:PORT,…</c>: the node's load balancer
/// to the masters' API alone, without the rest of the node, for a machine that runs kubectl but no pods (the lab
/// points its kubeconfig at one). It knows the masters from the flag only.</summary>
internal static class ApiServerProxyCommand
{
    private const string Usage = "usage: orchestrator-node api-server-proxy --listen IP:PORT --api-servers HOST:PORT[,HOST:PORT…]";

    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        string? listen = null, servers = null;
        for (var i = 0; i < args.Count; i++)
        {
            var argument = args[i];
            var (key, value) = args[i].IndexOf('=') is var eq and > 0 ? (args[i][..eq], args[i][(eq + 1)..])
                : (args[i], i + 1 < args.Count ? args[++i] : null);
            switch (key)
            {
                case "--listen": listen = value; break;
                case "--api-servers": servers = value; break;
                case "-h" or "--help":
                    Console.WriteLine(Usage);
                    return 0;
                default:
                    Console.Error.WriteLine($"orchestrator-node api-server-proxy: unknown argument '{argument}' ({Usage})");
                    return 2;
            }
        }
        System.Net.IPEndPoint endPoint;
        IReadOnlyList<System.Net.DnsEndPoint> list;
        try
        {
            if (string.IsNullOrEmpty(listen) || string.IsNullOrEmpty(servers)) throw new ArgumentException(Usage);
            endPoint = NodeOptions.ListenEndPoint(listen, "listen");
            list = NodeOptions.ApiServerList(servers);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"orchestrator-node api-server-proxy: {e.Message}");
            return 2;
        }
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [] });
        // the node's format: one line each with its UTC time to the millisecond (a drill's log is read beside the masters')
        builder.Logging.UseLogFormat("text");
        builder.Logging.AddFilter("Microsoft.Hosting", LogLevel.Warning);
        builder.Services.AddApiServerLoadBalancer(endPoint, list, learnFromServices: false);
        try
        {
            await builder.Build().RunAsync();
            return 0;
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException)
        {
            Console.Error.WriteLine($"orchestrator-node api-server-proxy: {e.Message}");
            return 1;
        }
    }
}
