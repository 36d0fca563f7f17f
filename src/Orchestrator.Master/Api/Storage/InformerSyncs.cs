using System.Collections.Concurrent;

namespace Orchestrator.Master.Api.Storage;

/// <summary>
/// The API server's informers on the store (its authorizers' caches, flow control, APIService availability) and
/// whether each has listed its resources once: /readyz's "informer-sync" check fails until all have, as
/// kube-apiserver's does, so nothing reports the API ready while its authorizer still knows no role.
/// </summary>
internal sealed class InformerSyncs
{
    private readonly ConcurrentDictionary<string, bool> _synced = new();

    public void Started(string name) => _synced.TryAdd(name, false);

    public void Synced(string name) => _synced[name] = true;

    /// <summary>The informers started and not synced yet, by name; empty when all are.</summary>
    public IReadOnlyList<string> Pending => _synced.Where(p => !p.Value).Select(p => p.Key).Order(StringComparer.Ordinal).ToList();
}
