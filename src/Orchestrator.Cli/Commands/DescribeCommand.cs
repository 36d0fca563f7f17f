using System.Text.Json.Nodes;
using Orchestrator.Cli.Kube;
using Orchestrator.Cli.Output;
using Orchestrator.Cli.Parsing;

namespace Orchestrator.Cli.Commands;

/// <summary>
/// orchctl describe: the key facts of each object in kubectl's "Key: value" layout — replicas, selector, pod
/// template (images, ports, env), endpoints, conditions — and the events that name it.
/// </summary>
internal static class DescribeCommand
{
    public static async Task<int> Run(CommandContext ctx)
    {
        if (ctx.Args.Positionals.Count == 0) throw new UsageException("You must specify the type of resource to describe (see 'orchctl describe --help')");
        using var api = ctx.Connect();
        var objects = new List<(ResourceType Type, JsonNode Object)>();
        var requests = GetCommand.Requests(ctx.Args.Positionals);
        foreach (var (type, name) in requests)
        {
            var ns = type.Namespaced ? api.Namespace : null;
            if (name is not null)
            {
                objects.Add((type, JsonNode.Parse(await api.Send(HttpMethod.Get, type.ObjectPath(ns, name)))!));
                continue;
            }
            var selector = ctx.Args.Get("selector");
            var list = JsonNode.Parse(await api.Send(HttpMethod.Get,
                type.CollectionPath(ns) + (selector is null ? "" : "?labelSelector=" + Uri.EscapeDataString(selector))))!;
            objects.AddRange((list["items"]?.AsArray() ?? []).Select(i => (type, i!)));
        }
        if (objects.Count == 0)
        {
            await ctx.Err.WriteLineAsync($"No resources found in {api.Namespace} namespace.");
            return 0;
        }
        var first = true;
        foreach (var (type, obj) in objects)
        {
            if (!first) await ctx.Out.WriteLineAsync();
            first = false;
            var d = new Describer();
            await Describe(api, type, obj, d);
            await ctx.Out.WriteAsync(d.ToString());
        }
        return 0;
    }

