using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Orchestrator.Node.Agent.Kubelet;
using Orchestrator.Node.Tests.Agent.Kubelet.Spdy;
using Orchestrator.Node.Tests.Runtime;

namespace Orchestrator.Node.Tests.Agent.Kubelet;

/// <summary>
/// The real kubectl (1.32, from PATH) against the node's port-forward session behind a minimal stand-in API server
/// (discovery, the pod, and /portforward served straight by the kubelet code): kubectl's own SPDY-over-WebSocket
/// bytes, without Docker or a cluster, in both of kubectl's forms. The pod's port is a loopback echo server.
/// </summary>
public sealed class KubectlPortForwardTests : IAsyncLifetime
{
    private readonly FakeRuntime _runtime = new FakeRuntime().WithImage("web:1");
    private readonly EchoServer _pod = new("hello ");
    private readonly EchoServer _otherPort = new("other ");
    private readonly string _dir = Directory.CreateTempSubdirectory("kubectl-pf-").FullName;
    private WebApplication _api = null!;
    private int _apiPort;

    public async Task InitializeAsync()
    {
        _runtime.Seed("uid-web", "web", "main").Ip = "127.0.0.1";
        _apiPort = FreePort();
        var builder = WebApplication.CreateBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, _apiPort));
        _api = builder.Build();
        _api.UseWebSockets();
        _api.MapGet("/api", () => Results.Json(new { kind = "APIVersions", versions = new[] { "v1" } }));
        _api.MapGet("/apis", () => Results.Json(new { kind = "APIGroupList", apiVersion = "v1", groups = Array.Empty<object>() }));
        _api.MapGet("/api/v1", () => Results.Json(new
        {
            kind = "APIResourceList", groupVersion = "v1",
            resources = new[] { new { name = "pods", singularName = "pod", namespaced = true, kind = "Pod", verbs = new[] { "get", "list" } } },
        }));
        _api.MapGet("/api/v1/namespaces/default/pods/web", () => Results.Json(new
        {
            kind = "Pod", apiVersion = "v1",
            metadata = new { name = "web", @namespace = "default", uid = "uid-web" },
            spec = new { containers = new[] { new { name = "main", image = "web:1" } } },
            status = new { phase = "Running" },
        }));
        _api.Map("/api/v1/namespaces/default/pods/web/portforward", (HttpContext context) =>
            PortForwardSession.ServeAsync(context, _runtime, "default", "web", NullLogger.Instance));
        await _api.StartAsync();
        await File.WriteAllTextAsync(Path.Combine(_dir, "kubeconfig"), $$"""
            apiVersion: v1
            kind: Config
            clusters: [ { name: fake, cluster: { server: "http://127.0.0.1:{{_apiPort}}" } } ]
            users: [ { name: fake, user: { token: fake } } ]
            contexts: [ { name: fake, context: { cluster: fake, user: fake, namespace: default } } ]
            current-context: fake
            """);
    }

    public async Task DisposeAsync()
    {
        await _api.DisposeAsync();
        await _pod.DisposeAsync();
        await _otherPort.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    [Theory]
    [InlineData(true)] // kubectl 1.32's default: SPDY in a WebSocket
    [InlineData(false)] // KUBECTL_PORT_FORWARD_WEBSOCKETS=false (and older kubectl): SPDY on the upgraded connection
    public async Task Kubectl_port_forward_carries_sequential_concurrent_and_large_connections(bool websockets)
    {
        var (local, otherLocal) = (FreePort(), FreePort());
        var start = new ProcessStartInfo("kubectl") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["KUBECTL_PORT_FORWARD_WEBSOCKETS"] = websockets ? "true" : "false";
        foreach (var arg in new[] { "--kubeconfig", Path.Combine(_dir, "kubeconfig"), "--cache-dir", Path.Combine(_dir, "cache"),
                     "port-forward", "pod/web", $"{local}:{_pod.Port}", $"{otherLocal}:{_otherPort.Port}", "--address", "127.0.0.1" })
            start.ArgumentList.Add(arg);
        using var kubectl = Process.Start(start)!;
        var output = new StringBuilder();
        kubectl.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        kubectl.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        kubectl.BeginOutputReadLine();
        kubectl.BeginErrorReadLine();
        string Output() { lock (output) return output.ToString(); }
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (!Output().Contains($"Forwarding from 127.0.0.1:{otherLocal}") && DateTime.UtcNow < deadline && !kubectl.HasExited)
                await Task.Delay(100);
            Assert.True(Output().Contains($"Forwarding from 127.0.0.1:{otherLocal}"), Output());

            for (var i = 0; i < 3; i++)
                Assert.Equal($"hello PING {i}", await ExchangeAsync(local, $"ping {i}"));
            var concurrent = await Task.WhenAll(Enumerable.Range(0, 3).Select(i => ExchangeAsync(local, $"conn {i}")));
            Assert.Equal(["hello CONN 0", "hello CONN 1", "hello CONN 2"], concurrent);
            var big = new string('x', 1 << 20);
            Assert.Equal("hello " + big.ToUpperInvariant(), await ExchangeAsync(local, big));
            Assert.False(kubectl.HasExited, Output());
            Assert.Equal(7, _pod.Connections);
            // two ports in one command share the connection to the API server
            Assert.Equal("other SECOND PORT", await ExchangeAsync(otherLocal, "second port"));
        }
        finally
        {
            if (!kubectl.HasExited) kubectl.Kill();
            await kubectl.WaitForExitAsync();
        }
    }

    /// <summary>Sends a line through the forwarded port, half-closes, and reads the answer to its end.</summary>
    private static async Task<string> ExchangeAsync(int port, string text)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.UTF8.GetBytes(text));
        client.Client.Shutdown(SocketShutdown.Send);
        using var reader = new StreamReader(stream);
        var read = reader.ReadToEndAsync();
        return await read.WaitAsync(TimeSpan.FromSeconds(10));
    }
}
