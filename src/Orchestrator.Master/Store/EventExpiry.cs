using k8s;
using k8s.Models;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Store;

/// <summary>
/// When each Event expires (kube-apiserver's <c>--event-ttl</c>: etcd deletes an event that long after its last
/// write). A write sets now + TTL; an event read back from the journal gets its newest timestamp + TTL, since its
/// write time is not recorded. A plain class owned by the ObjectStore.
/// </summary>
internal sealed class EventExpiry(TimeSpan ttl)
{
    // "events.events.k8s.io": events.k8s.io/v1 events were stored apart before they became core events' other form;
    // a store written then still holds some, which expire as before.
    public static readonly IReadOnlySet<string> Resources =
        new HashSet<string> { "events", "events.events.k8s.io" };

    private readonly Dictionary<ResourceKey, DateTime> _expires = new();
    private readonly PriorityQueue<ResourceKey, DateTime> _queue = new();

    public TimeSpan Ttl { get; } = ttl;

    public int Count => _expires.Count;

    public static bool Expires(string resource) => Resources.Contains(resource);

    public void Written(string resource, IKubernetesObject<V1ObjectMeta> obj, DateTime now) =>
        Set(Key(resource, obj), now + Ttl);

    public void Recovered(string resource, IKubernetesObject<V1ObjectMeta> obj, DateTime now) =>
        Set(Key(resource, obj), (LastTimestamp(obj) ?? now) + Ttl);

    public void Removed(string resource, string? ns, string name) => _expires.Remove(new ResourceKey(resource, ns, name));

    /// <summary>The events whose time has come, oldest first.</summary>
    public IReadOnlyList<ResourceKey> Due(DateTime now)
    {
        var due = new List<ResourceKey>();
        while (_queue.TryPeek(out var key, out var at) && at <= now)
        {
            _queue.Dequeue();
            // A key queued again after a later write has a later entry; only the current one counts.
            if (_expires.TryGetValue(key, out var current) && current == at) due.Add(key);
        }
        return due;
    }

    /// <summary>Still due at <paramref name="now"/> (not written again since <see cref="Due"/> returned it).</summary>
    public bool IsDue(ResourceKey key, DateTime now) => _expires.TryGetValue(key, out var at) && at <= now;

    /// <summary>Puts back keys that <see cref="Due"/> returned but that could not be deleted yet.</summary>
    public void Retry(ResourceKey key, DateTime at)
    {
        if (_expires.ContainsKey(key)) Set(key, at);
    }

    public void Clear()
    {
        _expires.Clear();
        _queue.Clear();
    }

    private void Set(ResourceKey key, DateTime at)
    {
        _expires[key] = at;
        _queue.Enqueue(key, at);
    }

    private static ResourceKey Key(string resource, IKubernetesObject<V1ObjectMeta> obj) =>
        new(resource, obj.Metadata.NamespaceProperty, obj.Metadata.Name);

    private static DateTime? LastTimestamp(IKubernetesObject<V1ObjectMeta> obj)
    {
        DateTime?[] times = obj switch
        {
            Corev1Event e => [e.LastTimestamp, e.EventTime, e.Series?.LastObservedTime, e.FirstTimestamp, e.Metadata.CreationTimestamp],
            Eventsv1Event e => [e.DeprecatedLastTimestamp, e.EventTime, e.Series?.LastObservedTime, e.DeprecatedFirstTimestamp, e.Metadata.CreationTimestamp],
            _ => [obj.Metadata.CreationTimestamp],
        };
        var known = times.Where(t => t is not null).Select(t => t!.Value.ToUniversalTime()).ToList();
        return known.Count == 0 ? null : known.Max();
    }
}
