using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Akka.Actor;
using k8s;
using k8s.Models;
using Orchestrator.Master.Api.Authorization;
using Orchestrator.Master.Api.Discovery;
using Orchestrator.Master.Api.Security;
using Orchestrator.Master.Api.Storage;
using Orchestrator.Master.Registry.Kinds.ApiRegistration;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Api.Aggregation;

/// <summary>
/// kube-aggregator's AvailableConditionController and discovery manager for service-backed APIServices: the Service
/// must exist (ServiceNotFound), listen on the port (ServicePortError), have Endpoints (EndpointsNotFound) with an
/// address for that port (MissingEndpoints), and <c>GET /apis/GROUP/VERSION</c> as system:kube-aggregator in
/// system:masters must answer 2xx within 5 s in one of five attempts (FailedDiscoveryCheck); then Available is True
/// (Passed). Checked on every change of an APIService, its Service, Endpoints or EndpointSlices, and every 30 s; the condition is written
/// only when it changed. The successful discovery answer (an APIResourceList) is what /apis and aggregated discovery
/// list for that group version. Local APIServices are the strategy's (always Available).
/// </summary>
internal sealed class ApiServiceAvailability(ObjectStoreClient store, ExtensionServers servers, AggregationState state,
    ILogger<ApiServiceAvailability> log) : IHostedService
{
    public static readonly TimeSpan Resync = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(5);
    private const int Attempts = 5;
    private const int MaxDiscoveryBytes = 3 * 1024 * 1024;
    // (EndpointSlices: the tunnel dials an endpoint of the Service's slices)
    private static readonly string[] Resources = ["apiservices", "services", "endpoints", "endpointslices"];

    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly CancellationTokenSource _stop = new();
    private volatile Snapshot? _snapshot;
    private IActorRef? _informer;
    private Task? _loop;
    private DateTime _nextResync = DateTime.UtcNow + Resync;

    /// <summary>Each APIService's last check: what it depended on, and its outcome (reused until that changes).</summary>
    private readonly Dictionary<string, (string Inputs, V1APIServiceCondition Condition, V2APIVersionDiscovery? Discovery)> _last = new(StringComparer.Ordinal);

    private sealed record Snapshot(IReadOnlyList<V1APIService> ApiServices, IReadOnlyDictionary<(string, string), V1Service> Services,
        IReadOnlyDictionary<(string, string), V1Endpoints> Endpoints, IReadOnlyDictionary<(string, string), string> SliceVersions);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _informer = StoreInformers.Start("apiservice-availability", store, Resources, cache =>
        {
            // (called on the informer's thread: copy what is read)
            var apiServices = cache.List<V1APIService>("apiservices").ToList();
            state.SetRoutes(apiServices);
            _snapshot = new Snapshot(apiServices,
                cache.List<V1Service>("services").ToDictionary(s => (s.Metadata.NamespaceProperty, s.Metadata.Name)),
                cache.List<V1Endpoints>("endpoints").ToDictionary(e => (e.Metadata.NamespaceProperty, e.Metadata.Name)),
                cache.List<V1EndpointSlice>("endpointslices")
                    .Where(e => e.Metadata.Labels?.ContainsKey("kubernetes.io/service-name") == true)
                    .GroupBy(e => (e.Metadata.NamespaceProperty, e.Metadata.Labels["kubernetes.io/service-name"]))
                    .ToDictionary(g => g.Key, g => string.Join(",", g.Select(e => e.Metadata.ResourceVersion).Order(StringComparer.Ordinal))));
            _wake.Writer.TryWrite(true);
        });
        _loop = Task.Run(() => RunAsync(_stop.Token));
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _informer?.Tell(PoisonPill.Instance);
        await _stop.CancelAsync();
        if (_loop is not null) await Task.WhenAny(_loop, Task.Delay(Timeout.Infinite, cancellationToken));
    }

    private async Task RunAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                using var resync = CancellationTokenSource.CreateLinkedTokenSource(ct);
                resync.CancelAfter(_nextResync - DateTime.UtcNow is var left && left > TimeSpan.Zero ? left : TimeSpan.Zero);
                var everything = false;
                try { await _wake.Reader.ReadAsync(resync.Token); }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested) { everything = true; }
                if (everything) _nextResync = DateTime.UtcNow + Resync;
                if (_snapshot is { } snapshot) await CheckAllAsync(snapshot, everything, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                log.LogWarning(e, "Checking the availability of APIServices failed; trying again");
                await Task.Delay(TimeSpan.FromSeconds(1), ct).ContinueWith(_ => { }, CancellationToken.None);
            }
        }
    }

    /// <summary>Checks the APIServices whose spec, Service or Endpoints changed (all of them when
    /// <paramref name="everything"/>: the periodic resync), as kube's controller enqueues only those a change concerns.</summary>
    private async Task CheckAllAsync(Snapshot snapshot, bool everything, CancellationToken ct)
    {
        var remote = snapshot.ApiServices.Where(a => a.Spec?.Service is not null && a.Metadata.DeletionTimestamp is null).ToList();
        foreach (var gone in _last.Keys.Except(remote.Select(a => a.Metadata.Name)).ToList()) _last.Remove(gone);
        var results = await Task.WhenAll(remote.Select(async api =>
        {
            var inputs = Inputs(api, snapshot);
            if (!everything && _last.TryGetValue(api.Metadata.Name, out var last) && last.Inputs == inputs)
                return (Api: api, Result: (last.Condition, last.Discovery));
            var result = await CheckAsync(api, snapshot, ct);
            return (Api: api, Result: result);
        }));
        foreach (var (api, (condition, discovery)) in results)
            _last[api.Metadata.Name] = (Inputs(api, snapshot), condition, discovery);
        var available = new List<AggregatedGroupVersion>();
        foreach (var (api, (condition, discovery)) in results)
        {
            if (condition.Status == "True" && discovery is not null)
                available.Add(new AggregatedGroupVersion(api.Spec.Group ?? "", api.Spec.Version ?? "", api.Spec.GroupPriorityMinimum,
                    api.Spec.VersionPriority, discovery));
            await WriteConditionAsync(api, condition, ct);
        }
        var hash = available.Count == 0 ? "" : Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(
            Encoding.UTF8.GetBytes(string.Join("\n", available.Select(v => $"{v.Group}/{v.Version}/{v.GroupPriority}/{v.VersionPriority}/{KubernetesJson.Serialize(v.Discovery)}")))))[..16];
        state.SetGroups(new AggregatedGroupSet(available, hash));
    }

    /// <summary>What a check depends on: the spec and metadata (a touched APIService is checked again), and the versions
    /// of the Service, its Endpoints and EndpointSlices; not the status, which the check itself writes.</summary>
    private static string Inputs(V1APIService api, Snapshot snapshot)
    {
        var reference = api.Spec.Service!;
        var key = (reference.NamespaceProperty, reference.Name);
        return KubernetesJson.Serialize(api.Spec) + "|" + Pairs(api.Metadata.Labels) + "|" + Pairs(api.Metadata.Annotations) + "|" + snapshot.Services.GetValueOrDefault(key)?.Metadata.ResourceVersion +
               "|" + snapshot.Endpoints.GetValueOrDefault(key)?.Metadata.ResourceVersion + "|" + snapshot.SliceVersions.GetValueOrDefault(key);
    }

    private static string Pairs(IDictionary<string, string>? map) =>
        map is null ? "" : string.Join("\n", map.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + "=" + kv.Value));

    /// <summary>The Available condition kube's controller would set, and the discovery answer when it passed.</summary>
    private async Task<(V1APIServiceCondition Condition, V2APIVersionDiscovery? Discovery)> CheckAsync(V1APIService api, Snapshot snapshot, CancellationToken ct)
    {
        var reference = api.Spec.Service!;
        var (ns, name, port) = (reference.NamespaceProperty, reference.Name, ExtensionServers.PortOf(reference));
        if (!snapshot.Services.TryGetValue((ns, name), out var service))
            return (False("ServiceNotFound", $"service/{name} in \"{ns}\" is not present"), null);
        if (service.Spec?.Type is null or "ClusterIP")
        {
            var servicePort = service.Spec?.Ports?.FirstOrDefault(p => p.Port == port);
            if (servicePort is null)
                return (False("ServicePortError", $"service/{name} in \"{ns}\" is not listening on port {port}"), null);
            if (!snapshot.Endpoints.TryGetValue((ns, name), out var found))
                return (False("EndpointsNotFound", $"cannot find endpoints for service/{name} in \"{ns}\""), null);
            var portName = servicePort.Name ?? "";
            if (!(found.Subsets ?? []).Any(s => s.Addresses?.Count > 0 && (s.Ports ?? []).Any(p => (p.Name ?? "") == portName)))
                return (False("MissingEndpoints", $"endpoints for service/{name} in \"{ns}\" have no addresses with port name \"{portName}\""), null);
        }
        else if (service.Spec.Type != "NodePort" && service.Spec.Type != "LoadBalancer")
        {
            return (False("FailedDiscoveryCheck", $"service/{name} in \"{ns}\" is of type {service.Spec.Type}: this API server reaches extension API servers only through a Service's endpoints"), null);
        }

        // the address kube's cluster-IP resolver dials, for the messages
        var host = service.Spec?.ClusterIP is { Length: > 0 } ip && ip != "None" ? (ip.Contains(':') ? $"[{ip}]" : ip) : ExtensionServers.HostOf(reference);
        var path = $"/apis/{api.Spec.Group}/{api.Spec.Version}";
        var url = $"https://{host}:{port}{path}";
        var attempts = Enumerable.Range(0, Attempts).Select(_ => DiscoverAsync(api, path, url, ct)).ToList();
        string? lastError = null;
        while (attempts.Count > 0)
        {
            var done = await Task.WhenAny(attempts);
            attempts.Remove(done);
            var (body, error) = await done;
            if (error is null) return (True(), ToDiscovery(api.Spec.Version ?? "", body!));
            lastError = error;
        }
        return (False("FailedDiscoveryCheck", lastError!), null);
    }

    /// <summary>One GET of the group version's discovery: its body, or kube's error text.</summary>
    private async Task<(byte[]? Body, string? Error)> DiscoverAsync(V1APIService api, string path, string url, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(CheckTimeout);
        try
        {
            // system:masters: the check must be allowed whatever the extension server's authorization says
            var headers = ExtensionServers.UserHeaders(new UserInfo("system:kube-aggregator", "", [UserInfo.SystemMasters], UserInfo.NoExtra))
                .Append(("Accept", "application/json"));
            await using var answer = await servers.SendAsync(api, "GET", path, headers, null, null, timeout.Token);
            if (answer.Response.Status is < 200 or >= 300)
                return (null, $"failing or missing response from {url}: bad status from {url}: {answer.Response.Status}");
            var body = new MemoryStream();
            var buffer = new byte[16 * 1024];
            int read;
            while ((read = await answer.Response.Body.ReadAsync(buffer, timeout.Token)) > 0)
            {
                body.Write(buffer, 0, read);
                if (body.Length > MaxDiscoveryBytes) return (null, $"failing or missing response from {url}: the discovery document is larger than 3 MiB");
            }
            return (body.ToArray(), null);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return (null, $"failing or missing response from {url}: Get \"{url}\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)");
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or System.Security.Authentication.AuthenticationException
                                      or Webhooks.WebhookCallException or Http.ApiException or System.Net.WebSockets.WebSocketException)
        {
            return (null, $"failing or missing response from {url}: Get \"{url}\": {Reason(e)}");
        }
    }

    private static string Reason(Exception e) => e switch
    {
        System.Security.Authentication.AuthenticationException => "tls: failed to verify certificate: " + (e.InnerException?.Message ?? e.Message),
        _ when e.InnerException is { } inner && e is not Webhooks.WebhookCallException => $"{e.Message}: {inner.Message}",
        _ => e.Message,
    };

    /// <summary>An APIResourceList as the aggregated form of its version (subresources under their resource).</summary>
    internal static V2APIVersionDiscovery? ToDiscovery(string version, byte[] body)
    {
        JsonObject? list;
        try { list = JsonNode.Parse(body) as JsonObject; }
        catch (JsonException) { return null; }
        if (list?["resources"] is not JsonArray resources) return null;
        var groupVersion = list["groupVersion"]?.GetValue<string>() ?? "";
        var group = groupVersion.Contains('/') ? groupVersion[..groupVersion.IndexOf('/')] : "";
        var byName = new Dictionary<string, V2APIResourceDiscovery>(StringComparer.Ordinal);
        var discovery = new V2APIVersionDiscovery { Version = version, Freshness = "Current", Resources = [] };
        foreach (var node in resources.OfType<JsonObject>())
        {
            var name = node["name"]?.GetValue<string>() ?? "";
            var kind = new V1GroupVersionKind
            {
                Group = node["group"]?.GetValue<string>() ?? group, Version = node["version"]?.GetValue<string>() ?? version,
                Kind = node["kind"]?.GetValue<string>() ?? "",
            };
            var verbs = node["verbs"] is JsonArray v ? v.Select(x => x!.GetValue<string>()).ToList() : [];
            var slash = name.IndexOf('/');
            if (slash > 0)
            {
                if (!byName.TryGetValue(name[..slash], out var parent)) continue;
                (parent.Subresources ??= []).Add(new V2APISubresourceDiscovery { Subresource = name[(slash + 1)..], ResponseKind = kind, Verbs = verbs });
                continue;
            }
            var resource = new V2APIResourceDiscovery
            {
                Resource = name, SingularResource = node["singularName"]?.GetValue<string>() ?? "", ResponseKind = kind,
                Scope = node["namespaced"]?.GetValue<bool>() == true ? "Namespaced" : "Cluster", Verbs = verbs,
                ShortNames = node["shortNames"] is JsonArray s && s.Count > 0 ? s.Select(x => x!.GetValue<string>()).ToList() : null,
                Categories = node["categories"] is JsonArray c && c.Count > 0 ? c.Select(x => x!.GetValue<string>()).ToList() : null,
                Subresources = [],
            };
            byName[name] = resource;
            discovery.Resources.Add(resource);
        }
        return discovery;
    }

    private async Task WriteConditionAsync(V1APIService api, V1APIServiceCondition condition, CancellationToken ct)
    {
        var existing = api.Status?.Conditions?.FirstOrDefault(c => c.Type == "Available");
        if (existing is not null && existing.Status == condition.Status && existing.Reason == condition.Reason && existing.Message == condition.Message)
            return;
        var updated = KubeObjects.Clone(api);
        var conditions = (updated.Status ??= new V1APIServiceStatus()).Conditions ??= [];
        foreach (var old in conditions.Where(c => c.Type == "Available").ToList()) conditions.Remove(old);
        condition.LastTransitionTime = existing?.Status == condition.Status ? existing.LastTransitionTime : DateTime.UtcNow;
        conditions.Add(condition);
        // a conflict: the informer brings the newer object and the next round writes again
        if (await store.AskAsync(new UpdateObject("apiservices", updated, "status"), ct, ApiRegistrationResources.ApiServices) is StoreFailed failed &&
            failed.Error.Code is not (409 or 404))
            log.LogWarning("Could not write the Available condition of APIService {Name}: {Message}", api.Metadata.Name, failed.Error.Message);
    }

    private static V1APIServiceCondition False(string reason, string message) =>
        new() { Type = "Available", Status = "False", Reason = reason, Message = message };

    private static V1APIServiceCondition True() =>
        new() { Type = "Available", Status = "True", Reason = "Passed", Message = "all checks passed" };
}
