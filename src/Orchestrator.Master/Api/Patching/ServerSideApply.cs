using System.Text.Json.Nodes;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Api.Patching;

/// <summary>
/// Server-side apply (application/apply-patch+yaml), as structured-merge-diff does it. The applied configuration is
/// merged into the object as desired fields (strategic-merge rules for keyed lists); the fields this field manager
/// applied last time and no longer applies are removed, unless another manager owns them too. What a manager applied
/// is kept where Kubernetes keeps it: its <c>metadata.managedFields</c> entry (operation Apply, FieldsV1 set).
/// Changing a field another manager owns is a conflict (409) unless the apply is forced, which takes the field over;
/// applying the value a field already has shares its ownership. Not done: conversion between versions (each manager's
/// fields are compared as the stored version), and sets of scalars (<c>v:</c> elements) are atomic lists here.
/// </summary>
internal static class ServerSideApply
{
    /// <summary>Parses the body within <see cref="BodyLimits"/>: JSON (what kubectl sends) or YAML. The caller handles
    /// the duplicate fields it reports.</summary>
    public static (JsonObject Applied, IReadOnlyList<string> DuplicateFields) ParseBody(byte[] body)
    {
        if (body.Length == 0) throw ApiException.BadRequest("the body of the request was empty");
        ParsedBody parsed;
        try
        {
            parsed = LooksLikeJson(body) ? JsonBody.Parse(body) : YamlBody.Parse(body);
        }
        catch (MalformedBodyException e)
        {
            throw ApiException.BadRequest($"error decoding patch: {e.Message}");
        }
        return parsed.Root is JsonObject applied
            ? (applied, parsed.DuplicateFields)
            : throw ApiException.BadRequest("error decoding patch: the applied configuration is not an object");
    }

    /// <summary>The identity of the applied configuration must be the endpoint's, as kube-apiserver's field manager
    /// requires ("invalid object type: /v1, Kind=Pod" for a wrong or missing apiVersion or kind).</summary>
    public static void CheckType(JsonObject applied, string group, string version, string kind)
    {
        var apiVersion = applied["apiVersion"] is JsonValue a && a.TryGetValue<string>(out var av) ? av : "";
        var appliedKind = applied["kind"] is JsonValue k && k.TryGetValue<string>(out var ak) ? ak : "";
        var expected = group.Length == 0 ? version : $"{group}/{version}";
        if (apiVersion == expected && appliedKind == kind) return;
        var (g, v) = ApiVersions.GroupVersionOf(apiVersion); // schema.FromAPIVersionAndKind
        throw ApiException.BadRequest($"invalid object type: {g}/{v}, Kind={appliedKind}");
    }

