using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Controllers.Revisions;

/// <summary>What a controller does to its revision history in one reconcile: the revision that is current (existing or
/// new), a revision to write (created, or an old one renumbered), and the old ones to delete.</summary>
internal sealed record RevisionPlan(V1ControllerRevision Current, V1ControllerRevision? Create, V1ControllerRevision? Renumber,
    IReadOnlyList<V1ControllerRevision> Delete)
{
    public string Hash => Current.Metadata.Labels[ControllerRevisions.HashLabel];
}

/// <summary>
/// The ControllerRevision history of DaemonSets and StatefulSets (Kubernetes' controller/history and the controllers'
/// getPatch): a revision holds the pod template as a strategic merge patch
/// (<c>{"spec":{"template":{…,"$patch":"replace"}}}</c>, what <c>kubectl rollout undo</c> applies), is named
/// <c>&lt;owner&gt;-&lt;hash&gt;</c> with the hash also in its <c>controller-revision-hash</c> label, and is numbered; the
/// template of an earlier revision becomes current again by renumbering that revision. Pure.
/// </summary>
internal static class ControllerRevisions
{
    public const string HashLabel = "controller-revision-hash";
    private const string SafeAlphabet = "bcdfghjklmnpqrstvwxz2456789";

    /// <summary>The revision data of a template: what kubectl rollout undo patches the owner with.</summary>
    public static JsonObject Data(V1PodTemplateSpec template)
    {
        var templateJson = JsonNode.Parse(KubeObjects.Serialize(template))!.AsObject();
        templateJson["$patch"] = "replace";
        return new JsonObject { ["spec"] = new JsonObject { ["template"] = templateJson } };
    }

    /// <summary>Kubernetes' HashControllerRevision: FNV-32a over the data (and the collision count), safely encoded.</summary>
    public static string Hash(JsonObject data, int? collisionCount)
    {
        var hash = 2166136261u;
        void Add(byte[] bytes)
        {
            foreach (var b in bytes)
            {
                hash ^= b;
                hash *= 16777619u;
            }
        }
        Add(Encoding.UTF8.GetBytes(Canonical(data)));
        Add(BitConverter.GetBytes(collisionCount ?? 0)); // as the controllers pass it: never nil
        return new string(hash.ToString().Select(ch => SafeAlphabet[ch % SafeAlphabet.Length]).ToArray());
    }

    /// <summary>A revision's data as canonical text (sorted keys), whatever form the store handed it back in.</summary>
    public static string Canonical(object? data)
    {
        var node = data switch
        {
            null => null,
            JsonNode n => n,
            JsonElement e => JsonNode.Parse(e.GetRawText()),
            string s => JsonNode.Parse(s),
            _ => JsonNode.Parse(KubeObjects.Serialize(data)),
        };
        return Sorted(node)?.ToJsonString() ?? "null";
    }

    private static JsonNode? Sorted(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o.OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => KeyValuePair.Create(kv.Key, Sorted(kv.Value)))),
        JsonArray a => new JsonArray(a.Select(Sorted).ToArray()),
        null => null,
        _ => JsonNode.Parse(node.ToJsonString()),
    };

    /// <summary>The revisions an owner controls, oldest revision number first.</summary>
    public static List<V1ControllerRevision> Owned(IEnumerable<V1ControllerRevision> revisions, IKubernetesObject<V1ObjectMeta> owner) =>
        revisions.Where(r => OwnerReferences.IsControlledBy(r, owner)).OrderBy(r => r.Revision).ToList();

    /// <summary>Kubernetes' constructHistory + truncateHistory: finds or makes the revision of the owner's template;
    /// deletes the oldest revisions beyond <paramref name="historyLimit"/> that no live pod still uses.</summary>
    public static RevisionPlan Plan(IKubernetesObject<V1ObjectMeta> owner, V1PodTemplateSpec template, int? collisionCount,
        IReadOnlyList<V1ControllerRevision> owned, IEnumerable<string> hashesInUse, int historyLimit)
    {
        var data = Data(template);
        var canonical = Canonical(data);
        var latest = owned.Count == 0 ? 0 : owned.Max(r => r.Revision);
        var equal = owned.Where(r => Canonical(r.Data) == canonical).OrderBy(r => r.Revision).ToList();
        V1ControllerRevision current;
        V1ControllerRevision? create = null, renumber = null;
        if (equal.Count > 0)
        {
            current = equal[^1];
            if (current.Revision < latest)
            {
                renumber = KubeObjects.Clone(current);
                renumber.Revision = latest + 1;
                current = renumber;
            }
        }
        else
        {
            var hash = Hash(data, collisionCount);
            var labels = template.Metadata?.Labels is { } l ? new Dictionary<string, string>(l) : new Dictionary<string, string>();
            labels[HashLabel] = hash;
            create = current = new V1ControllerRevision
            {
                ApiVersion = "apps/v1",
                Kind = "ControllerRevision",
                Metadata = new V1ObjectMeta
                {
                    Name = $"{owner.Metadata.Name}-{hash}",
                    NamespaceProperty = owner.Metadata.NamespaceProperty,
                    Labels = labels,
                    Annotations = owner.Metadata.Annotations is { Count: > 0 } a
                        ? a.Where(kv => kv.Key != "kubectl.kubernetes.io/last-applied-configuration").ToDictionary(kv => kv.Key, kv => kv.Value)
                        : null,
                    OwnerReferences = [OwnerReferences.NewControllerRef(owner)],
                },
                Data = data,
                Revision = latest + 1,
            };
        }
        var inUse = hashesInUse.ToHashSet();
        var currentName = current.Metadata.Name;
        var old = owned.Where(r => r.Metadata.Name != currentName && !inUse.Contains((r.Metadata.Labels is { } l && l.TryGetValue(HashLabel, out var h) ? h : "")))
            .OrderBy(r => r.Revision).ToList();
        var delete = old.Take(Math.Max(0, old.Count - historyLimit)).ToList();
        return new RevisionPlan(current, create, renumber, delete);
    }
}
