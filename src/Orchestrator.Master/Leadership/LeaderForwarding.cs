using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Api.Security;
using Yarp.ReverseProxy.Forwarder;

namespace Orchestrator.Master.Leadership;

/// <summary>
/// On a master that does not hold the control plane, every API request goes to the master that does, as it came
/// (YARP's forwarder: bodies, watches, and the upgraded connections of exec, attach and port-forward are streamed both
/// ways). Why forward HTTP rather than the store's messages: the API, its caches (RBAC, informers) and the metrics live
/// beside the store, and the request then runs exactly as on a single master; nothing of the store protocol has to
/// cross Akka remoting. Reads of stored objects are the exception: while this master's replica follows the leader's
/// store, <see cref="ReplicaReads"/> says which requests go down this master's own API pipeline (authentication, RBAC,
/// the handlers) and are answered from the replica; and the answer of a forwarded write waits until the replica has
/// caught up with the leader, so that a client reads its own writes on this master.
/// Credentials: bearer tokens go through unchanged (every master has the same admin token, CA and signing key); a
/// client certificate cannot be forwarded, so this master checks it against the cluster CA and sends it along in
/// <see cref="RequestAuthentication.ForwardedClientCertificateHeader"/> under the admin token, which the leader believes
/// only with that token. /livez is answered here: it says whether this process lives.
/// </summary>
internal sealed class LeaderForwarding(RequestDelegate next, MasterLeadership leadership, ActorSystem system, IHttpForwarder forwarder,
    ReplicaReads reads, LeaderLoss loss, string adminToken, X509Certificate2 clusterCa)
{
    /// <summary>Watches and streamed logs may be quiet for long: a proxy's idle timeout does not apply. What bounds a
    /// forwarded request is the request's deadline (<see cref="RequestDeadline"/>, before this middleware: it cancels
    /// <see cref="HttpContext.RequestAborted"/>, which the forwarder follows) unless it is long-running, the client, and
    /// the loss of the leader it went to (<see cref="LeaderLoss"/>).</summary>
    private static readonly ForwarderRequestConfig RequestConfig = new() { ActivityTimeout = TimeSpan.FromHours(24) };

    private readonly HttpMessageInvoker _client = new(new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
        ConnectTimeout = TimeSpan.FromSeconds(3),
        EnableMultipleHttp2Connections = true,
        SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, certificate, _, _) => IssuedBy(certificate, clusterCa) },
    });

    private Akka.Cluster.Cluster? _cluster;

    private Akka.Cluster.Cluster Cluster => _cluster ??= Akka.Cluster.Cluster.Get(system);

    public async Task InvokeAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "";
        if (leadership.HostsControlPlane || path == "/livez" || path.StartsWith("/livez/", StringComparison.Ordinal)
            || reads.Serves(context, RawPath(context) ?? path))
        {
            await next(context);
            return;
        }
        var leader = MasterLeadership.Find(Cluster.State, Cluster.SelfMember);
        if (leader.Api is null || leader.IsSelf || !leader.Reachable)
        {
            context.Response.Headers.RetryAfter = "1";
            await StatusResponses.WriteAsync(context, ApiException.Unavailable(leader switch
            {
                { Address: null } => "no master of the cluster is up",
                { IsSelf: true } => "this master is taking over the control plane; retry",
                { Reachable: false } => $"the master holding the control plane ({leader.Address}) is unreachable; another takes over once it is downed",
                _ => $"the master holding the control plane ({leader.Address}) announces no API address",
            }));
            return;
        }
        await ForwardAsync(context, leader);
    }

    /// <summary>Sends the request to <paramref name="leader"/> and its answer back. When that master is lost before it
    /// answered, a read (GET, HEAD: nothing changed) is answered 503 with Retry-After, which client-go retries; any other
    /// request 504 Timeout, as it may or may not have been applied (no invitation to a blind retry); an answer already
    /// streaming (a watch, a followed log, exec) is cut off, and the client starts it again.</summary>
    internal async Task ForwardAsync(HttpContext context, LeaderView leader)
    {
        context.Request.Headers.Remove(RequestAuthentication.ForwardedClientCertificateHeader);
        if (context.Request.IsHttps
            && (context.Connection.ClientCertificate ?? await context.Connection.GetClientCertificateAsync()) is { } certificate
            && ClientCertificates.UserOfConnection(certificate, clusterCa, DateTime.UtcNow) is not null)
        {
            context.Request.Headers[RequestAuthentication.ForwardedClientCertificateHeader] = Convert.ToBase64String(certificate.RawData);
            context.Request.Headers.Authorization = "Bearer " + adminToken;
        }
        var read = HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method);
        var lost = loss.Token(leader.Address!);
        var error = await forwarder.SendAsync(context, leader.Api!.GetLeftPart(UriPartial.Authority), _client, RequestConfig,
            read ? RawPathTransformer.Reads : new RawPathTransformer(reads), lost);
        // past the deadline RequestDeadline answers; a started answer the forwarder has cut off; a client gone hears nothing
        if (error == ForwarderError.None || RequestDeadline.Passed(context) || context.Response.HasStarted
            || context.RequestAborted.IsCancellationRequested)
            return;
        if (lost.IsCancellationRequested && read)
        {
            context.Response.Headers.RetryAfter = "1";
            await StatusResponses.WriteAsync(context, ApiException.Unavailable(
                $"the master holding the control plane ({leader.Address}) was lost before it answered; retry"));
        }
        else if (lost.IsCancellationRequested)
        {
            // as apierrors.NewTimeoutError words it (details without retryAfterSeconds: no Retry-After)
            await StatusResponses.WriteAsync(context, new ApiException(504, "Timeout",
                $"Timeout: the master holding the control plane ({leader.Address}) was lost before it answered: the request may or may not have been applied",
                new k8s.Models.V1StatusDetails()));
        }
        else
        {
            await StatusResponses.WriteAsync(context, ApiException.Unavailable(
                $"the master holding the control plane ({leader.Address}) did not answer ({error}); retry"));
        }
    }

    /// <summary>The leader's serving certificate is issued by the cluster's shared CA (its name is the leader's API
    /// address, which need not be the one dialed).</summary>
    private static bool IssuedBy(X509Certificate? presented, X509Certificate2 ca)
    {
        if (presented is null) return false;
        using var certificate = X509CertificateLoader.LoadCertificate(presented.GetRawCertData());
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate) && chain.ChainElements[^1].Certificate.RawData.AsSpan().SequenceEqual(ca.RawData);
    }

    /// <summary>The path as the client sent it (escapes kept), without the query.</summary>
    private static string? RawPath(HttpContext context) =>
        context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()?.RawTarget is { Length: > 0 } raw && raw[0] == '/'
            ? raw.Split('?', 2)[0]
            : null;

    /// <summary>The path and query exactly as the client sent them (escapes kept), on the leader's scheme and authority.
    /// With <paramref name="writes"/> (a request that may write), the leader's answer is held until this master's replica
    /// has caught up with the leader.</summary>
    private sealed class RawPathTransformer(ReplicaReads? writes) : HttpTransformer
    {
        public static readonly RawPathTransformer Reads = new(null);

        public override async ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse,
            CancellationToken cancellationToken)
        {
            var copy = await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
            // an upgraded stream (exec, attach, port-forward) is no write to wait for
            if (writes is { Following: true } && proxyResponse is { StatusCode: not HttpStatusCode.SwitchingProtocols })
                await writes.CatchUpAsync(cancellationToken);
            // A stream (a watch, a followed log) has no length: the leader sent its headers at once, as kube-apiserver
            // does, and clients wait for them before they read events (client-go's Watch returns only then). YARP holds
            // headers until the first body bytes, which for a quiet watch may be minutes: send them now.
            if (copy && proxyResponse is { StatusCode: HttpStatusCode.OK, Content.Headers.ContentLength: null }
                && HttpMethods.IsGet(httpContext.Request.Method))
                await httpContext.Response.Body.FlushAsync(cancellationToken);
            return copy;
        }

        public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix,
            CancellationToken cancellationToken)
        {
            await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);
            var raw = httpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()?.RawTarget;
            if (raw is { Length: > 0 } && raw[0] == '/') proxyRequest.RequestUri = new Uri(destinationPrefix + raw);
            // the client's address stays its own in the leader's audit log; X-Forwarded-* by default already say so
        }
    }
}
