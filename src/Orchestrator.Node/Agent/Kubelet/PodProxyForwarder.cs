using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Orchestrator.Node.Runtime;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Node.Agent.Kubelet;

/// <summary>
/// <c>/podProxy/{ns}/{pod}/{scheme}/{ip}/{port}/{path}</c> — one HTTP request of the API's pods/proxy and
/// services/proxy, which the master resolved to a pod's address and relays here because it may not reach this node's
/// pod network: forwarded to <c>{scheme}://{ip}:{port}/{path}</c> with the query, its headers (hop-by-hop ones
/// aside) and body, and the answer streamed back as the pod wrote it. Only an address of that pod's running
/// containers on this node is dialled (the node's own address for a pod on the host network), so the route reaches
/// nothing else. An https pod's certificate is not verified, as kube-apiserver's proxy transport does not verify it.
/// A pod that cannot be reached is answered as kube-apiserver 1.32's proxy answers it (its proxy Transport's
/// ServiceUnavailable error, written as a Status): 503, "error trying to reach service: dial tcp …".
/// An upgrade (the master relays one with <c>Connection: Upgrade</c>) is made to the pod as kube's UpgradeAwareHandler
/// makes it: on the pod's 101 this connection is switched too and bytes are spliced both ways until either side
/// closes; any other answer of the pod is relayed (the master judges it); a pod that cannot be reached is a 500 Status,
/// "error dialing backend", as kube-apiserver's upgrade path answers.
/// </summary>
internal static class PodProxyForwarder
{
    public const string Route = "podProxy";

    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Proxy-Connection", "TE", "Trailer",
        "Transfer-Encoding", "Upgrade", "Host",
    };

    private static readonly HttpClient Client = new(new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        UseCookies = false,
        AutomaticDecompression = DecompressionMethods.None,
        ConnectTimeout = TimeSpan.FromSeconds(30), // kube-apiserver's proxy dialer
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(90),
        SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true },
    }) { Timeout = Timeout.InfiniteTimeSpan };

    public static async Task ServeAsync(HttpContext context, IContainerRuntime runtime, IPAddress nodeAddress, string ns,
        string pod, string scheme, string ip, string port)
    {
        var ct = context.RequestAborted;
        if (scheme is not ("http" or "https") || !IPAddress.TryParse(ip, out var address) ||
            !int.TryParse(port, out var number) || number is < 1 or > 65535)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync($"not a pod address: {scheme}://{ip}:{port}", ct);
            return;
        }
        var upgrade = context.Features.Get<IHttpUpgradeFeature>();
        var upgrading = upgrade is { IsUpgradableRequest: true } &&
                        context.Request.Headers.Connection.Any(v => v?.Contains("upgrade", StringComparison.OrdinalIgnoreCase) == true);
        if (!(await AddressesAsync(runtime, nodeAddress, ns, pod, ct)).Contains(address))
        {
            var why = $"pod {ns}/{pod} has no running container with address {ip} on this node";
            if (upgrading) await DialFailedAsync(context, why);
            else await UnreachableAsync(context, why);
            return;
        }

        var target = new UriBuilder(scheme, address.ToString(), number) { Path = "" }.Uri.GetLeftPart(UriPartial.Authority) +
                     PodPath(context.Features.Get<IHttpRequestFeature>()?.RawTarget) + context.Request.QueryString.Value;
        using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), new Uri(target, UriKind.Absolute));
        if (context.Request.ContentLength > 0 || context.Request.Headers.TransferEncoding.Count > 0)
            request.Content = new StreamContent(context.Request.Body);
        foreach (var (key, values) in context.Request.Headers)
        {
            if (HopByHop.Contains(key)) continue;
            if (!request.Headers.TryAddWithoutValidation(key, (IEnumerable<string>)values!))
                request.Content?.Headers.TryAddWithoutValidation(key, (IEnumerable<string>)values!);
        }
        // the master sets the Host its client asked for; the pod sees that one
        if (context.Request.Host.HasValue) request.Headers.Host = context.Request.Host.Value;
        if (upgrading)
        {
            request.Headers.Connection.Add("Upgrade");
            request.Headers.TryAddWithoutValidation("Upgrade", (IEnumerable<string>)context.Request.Headers.Upgrade!);
            request.VersionPolicy = HttpVersionPolicy.RequestVersionExact; // HTTP/1.1: an https pod may offer HTTP/2
        }

        HttpResponseMessage response;
        try
        {
            response = await Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        }
        catch (HttpRequestException e)
        {
            var why = DialError(e, address, number);
            if (upgrading) await DialFailedAsync(context, why);
            else await UnreachableAsync(context, why);
            return;
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            // the dial's ConnectTimeout
            var why = $"dial tcp {new IPEndPoint(address, number)}: i/o timeout";
            if (upgrading) await DialFailedAsync(context, why);
            else await UnreachableAsync(context, why);
            return;
        }
        using (response)
        {
            if (upgrading && response.StatusCode == HttpStatusCode.SwitchingProtocols)
            {
                await using var podStream = await response.Content.ReadAsStreamAsync(ct);
                foreach (var (key, values) in response.Headers) context.Response.Headers[key] = values.ToArray();
                await using var master = await upgrade!.UpgradeAsync();
                // the master bounds the session (idle timeout, its client's end); here it ends with either side
                await StreamSplice.RunAsync(master, podStream, idle: null, ct);
                return;
            }
            context.Response.StatusCode = (int)response.StatusCode;
            foreach (var (key, values) in response.Headers.Concat(response.Content.Headers))
                if (!HopByHop.Contains(key)) context.Response.Headers[key] = values.ToArray();
            await using var body = await response.Content.ReadAsStreamAsync(ct);
            await body.CopyToAsync(context.Response.Body, ct);
        }
    }

    /// <summary>The path after <c>/podProxy/{ns}/{pod}/{scheme}/{ip}/{port}</c>, as the master sent it (still escaped).</summary>
    internal static string PodPath(string? rawTarget)
    {
        var path = rawTarget ?? "";
        var end = path.IndexOfAny(['?', '#']);
        if (end >= 0) path = path[..end];
        var parts = path.Split('/');
        return parts.Length > 7 ? "/" + string.Join('/', parts[7..]) : "/";
    }

    /// <summary>The addresses of the pod's running containers here; the node's own for a pod on the host network
    /// (its containers have no address of their own).</summary>
    private static async Task<HashSet<IPAddress>> AddressesAsync(IContainerRuntime runtime, IPAddress nodeAddress, string ns,
        string pod, CancellationToken ct)
    {
        var addresses = new HashSet<IPAddress>();
        var running = false;
        foreach (var container in (await runtime.ListContainersAsync(null, ct)).Where(c => c.PodNamespace == ns && c.PodName == pod && c.Running))
        {
            var observed = await runtime.InspectContainerAsync(container.Id, ct);
            if (observed is not { Running: true }) continue;
            running = true;
            if (IPAddress.TryParse(observed.IpAddress, out var ip)) addresses.Add(ip);
        }
        // the sandbox holds a pod's address; none at all is a pod on the host network
        if (running && addresses.Count == 0) addresses.Add(nodeAddress);
        return addresses;
    }

    /// <summary>kube-apiserver's answer when tryUpgrade cannot dial its backend: a Status, 500, no reason.</summary>
    private static Task DialFailedAsync(HttpContext context, string why) =>
        WriteStatusAsync(context, StatusCodes.Status500InternalServerError, null, $"error dialing backend: {why}");

    /// <summary>kube-apiserver's answer when its proxy Transport cannot reach the pod: a ServiceUnavailable Status.</summary>
    private static Task UnreachableAsync(HttpContext context, string why) =>
        WriteStatusAsync(context, StatusCodes.Status503ServiceUnavailable, "ServiceUnavailable", $"error trying to reach service: {why}");

    private static async Task WriteStatusAsync(HttpContext context, int code, string? reason, string message)
    {
        context.Response.StatusCode = code;
        context.Response.ContentType = "application/json";
        var status = new Dictionary<string, object>
        {
            ["kind"] = "Status", ["apiVersion"] = "v1", ["metadata"] = new Dictionary<string, object>(), ["status"] = "Failure",
            ["message"] = message,
        };
        if (reason is not null) status["reason"] = reason;
        status["code"] = code;
        await context.Response.WriteAsync(System.Text.Json.JsonSerializer.Serialize(status), context.RequestAborted);
    }

    /// <summary>A failed dial in the words of Go's net package, which kube's message carries ("dial tcp
    /// 10.1.0.5:81: connect: connection refused"); another failure (TLS, a broken answer) as .NET words it.</summary>
    internal static string DialError(HttpRequestException e, IPAddress address, int port)
    {
        var endpoint = new IPEndPoint(address, port);
        return e.InnerException is System.Net.Sockets.SocketException socket
            ? socket.SocketErrorCode switch
            {
                System.Net.Sockets.SocketError.ConnectionRefused => $"dial tcp {endpoint}: connect: connection refused",
                System.Net.Sockets.SocketError.HostUnreachable => $"dial tcp {endpoint}: connect: no route to host",
                System.Net.Sockets.SocketError.NetworkUnreachable => $"dial tcp {endpoint}: connect: network is unreachable",
                System.Net.Sockets.SocketError.TimedOut => $"dial tcp {endpoint}: i/o timeout",
                _ => $"dial tcp {endpoint}: {socket.Message}",
            }
            : e.InnerException?.Message is { } inner ? $"{e.Message} ({inner})" : e.Message;
    }
}