    private static async Task Describe(ApiConnection api, ResourceType type, JsonNode o, Describer d)
    {
        var meta = o["metadata"]!;
        d.Line("Name", S(meta["name"]));
        if (type.Namespaced) d.Line("Namespace", S(meta["namespace"]));
        d.Line("CreationTimestamp", S(meta["creationTimestamp"]));
        d.Map("Labels", meta["labels"]);
        d.Map("Annotations", meta["annotations"]);
        var spec = o["spec"];
        var status = o["status"];
        switch (type.Plural)
        {
            case "deployments":
                d.Line("Selector", Selector(spec?["selector"]));
                d.Line("Replicas", $"{I(spec?["replicas"])} desired | {I(status?["updatedReplicas"])} updated | {I(status?["replicas"])} total | {I(status?["availableReplicas"])} available | {I(status?["unavailableReplicas"])} unavailable");
                d.Line("StrategyType", S(spec?["strategy"]?["type"]));
                d.Line("MinReadySeconds", I(spec?["minReadySeconds"]).ToString());
                PodTemplate(d, spec?["template"]);
                Conditions(d, status?["conditions"], "Type", "Status", "Reason");
                break;
            case "replicasets" or "replicationcontrollers":
                d.Line("Selector", type.Plural == "replicasets" ? Selector(spec?["selector"]) : Pairs(spec?["selector"]));
                d.Line("Replicas", $"{I(status?["replicas"])} current / {I(spec?["replicas"])} desired");
                d.Line("Pods Status", $"{I(status?["readyReplicas"])} Running / {I(status?["availableReplicas"])} Available / 0 Failed");
                ControlledBy(d, meta);
                PodTemplate(d, spec?["template"]);
                Conditions(d, status?["conditions"], "Type", "Status", "Reason");
                break;
            case "pods":
                d.Line("Node", S(spec?["nodeName"]) + (status?["hostIP"] is { } host ? "/" + S(host) : ""));
                d.Line("Start Time", S(status?["startTime"]));
                d.Line("Status", S(status?["phase"]));
                d.Line("IP", S(status?["podIP"]));
                ControlledBy(d, meta);
                d.Header("Containers");
                foreach (var c in spec?["containers"]?.AsArray() ?? [])
                {
                    var cs = status?["containerStatuses"]?.AsArray().FirstOrDefault(s => S(s?["name"]) == S(c?["name"]));
                    Container(d, c!, 2);
                    if (cs is not null)
                    {
                        var state = cs["state"]?.AsObject().FirstOrDefault();
                        d.Line("State", state is { Key: { } key } ? char.ToUpperInvariant(key[0]) + key[1..] + (S(state.Value.Value?["reason"]) is { Length: > 0 } r && r != "<none>" ? $" ({r})" : "") : "<none>", 4);
                        d.Line("Ready", S(cs["ready"]), 4);
                        d.Line("Restart Count", I(cs["restartCount"]).ToString(), 4);
                    }
                }
                Conditions(d, status?["conditions"], "Type", "Status");
                break;
            case "services":
                d.Line("Selector", Pairs(spec?["selector"]));
                d.Line("Type", S(spec?["type"]));
                d.Line("IP", S(spec?["clusterIP"]));
                if (spec?["externalIPs"] is JsonArray ips) d.Line("External IPs", string.Join(",", ips.Select(S)));
                string endpoints;
                try
                {
                    var ep = JsonNode.Parse(await api.Send(HttpMethod.Get, ResourceType.Find("endpoints")!.ObjectPath(S(meta["namespace"]), S(meta["name"]))))!;
                    endpoints = string.Join(",", (ep["subsets"]?.AsArray() ?? []).SelectMany(s =>
                        (s!["addresses"]?.AsArray() ?? []).SelectMany(a => (s["ports"]?.AsArray() ?? []).Select(p => $"{S(a!["ip"])}:{I(p!["port"])}"))));
                }
                catch (ServerError)
                {
                    endpoints = "";
                }
                foreach (var p in spec?["ports"]?.AsArray() ?? [])
                {
                    d.Line("Port", $"{(p!["name"] is { } n ? S(n) : "<unset>")}  {I(p["port"])}/{S(p["protocol"])}");
                    d.Line("TargetPort", $"{p["targetPort"]?.ToString() ?? "<none>"}/{S(p["protocol"])}");
                    if (p["nodePort"] is { } np) d.Line("NodePort", $"{(p["name"] is { } n2 ? S(n2) : "<unset>")}  {np}/{S(p["protocol"])}");
                    d.Line("Endpoints", endpoints.Length == 0 ? "<none>" : endpoints);
                }
                d.Line("Session Affinity", S(spec?["sessionAffinity"]));
                break;
            case "nodes":
                d.Header("Addresses");
                foreach (var a in status?["addresses"]?.AsArray() ?? []) d.Line(S(a!["type"]), S(a["address"]), 2);
                d.Map("Capacity", status?["capacity"]);
                d.Map("Allocatable", status?["allocatable"]);
                d.Map("System Info", status?["nodeInfo"]);
                d.Line("Unschedulable", spec?["unschedulable"]?.ToString() ?? "false");
                Conditions(d, status?["conditions"], "Type", "Status", "LastHeartbeatTime", "Reason", "Message");
                break;
            case "endpoints":
                d.Header("Subsets");
                foreach (var s in o["subsets"]?.AsArray() ?? [])
                {
                    d.Line("Addresses", string.Join(",", (s!["addresses"]?.AsArray() ?? []).Select(a => S(a!["ip"]))), 2);
                    d.Line("NotReadyAddresses", string.Join(",", (s["notReadyAddresses"]?.AsArray() ?? []).Select(a => S(a!["ip"]))), 2);
                    foreach (var p in s["ports"]?.AsArray() ?? []) d.Line("Port", $"{(p!["name"] is { } n ? S(n) : "<unset>")} {I(p["port"])}/{S(p["protocol"])}", 2);
                }
                break;
            default:
                d.Raw(YamlWriter.Write(System.Text.Json.JsonSerializer.SerializeToElement(o)));
                return;
        }
        await Events(api, type, o, d);
    }

    private static async Task Events(ApiConnection api, ResourceType type, JsonNode o, Describer d)
    {
        var name = S(o["metadata"]!["name"]);
        var ns = type.Namespaced ? S(o["metadata"]!["namespace"]) : null;
        var list = JsonNode.Parse(await api.Send(HttpMethod.Get, ResourceType.Find("events")!.CollectionPath(ns ?? (type.Namespaced ? api.Namespace : null))))!;
        var events = (list["items"]?.AsArray() ?? [])
            .Where(e => S(e!["involvedObject"]?["kind"]) == type.Kind && S(e["involvedObject"]?["name"]) == name)
            .OrderBy(e => S(e!["lastTimestamp"]) is var t && t != "<none>" ? t : S(e["eventTime"]))
            .ToList();
        if (events.Count == 0)
        {
            d.Line("Events", "<none>");
            return;
        }
        d.Header("Events");
        var rows = events.Select(e => new[] { S(e!["type"]), S(e["reason"]), Age(e["lastTimestamp"] ?? e["eventTime"]), S(e["source"]?["component"] ?? e["reportingComponent"]), S(e["message"]) }).ToList();
        d.Table(["Type", "Reason", "Age", "From", "Message"], rows);
    }

