using System.Globalization;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Api.Responses;
using Orchestrator.Master.Api.Rest;
using Orchestrator.Master.Api.Storage;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Kinds.Core;
using Orchestrator.Master.Registry.Kinds.Metrics;
using Orchestrator.Master.ResourceMetrics;
using Orchestrator.Shared.Api;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Master.Api.Metrics;

/// <summary>
/// metrics.k8s.io/v1beta1 as metrics-server serves it (<c>kubectl top</c>, the autoscaler's clients): NodeMetrics and
/// PodMetrics, get and list, with label and field selectors over the Node's or Pod's own labels and fields, from the
/// newest usage each node reported (<see cref="ResourceUsageCache"/>). Only objects that exist and have a sample are
/// served: a pod whose node has not yet measured it twice is absent from lists and NotFound by name, as in
/// metrics-server. CPU is in nanocores, memory (the working set) in bytes; <c>window</c> is the sampling interval.
/// </summary>
internal sealed class ResourceMetricsView(ResourceDescription resource, ObjectStoreClient store, ResourceUsageCache usage) : IResourceView
{
    public ResourceDescription Resource => resource;

    private bool IsPods => resource.Kind == "PodMetrics";

    public async Task HandleAsync(HttpContext context, RequestInfo info)
    {
        this.RequireRead(context, info);
        var source = IsPods ? CoreResources.Pods : CoreResources.Nodes;
        var now = DateTime.UtcNow;
        if (info.Name is { } name)
        {
            var obj = await FindAsync(source, info.Namespace, name, context.RequestAborted);
            var metrics = obj is null ? null : ToMetrics(obj, now);
            if (metrics is null) throw ApiException.NotFound(resource, name);
            await ApiResponses.WriteJsonAsync(context, 200, metrics);
            return;
        }
        var query = ListQuery.From(context, resource);
        var listed = await store.ListAsync(source, info.Namespace, context.RequestAborted);
        var items = new JsonArray();
        foreach (var obj in listed.Items
                     .Where(o => query.Labels.Matches(o.Metadata.Labels) && query.Fields.Matches(o))
                     .OrderBy(o => o.Metadata.NamespaceProperty, StringComparer.Ordinal).ThenBy(o => o.Metadata.Name, StringComparer.Ordinal))
            if (ToMetrics(obj, now) is { } metrics) items.Add(metrics);
        await ApiResponses.WriteJsonAsync(context, 200, new JsonObject
        {
            ["kind"] = resource.ListKind, ["apiVersion"] = resource.GroupVersion, ["metadata"] = new JsonObject(), ["items"] = items,
        });
    }

    private async Task<IKubernetesObject<V1ObjectMeta>?> FindAsync(ResourceDescription source, string? ns, string name, CancellationToken ct)
    {
        try
        {
            return await store.GetAsync(source, ns, name, ct);
        }
        catch (ApiException e) when (e.Code == 404)
        {
            return null;
        }
    }

    private JsonObject? ToMetrics(IKubernetesObject<V1ObjectMeta> obj, DateTime now)
    {
        var meta = obj.Metadata;
        if (IsPods)
        {
            if (usage.Pod(meta.NamespaceProperty, meta.Name) is not { } pod || pod.Uid != meta.Uid) return null;
            return PodMetricsJson(meta, pod, now);
        }
        return usage.Node(meta.Name) is { } node ? NodeMetricsJson(meta, node, now) : null;
    }

    internal static JsonObject PodMetricsJson(V1ObjectMeta pod, PodUsage usage, DateTime now)
    {
        var containers = new JsonArray();
        foreach (var c in usage.Containers)
            containers.Add(new JsonObject { ["name"] = c.Name, ["usage"] = Usage(c.CpuNanoCores, c.MemoryWorkingSetBytes) });
        return new JsonObject
        {
            ["kind"] = MetricsResources.PodMetrics.Kind,
            ["apiVersion"] = MetricsResources.PodMetrics.GroupVersion,
            ["metadata"] = Metadata(pod, now),
            ["timestamp"] = Time(usage.Timestamp),
            ["window"] = GoDuration(usage.WindowSeconds),
            ["containers"] = containers,
        };
    }

    internal static JsonObject NodeMetricsJson(V1ObjectMeta node, NodeUsage usage, DateTime now) => new()
    {
        ["kind"] = MetricsResources.NodeMetrics.Kind,
        ["apiVersion"] = MetricsResources.NodeMetrics.GroupVersion,
        ["metadata"] = Metadata(node, now),
        ["timestamp"] = Time(usage.Timestamp),
        ["window"] = GoDuration(usage.WindowSeconds),
        ["usage"] = Usage(usage.CpuNanoCores, usage.MemoryWorkingSetBytes),
    };

    /// <summary>metrics-server's metadata: the object's name, namespace and labels, created now (the metrics are computed).</summary>
    private static JsonObject Metadata(V1ObjectMeta meta, DateTime now)
    {
        var json = new JsonObject { ["name"] = meta.Name };
        if (meta.NamespaceProperty is { } ns) json["namespace"] = ns;
        json["creationTimestamp"] = Time(now);
        if (meta.Labels is { Count: > 0 } labels)
        {
            var l = new JsonObject();
            foreach (var (k, v) in labels) l[k] = v;
            json["labels"] = l;
        }
        return json;
    }

    /// <summary>As metrics-server writes quantities: CPU in nanocores ("12345n"), memory in bytes, as Ki when whole.</summary>
    internal static JsonObject Usage(long cpuNanoCores, long memoryBytes) => new()
    {
        ["cpu"] = $"{cpuNanoCores.ToString(CultureInfo.InvariantCulture)}n",
        ["memory"] = memoryBytes % 1024 == 0 && memoryBytes != 0
            ? $"{(memoryBytes / 1024).ToString(CultureInfo.InvariantCulture)}Ki"
            : memoryBytes.ToString(CultureInfo.InvariantCulture),
    };

    private static string Time(DateTime t) => t.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>Go's time.Duration.String() of a window in seconds ("10.5s", "1m5s").</summary>
    internal static string GoDuration(double seconds)
    {
        var ns = (long)Math.Round(seconds * 1e9);
        if (ns == 0) return "0s";
        var minutes = ns / 60_000_000_000;
        var rest = (ns % 60_000_000_000) / 1e9;
        var text = rest.ToString("0.#########", CultureInfo.InvariantCulture) + "s";
        return minutes > 0 ? $"{minutes}m{text}" : text;
    }
}