    /// <summary>YAML is a superset of JSON, but JSON is read by the JSON reader, whose errors are clearer.</summary>
    private static bool LooksLikeJson(byte[] body)
    {
        foreach (var b in body)
        {
            if (b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n') continue;
            return b == (byte)'{';
        }
        return false;
    }

    /// <summary>The object after <paramref name="manager"/> applies <paramref name="applied"/> to
    /// <paramref name="current"/> (null: the object does not exist yet). A field the apply changes that another manager
    /// owns is a conflict (409, as kube-apiserver answers) unless <paramref name="force"/> takes it from that manager.</summary>
    public static JsonObject Apply(JsonObject? current, JsonObject applied, string manager, DateTime now, bool force = false)
    {
        applied = (JsonObject)applied.DeepClone();
        applied.Remove("status");
        if (applied["metadata"] is JsonObject meta)
            foreach (var server in new[] { "managedFields", "resourceVersion", "uid", "creationTimestamp", "generation" })
                meta.Remove(server);
        var fields = ManagedFields.FieldSet(applied, field: null, parentField: null);
        foreach (var identity in new[] { "f:apiVersion", "f:kind" }) fields.Remove(identity);
        if (fields["f:metadata"] is JsonObject metaFields)
            foreach (var identity in new[] { "f:name", "f:namespace" }) metaFields.Remove(identity);

        var managed = (current?["metadata"]?["managedFields"] as JsonArray)?.OfType<JsonObject>()
            .Select(e => (JsonObject)e.DeepClone()).ToList() ?? [];
        var previous = managed.FirstOrDefault(e => e["manager"]?.ToString() == manager && e["operation"]?.ToString() == ManagedFields.Apply);
        var others = managed.Where(e => e != previous).ToList();

        var result = (JsonObject)(StrategicMergePatch.Apply(current, applied) ?? new JsonObject());
        // What this manager applied before and no longer applies goes, unless another manager owns it too.
        var ownedByOthers = others.Aggregate(new JsonObject(), (all, e) => ManagedFields.Union(all, Fields(e)));
        if (previous?["fieldsV1"] is JsonObject previousFields)
            RemoveStale(result, previousFields, fields, ownedByOthers, field: null, parentField: null);

        if (current is not null)
        {
            var changed = ManagedFields.ChangedBetween(current, result);
            var conflicts = others
                .Select(e => (Entry: e, Paths: ManagedFields.MemberPaths(ManagedFields.Intersect(Fields(e), changed))))
                .Where(c => c.Paths.Count > 0)
                .ToList();
            if (conflicts.Count > 0 && !force)
            {
                // kubectl's move from client-side to server-side apply (kube's lastAppliedManager): conflicts on fields
                // the last-applied configuration still describes as they are are forgiven, and the apply is forced.
                var forgiven = manager == KubectlManager ? FieldsOfLastApplied(current) : null;
                if (forgiven is null) throw Conflict(conflicts);
                var remaining = others
                    .Select(e => (Entry: e, Paths: ManagedFields.MemberPaths(
                        ManagedFields.Subtract(ManagedFields.Intersect(Fields(e), changed), forgiven))))
                    .Where(c => c.Paths.Count > 0)
                    .ToList();
                if (remaining.Count > 0) throw Conflict(remaining);
            }
            // Forced: the changed fields leave their other owners; removed fields leave every manager.
            var removed = ManagedFields.RemovedBetween(current, result);
            foreach (var entry in others)
            {
                var left = ManagedFields.Subtract(ManagedFields.Subtract(Fields(entry), changed), removed);
                if (left.Count == 0) managed.Remove(entry);
                else entry["fieldsV1"] = left;
            }
        }

        // kubectl's server-side apply keeps a client-side apply annotation in step (kube's lastAppliedUpdater).
        if (manager == KubectlManager && result["metadata"]?["annotations"] is JsonObject annotations &&
            annotations.ContainsKey(LastAppliedAnnotation))
        {
            var lastApplied = (JsonObject)applied.DeepClone();
            (lastApplied["metadata"]?["annotations"] as JsonObject)?.Remove(LastAppliedAnnotation);
            annotations[LastAppliedAnnotation] = lastApplied.ToJsonString();
        }

        // The same configuration applied again keeps its entry's time, so that a repeated apply writes nothing.
        var time = previous is not null && JsonNode.DeepEquals(previous["fieldsV1"], fields) &&
                   JsonNode.DeepEquals(Without(result, "managedFields"), Without(current, "managedFields"))
            ? previous["time"]?.ToString()
            : null;
        if (previous is not null) managed.Remove(previous);
        managed.Add(new JsonObject
        {
            ["manager"] = manager,
            ["operation"] = ManagedFields.Apply,
            ["apiVersion"] = applied["apiVersion"]?.DeepClone(),
            ["time"] = time ?? now.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ssZ"),
            ["fieldsType"] = "FieldsV1",
            ["fieldsV1"] = fields,
        });
        var resultMeta = result["metadata"] as JsonObject ?? new JsonObject();
        result["metadata"] = resultMeta;
        resultMeta["managedFields"] = new JsonArray(managed.Select(m => (JsonNode?)m).ToArray());
        return result;
    }

    private const string KubectlManager = "kubectl";
    private const string LastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration";

    /// <summary>The fields of the object's client-side apply annotation whose values the object still has; null when
    /// it has no such annotation or it cannot be read.</summary>
    private static JsonObject? FieldsOfLastApplied(JsonObject current)
    {
        if (current["metadata"]?["annotations"]?[LastAppliedAnnotation] is not JsonValue value ||
            !value.TryGetValue<string>(out var text) || text.Length == 0)
            return null;
        JsonObject lastApplied;
        try
        {
            if (JsonNode.Parse(text, documentOptions: new System.Text.Json.JsonDocumentOptions { MaxDepth = 64 }) is not JsonObject parsed)
                return null;
            lastApplied = parsed;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
        var fields = ManagedFields.FieldSet(lastApplied, field: null, parentField: null);
        return ManagedFields.Subtract(fields, ManagedFields.ChangedBetween(lastApplied, current));
    }

    private static JsonObject Fields(JsonObject entry) => entry["fieldsV1"] as JsonObject ?? new JsonObject();

    /// <summary>kube-apiserver's apply conflict (NewApplyConflict): 409 Conflict, a FieldManagerConflict cause per
    /// path, and the message kubectl prints ("Apply failed with 1 conflict: conflict with "kubectl-create" using
    /// apps/v1: .spec.replicas").</summary>
    private static ApiException Conflict(IReadOnlyList<(JsonObject Entry, IReadOnlyList<string> Paths)> conflicts)
    {
        var all = conflicts.SelectMany(c => c.Paths.Select(p => (Manager: PrintManager(c.Entry), Path: p))).ToList();
        string message;
        if (all.Count == 1) message = $"Apply failed with 1 conflict: conflict with {all[0].Manager}: {all[0].Path}";
        else
        {
            var lines = all.GroupBy(c => c.Manager).OrderBy(g => g.Key, StringComparer.Ordinal)
                .SelectMany(g => new[] { $"conflicts with {g.Key}:" }.Concat(g.Select(c => $"- {c.Path}")));
            message = $"Apply failed with {all.Count} conflicts: {string.Join("\n", lines)}";
        }
        return new ApiException(409, "Conflict", message, new k8s.Models.V1StatusDetails
        {
            Causes = all.Select(c => new k8s.Models.V1StatusCause
                { Reason = "FieldManagerConflict", Message = $"conflict with {c.Manager}", Field = c.Path }).ToList(),
        });
    }

    /// <summary>A manager as kube's conflict messages print it: its quoted name, the subresource, and for an Update
    /// the apiVersion it wrote (an applier is the same manager whatever version it applies).</summary>
    private static string PrintManager(JsonObject entry)
    {
        var text = $"\"{entry["manager"]}\"";
        if (entry["subresource"]?.ToString() is { Length: > 0 } subresource) text += $" with subresource \"{subresource}\"";
        if (entry["operation"]?.ToString() == ManagedFields.Update) text += $" using {entry["apiVersion"]}";
        return text;
    }

    private static JsonObject? Without(JsonObject? obj, string metadataField)
    {
        if (obj is null) return null;
        var copy = (JsonObject)obj.DeepClone();
        (copy["metadata"] as JsonObject)?.Remove(metadataField);
        return copy;
    }

    /// <summary>Removes from <paramref name="obj"/> what <paramref name="previous"/> holds and <paramref name="next"/>
    /// no longer does, keeping what <paramref name="others"/> (the other managers' fields) hold.</summary>
    private static void RemoveStale(JsonObject obj, JsonObject previous, JsonObject next, JsonObject? others, string? field, string? parentField)
    {
        foreach (var (key, previousChild) in previous)
        {
            if (!key.StartsWith("f:")) continue;
            var name = key[2..];
            var nextChild = next[key] as JsonObject;
            var othersChild = others?[key] as JsonObject;
            if (previousChild is not JsonObject { Count: > 0 } previousSet)
            {
                // A leaf this manager set and no longer sets, that no other manager owns.
                if (nextChild is null && othersChild is null) obj.Remove(name);
                continue;
            }
            // A map or keyed list: remove only the parts this manager owned, so what other writers added stays;
            // a container left empty by that goes too.
            var wasAbandoned = nextChild is null && othersChild is null;
            nextChild ??= new JsonObject();
            switch (obj[name])
            {
                case JsonObject child:
                    RemoveStale(child, previousSet, nextChild, othersChild, name, field);
                    if (wasAbandoned && child.Count == 0) obj.Remove(name);
                    break;
                case JsonArray list:
                    RemoveStaleElements(list, previousSet, nextChild, othersChild, name, field);
                    if (wasAbandoned && list.Count == 0) obj.Remove(name);
                    break;
                default:
                    if (wasAbandoned) obj.Remove(name);
                    break;
            }
        }
    }

    private static void RemoveStaleElements(JsonArray list, JsonObject previous, JsonObject next, JsonObject? others, string field, string? parentField)
    {
        var mergeKey = ListMergeKeys.For(field, parentField);
        if (mergeKey is null) return;
        // The position of each element by its key, as FieldSet names it ("k:{"name":"c"}"): one pass over the list.
        var positions = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        foreach (var element in list.OfType<JsonObject>())
            if (element[mergeKey] is { } keyValue) positions.TryAdd(ManagedFields.ElementKey(mergeKey, keyValue), element);
        var removed = new HashSet<JsonObject>(ReferenceEqualityComparer.Instance);
        foreach (var (key, previousElement) in previous)
        {
            if (!key.StartsWith("k:") || !positions.TryGetValue(key, out var element)) continue;
            var othersElement = others?[key] as JsonObject;
            if (next[key] is not JsonObject nextElement && othersElement is null) removed.Add(element);
            else if (previousElement is JsonObject previousSet)
                RemoveStale(element, previousSet, next[key] as JsonObject ?? new JsonObject(), othersElement, field, parentField);
        }
        if (removed.Count == 0) return;
        for (var i = list.Count - 1; i >= 0; i--)
            if (list[i] is JsonObject e && removed.Contains(e)) list.RemoveAt(i);
    }
}