    private static void PodTemplate(Describer d, JsonNode? template)
    {
        d.Header("Pod Template");
        d.Map("Labels", template?["metadata"]?["labels"], 2);
        d.Header("Containers", 2);
        foreach (var c in template?["spec"]?["containers"]?.AsArray() ?? []) Container(d, c!, 4);
    }

    private static void Container(Describer d, JsonNode c, int indent)
    {
        d.Header(S(c["name"]), indent);
        d.Line("Image", S(c["image"]), indent + 2);
        var ports = c["ports"]?.AsArray() ?? [];
        d.Line("Port", ports.Count == 0 ? "<none>" : string.Join(", ", ports.Select(p => $"{I(p!["containerPort"])}/{(p["protocol"] is { } pr ? S(pr) : "TCP")}")), indent + 2);
        d.Line("Host Port", ports.Count == 0 ? "<none>" : string.Join(", ", ports.Select(p => $"{I(p!["hostPort"])}/{(p["protocol"] is { } pr ? S(pr) : "TCP")}")), indent + 2);
        if (c["command"] is JsonArray command) d.Line("Command", string.Join(" ", command.Select(S)), indent + 2);
        if (c["args"] is JsonArray args) d.Line("Args", string.Join(" ", args.Select(S)), indent + 2);
        var env = c["env"]?.AsArray() ?? [];
        if (env.Count == 0) d.Line("Environment", "<none>", indent + 2);
        else
        {
            d.Header("Environment", indent + 2);
            foreach (var e in env) d.Line(S(e!["name"]), S(e["value"]), indent + 4);
        }
    }

    private static void Conditions(Describer d, JsonNode? conditions, params string[] columns)
    {
        if (conditions is not JsonArray list || list.Count == 0) return;
        d.Header("Conditions");
        d.Table(columns, list.Select(c => columns.Select(col => S(c![char.ToLowerInvariant(col[0]) + col[1..]])).ToArray()).ToList());
    }

    private static void ControlledBy(Describer d, JsonNode meta)
    {
        var owner = meta["ownerReferences"]?.AsArray().FirstOrDefault(r => r?["controller"]?.GetValue<bool>() == true);
        if (owner is not null) d.Line("Controlled By", $"{S(owner["kind"])}/{S(owner["name"])}");
    }

    private static string Selector(JsonNode? selector)
    {
        var parts = new List<string>();
        if (selector?["matchLabels"] is JsonObject labels) parts.AddRange(labels.Select(kv => $"{kv.Key}={S(kv.Value)}"));
        foreach (var e in selector?["matchExpressions"]?.AsArray() ?? [])
            parts.Add($"{S(e!["key"])} {S(e["operator"]).ToLowerInvariant()} ({string.Join(",", (e["values"]?.AsArray() ?? []).Select(S))})");
        return parts.Count == 0 ? "<none>" : string.Join(",", parts);
    }

    private static string Pairs(JsonNode? map) =>
        map is JsonObject o && o.Count > 0 ? string.Join(",", o.Select(kv => $"{kv.Key}={S(kv.Value)}")) : "<none>";

    private static string Age(JsonNode? timestamp) =>
        DateTimeOffset.TryParse(S(timestamp), out var t) ? Short(DateTimeOffset.UtcNow - t) : "<unknown>";

    private static string Short(TimeSpan span) =>
        span.TotalSeconds < 120 ? $"{Math.Max(0, (int)span.TotalSeconds)}s" : span.TotalMinutes < 120 ? $"{(int)span.TotalMinutes}m" : span.TotalHours < 48 ? $"{(int)span.TotalHours}h" : $"{(int)span.TotalDays}d";

    private static string S(JsonNode? node) => node switch
    {
        null => "<none>",
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        _ => node.ToJsonString(),
    };

    private static long I(JsonNode? node) => node is JsonValue v && v.TryGetValue<long>(out var n) ? n : 0;
}
