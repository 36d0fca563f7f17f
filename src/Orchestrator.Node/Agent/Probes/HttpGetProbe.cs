using System.Net.Http;
using k8s.Models;

namespace Orchestrator.Node.Agent.Probes;

/// <summary>httpGet: success is a status in 200–399 (redirects are not followed), like the kubelet.</summary>
internal sealed class HttpGetProbe : IProbeHandler
{
    // one handler for every probe of the node; no redirects, no pooled connection kept warm against a dying pod
    private static readonly HttpClient Client = new(new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        PooledConnectionLifetime = TimeSpan.FromSeconds(5),
        UseProxy = false,
    }) { Timeout = Timeout.InfiniteTimeSpan };

    public bool Handles(V1Probe probe) => probe.HttpGet is not null;

    public Task<ProbeResult> RunAsync(V1Probe probe, ProbeTarget target, CancellationToken ct) =>
        GetAsync(probe.HttpGet, target, ct);

    /// <summary>Also the preStop httpGet hook.</summary>
    public static async Task<ProbeResult> GetAsync(V1HTTPGetAction action, ProbeTarget target, CancellationToken ct)
    {
        var host = string.IsNullOrEmpty(action.Host) ? target.PodIp : action.Host;
        if (string.IsNullOrEmpty(host)) return ProbeResult.Failed("the pod has no IP address yet");
        var port = ProbePorts.Resolve(action.Port, target.Container);
        if (port is null) return ProbeResult.Failed($"port {action.Port?.Value} is not a number or a named container port");
        var path = string.IsNullOrEmpty(action.Path) ? "/" : action.Path.StartsWith('/') ? action.Path : "/" + action.Path;
        var scheme = (action.Scheme ?? "HTTP").ToLowerInvariant();
        var uri = new Uri($"{scheme}://{host}:{port}{path}");
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        request.Headers.UserAgent.ParseAdd("kube-probe/1.32");
        foreach (var header in action.HttpHeaders ?? []) request.Headers.TryAddWithoutValidation(header.Name, header.Value);
        try
        {
            using var response = await Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            var code = (int)response.StatusCode;
            return code is >= 200 and < 400
                ? ProbeResult.Ok()
                : ProbeResult.Failed($"HTTP probe failed with statuscode: {code}");
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            return ProbeResult.Failed($"Get \"{uri}\": {e.Message}");
        }
    }
}
