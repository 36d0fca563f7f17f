using System.Net;
using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging.Abstractions;
using Orchestrator.Master.Api.Security;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Security;

/// <summary>The bearer token as a WebSocket subprotocol, as kube-apiserver's websocket ProtocolAuthenticator takes it.</summary>
public sealed class WebSocketBearerProtocolTests
{
    private static string Protocol(string token) =>
        WebSocketBearerProtocol.Prefix + Convert.ToBase64String(Encoding.UTF8.GetBytes(token)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static async Task<(HttpContext Context, bool Passed)> Run(string? protocols, bool upgrade = true, string? authorization = null,
        bool http2 = false)
    {
        var context = new DefaultHttpContext();
        if (upgrade && !http2)
        {
            context.Request.Headers.Connection = "Upgrade";
            context.Request.Headers.Upgrade = "websocket";
        }
        if (http2) context.Features.Set<IHttpWebSocketFeature>(new ExtendedConnect());
        if (protocols is not null) context.Request.Headers.SecWebSocketProtocol = protocols;
        if (authorization is not null) context.Request.Headers.Authorization = authorization;
        context.Response.Body = new MemoryStream();
        var passed = false;
        await new WebSocketBearerProtocol(_ => { passed = true; return Task.CompletedTask; }, NullLogger<WebSocketBearerProtocol>.Instance).InvokeAsync(context);
        return (context, passed);
    }

    [Fact]
    public async Task The_token_becomes_the_authorization_and_leaves_the_offered_protocols()
    {
        var (context, passed) = await Run($"v5.channel.k8s.io, {Protocol("s3cret-tök")}, v4.channel.k8s.io");

        Assert.True(passed);
        Assert.Equal("Bearer s3cret-tök", context.Request.Headers.Authorization.ToString());
        Assert.Equal("v5.channel.k8s.io, v4.channel.k8s.io", context.Request.Headers.SecWebSocketProtocol.ToString());
    }

    [Fact]
    public async Task A_websocket_over_http2_carries_it_too()
    {
        var (context, passed) = await Run($"v5.channel.k8s.io, {Protocol("t")}", http2: true);

        Assert.True(passed);
        Assert.Equal("Bearer t", context.Request.Headers.Authorization.ToString());
    }

    [Fact]
    public async Task Requests_that_are_not_websockets_or_carry_an_authorization_header_are_left_alone()
    {
        var (plain, plainPassed) = await Run($"v5.channel.k8s.io, {Protocol("t")}", upgrade: false);
        var (withHeader, headerPassed) = await Run($"v5.channel.k8s.io, {Protocol("t")}", authorization: "Bearer other");

        Assert.True(plainPassed && headerPassed);
        Assert.Equal("", plain.Request.Headers.Authorization.ToString());
        Assert.Equal("Bearer other", withHeader.Request.Headers.Authorization.ToString());
    }

    [Theory]
    [InlineData("two tokens")]
    [InlineData("token alone")]
    [InlineData("not base64url")]
    [InlineData("padded")]
    public async Task Malformed_token_protocols_are_refused_with_401(string malformation)
    {
        var protocols = malformation switch
        {
            "two tokens" => $"v5.channel.k8s.io, {Protocol("a")}, {Protocol("b")}",
            "token alone" => Protocol("a"),
            "not base64url" => $"v5.channel.k8s.io, {WebSocketBearerProtocol.Prefix}a+b/",
            _ => $"v5.channel.k8s.io, {WebSocketBearerProtocol.Prefix}YQ==",
        };

        var (context, passed) = await Run(protocols);

        Assert.False(passed);
        Assert.Equal(StatusCodes.Status401Unauthorized, context.Response.StatusCode);
    }

    [Fact]
    public async Task A_browser_style_exec_websocket_gets_past_authentication_with_the_protocol_alone()
    {
        await using var server = await ApiTestServer.StartAsync(https: true);
        var path = new Uri($"wss://127.0.0.1:{server.Address!.Port}/api/v1/namespaces/default/pods/missing/exec?command=sh&stdin=true");

        // with the token protocol the request reaches the exec handler: the pod does not exist
        var withToken = await Handshake(path, "v5.channel.k8s.io", Protocol(server.Token));
        var withoutToken = await Handshake(path, "v5.channel.k8s.io");
        var wrongToken = await Handshake(path, "v5.channel.k8s.io", Protocol("wrong"));

        Assert.Equal(HttpStatusCode.NotFound, withToken);
        Assert.Equal(HttpStatusCode.Unauthorized, withoutToken);
        Assert.Equal(HttpStatusCode.Unauthorized, wrongToken);
    }

    private static async Task<HttpStatusCode> Handshake(Uri uri, params string[] protocols)
    {
        using var socket = new ClientWebSocket();
        socket.Options.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        socket.Options.CollectHttpResponseDetails = true;
        foreach (var p in protocols) socket.Options.AddSubProtocol(p);
        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(uri, default));
        return socket.HttpStatusCode;
    }

    private sealed class ExtendedConnect : IHttpWebSocketFeature
    {
        public bool IsWebSocketRequest => true;
        public Task<WebSocket> AcceptAsync(WebSocketAcceptContext context) => throw new NotSupportedException();
    }
}
