using System.Text.Json;
using System.Text.Json.Nodes;
using Orchestrator.Cli.Kube;
using Orchestrator.Cli.Output;
using Orchestrator.Cli.Parsing;

namespace Orchestrator.Cli.Commands;

/// <summary>
/// orchctl get: the server's Tables (kubectl's columns, computed by the API server), or the objects as yaml/json/name;
/// -w keeps printing rows from a watch that asks for Tables too.
/// </summary>
internal static class GetCommand
{
    public static async Task<int> Run(CommandContext ctx)
    {
        var args = ctx.Args;
        if (args.Positionals.Count == 0)
            throw new UsageException("You must specify the type of resource to get. Use \"orchctl get --help\" for the types.");
        var output = args.Get("output") ?? "";
        if (output is not ("" or "wide" or "yaml" or "json" or "name"))
            throw new UsageException($"unable to match a printer suitable for the output format \"{output}\", allowed formats are: json,name,wide,yaml");
        var requests = Requests(args.Positionals);
        var allNamespaces = args.GetBool("all-namespaces");
        var watch = args.GetBool("watch");
        if (watch && (requests.Count != 1 || output is "yaml" or "json"))
            throw new UsageException("watch is only supported on one resource type, printed as a table or names");

        using var api = ctx.Connect();
        var selector = args.Get("selector");
        var query = selector is null ? "" : "?labelSelector=" + Uri.EscapeDataString(selector);
        var table = new TableWriter(output == "wide", allNamespaces, args.GetBool("no-headers"));
        var objects = new List<JsonNode>();
        var printedAny = false;
        string? resourceVersion = null;
        foreach (var (type, name) in requests)
        {
            var ns = type.Namespaced && !allNamespaces ? api.Namespace : null;
            var path = name is null ? type.CollectionPath(ns) + query : type.ObjectPath(type.Namespaced ? api.Namespace : null, name);
            if (output is "" or "wide")
            {
                using var doc = JsonDocument.Parse(await api.Send(HttpMethod.Get, path, accept: ApiConnection.TableAccept));
                resourceVersion = doc.RootElement.TryGetProperty("metadata", out var m) && m.TryGetProperty("resourceVersion", out var rv) ? rv.GetString() : null;
                if (doc.RootElement.GetProperty("rows").GetArrayLength() == 0) continue;
                // Several types in one get: a blank line between their tables, as kubectl prints them.
                if (printedAny && requests.Count > 1 && name is null) await ctx.Out.WriteLineAsync();
                var lines = (requests.Count > 1 && name is null ? new TableWriter(output == "wide", allNamespaces, args.GetBool("no-headers")) : table)
                    .Format(doc.RootElement, header: !printedAny || name is null);
                foreach (var line in lines) await ctx.Out.WriteLineAsync(line);
                printedAny = true;
            }
            else
            {
                var node = JsonNode.Parse(await api.Send(HttpMethod.Get, path))!;
                resourceVersion = node["metadata"]?["resourceVersion"]?.GetValue<string>();
                if (name is not null) objects.Add(node);
                else
                    foreach (var item in node["items"]?.AsArray() ?? [])
                    {
                        item!["apiVersion"] ??= type.ApiVersion;
                        item["kind"] ??= type.Kind;
                        objects.Add(item.DeepClone());
                    }
            }
        }
        if (output is "yaml" or "json" or "name") await PrintObjects(ctx, output, objects, single: requests.All(r => r.Name is not null) && objects.Count == 1);
        else if (!printedAny && !watch)
            await ctx.Err.WriteLineAsync(allNamespaces || !requests[0].Type.Namespaced ? "No resources found" : $"No resources found in {api.Namespace} namespace.");

        if (watch) await Watch(ctx, api, requests[0], table, output, query, resourceVersion, allNamespaces, printedAny);
        return 0;
    }

    private static async Task PrintObjects(CommandContext ctx, string output, List<JsonNode> objects, bool single)
    {
        if (output == "name")
        {
            foreach (var o in objects)
            {
                var type = ResourceType.ForKind(o["apiVersion"]!.GetValue<string>(), o["kind"]!.GetValue<string>());
                await ctx.Out.WriteLineAsync($"{type?.Qualified ?? o["kind"]!.GetValue<string>().ToLowerInvariant()}/{o["metadata"]?["name"]}");
            }
            return;
        }
        JsonNode value = single ? objects[0] : new JsonObject
        {
            ["apiVersion"] = "v1",
            ["items"] = new JsonArray(objects.Select(o => (JsonNode?)o).ToArray()),
            ["kind"] = "List",
            ["metadata"] = new JsonObject { ["resourceVersion"] = "" },
        };
        if (output == "json")
            await ctx.Out.WriteLineAsync(value.ToJsonString(new JsonSerializerOptions { WriteIndented = true, IndentSize = 4 }));
        else
            await ctx.Out.WriteAsync(YamlWriter.Write(JsonSerializer.SerializeToElement(value)));
    }

    private static async Task Watch(CommandContext ctx, ApiConnection api, (ResourceType Type, string? Name) request, TableWriter table,
        string output, string query, string? resourceVersion, bool allNamespaces, bool headerPrinted)
    {
        var (type, name) = request;
        var ns = type.Namespaced && !allNamespaces ? api.Namespace : null;
        var parameters = new List<string> { "watch=1" };
        if (query.Length > 0) parameters.Add(query[1..]);
        if (name is not null) parameters.Add("fieldSelector=" + Uri.EscapeDataString("metadata.name=" + name));
        if (!string.IsNullOrEmpty(resourceVersion)) parameters.Add("resourceVersion=" + resourceVersion);
        var accept = output == "name" ? "application/json" : ApiConnection.TableAccept;
        using var response = await api.SendForStream(HttpMethod.Get, type.CollectionPath(ns) + "?" + string.Join('&', parameters), null, accept);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.Trim().Length == 0) continue;
            using var evt = JsonDocument.Parse(line);
            var obj = evt.RootElement.GetProperty("object");
            if (evt.RootElement.GetProperty("type").GetString() is "ERROR" or "BOOKMARK") continue;
            if (output == "name")
                await ctx.Out.WriteLineAsync($"{type.Qualified}/{obj.GetProperty("metadata").GetProperty("name").GetString()}");
            else
                foreach (var row in table.Format(obj, header: !headerPrinted)) await ctx.Out.WriteLineAsync(row);
            headerPrinted = true;
            await ctx.Out.FlushAsync();
        }
    }

    /// <summary>"pods", "deploy,svc", "deployment web", "pod/a svc/b": what to get.</summary>
    public static List<(ResourceType Type, string? Name)> Requests(IReadOnlyList<string> positionals)
    {
        var result = new List<(ResourceType, string?)>();
        if (positionals.All(p => p.Contains('/')))
        {
            foreach (var p in positionals)
                result.Add((ResourceType.Resolve(p[..p.IndexOf('/')]), p[(p.IndexOf('/') + 1)..]));
            return result;
        }
        var types = positionals[0].Split(',', StringSplitOptions.RemoveEmptyEntries).Select(ResourceType.Resolve).ToList();
        var names = positionals.Skip(1).ToList();
        if (names.Count > 0 && types.Count > 1) throw new UsageException("names can be given with one resource type only");
        foreach (var type in types)
            if (names.Count == 0) result.Add((type, null));
            else result.AddRange(names.Select(n => (type, (string?)n)));
        return result;
    }
}
