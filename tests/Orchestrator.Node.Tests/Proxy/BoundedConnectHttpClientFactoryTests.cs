using System.Diagnostics;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using Orchestrator.Node.Proxy;
using Xunit;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;

namespace Orchestrator.Node.Tests.Proxy;

public sealed class BoundedConnectHttpClientFactoryTests
{
    [Fact]
    public async Task A_connect_that_hangs_fails_fast_as_a_connection_error()
    {
        // a listener that never accepts, with its accept queue full: further SYNs are dropped and a connect hangs,
        // as it does to the address of a pod on a lost node
        using var listener = new Socket(SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var endPoint = (IPEndPoint)listener.LocalEndPoint!;
        var fillers = new List<Socket>();
        for (var i = 0; i < 4; i++)
        {
            var filler = new Socket(SocketType.Stream, ProtocolType.Tcp);
            fillers.Add(filler);
            using var quick = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
            try { await filler.ConnectAsync(endPoint, quick.Token); } catch (OperationCanceledException) { }
        }

        using var client = new BoundedConnectHttpClientFactory().CreateClient(new ForwarderHttpClientContext { NewConfig = HttpClientConfig.Empty });
        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<HttpRequestException>(() =>
            client.SendAsync(new HttpRequestMessage(HttpMethod.Get, $"http://{endPoint}/"), CancellationToken.None));

        Assert.Equal(HttpRequestError.ConnectionError, error.HttpRequestError);
        Assert.InRange(clock.Elapsed, BoundedConnectHttpClientFactory.ConnectTimeout * 0.9, TimeSpan.FromSeconds(5));
        fillers.ForEach(f => f.Dispose());
    }

    [Fact]
    public async Task A_listening_pod_is_reached_through_the_bounded_connect()
    {
        using var listener = new HttpListenerStub();
        using var client = new BoundedConnectHttpClientFactory().CreateClient(new ForwarderHttpClientContext { NewConfig = HttpClientConfig.Empty });
        using var response = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, listener.Url), CancellationToken.None);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    /// <summary>One-shot HTTP/1.1 server on loopback answering 200 to whatever comes.</summary>
    private sealed class HttpListenerStub : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);

        public HttpListenerStub()
        {
            _listener.Start();
            _ = Task.Run(async () =>
            {
                using var connection = await _listener.AcceptTcpClientAsync();
                var stream = connection.GetStream();
                var buffer = new byte[4096];
                await stream.ReadAtLeastAsync(buffer, 1, throwOnEndOfStream: false); // the request has begun; its content does not matter
                await stream.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8.ToArray());
            });
        }

        public string Url => $"http://{_listener.LocalEndpoint}/";

        public void Dispose() => _listener.Stop();
    }
}
