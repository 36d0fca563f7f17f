using k8s;
using k8s.Models;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Store;
using Xunit;
using static Orchestrator.Master.Tests.Controllers.Support.Objects;

namespace Orchestrator.Master.Tests.ControlLoop;

/// <summary>The cache's owner index (the garbage collector's dependents of a uid, across resources): kept with every
/// change, every relist, and objects with several owners.</summary>
public sealed class ObjectCacheOwnerIndexTests
{
    private static V1OwnerReference Ref(string uid) => new() { ApiVersion = "v1", Kind = "ConfigMap", Name = "owner-" + uid, Uid = uid };

    private static V1Pod PodOwnedBy(string name, long rv, params string[] owners)
    {
        var pod = Pod(name);
        pod.Metadata.ResourceVersion = rv.ToString();
        pod.Metadata.OwnerReferences = owners.Select(Ref).ToList();
        return pod;
    }

    private static V1Secret SecretOwnedBy(string name, long rv, params string[] owners) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = name, NamespaceProperty = "default", ResourceVersion = rv.ToString(), OwnerReferences = owners.Select(Ref).ToList(),
        },
    };

    private static string[] Owned(ObjectCache cache, string uid) =>
        cache.DependentsOf(uid).Select(d => d.Key.ToString()).Order(StringComparer.Ordinal).ToArray();

    // What the index answers must be what a scan of everything cached answers.
    private static string[] Scanned(ObjectCache cache, string uid) =>
        new[] { "pods", "secrets" }
            .SelectMany(r => cache.List<IKubernetesObject<V1ObjectMeta>>(r)
                .Where(o => o.Metadata.OwnerReferences?.Any(x => x.Uid == uid) == true)
                .Select(o => ObjectCache.KeyOf(r, o).ToString()))
            .Order(StringComparer.Ordinal).ToArray();

    private static ObjectCache Indexed()
    {
        var cache = new ObjectCache();
        cache.IndexOwners();
        return cache;
    }

    [Fact]
    public void Finds_dependents_in_every_resource_and_under_each_of_several_owners()
    {
        var cache = Indexed();
        cache.Apply(new ObjectChanged("ADDED", "pods", PodOwnedBy("p", 1, "u1", "u2"), 1), out _);
        cache.Apply(new ObjectChanged("ADDED", "secrets", SecretOwnedBy("s", 2, "u1"), 2), out _);
        cache.Apply(new ObjectChanged("ADDED", "pods", PodOwnedBy("orphan", 3), 3), out _);

        Assert.Equal(["pods/default/p", "secrets/default/s"], Owned(cache, "u1"));
        Assert.Equal(["pods/default/p"], Owned(cache, "u2"));
        Assert.Empty(Owned(cache, "u3"));
        foreach (var uid in new[] { "u1", "u2", "u3" }) Assert.Equal(Scanned(cache, uid), Owned(cache, uid));
    }

    [Fact]
    public void Follows_updates_that_add_or_drop_references_and_deletions()
    {
        var cache = Indexed();
        cache.Apply(new ObjectChanged("ADDED", "pods", PodOwnedBy("p", 1, "u1", "u2"), 1), out _);

        // orphaned from u1 (as an orphan delete of u1 does), adopted by u3
        cache.Apply(new ObjectChanged("MODIFIED", "pods", PodOwnedBy("p", 2, "u2", "u3"), 2), out _);
        Assert.Empty(Owned(cache, "u1"));
        Assert.Equal(["pods/default/p"], Owned(cache, "u2"));
        Assert.Equal(["pods/default/p"], Owned(cache, "u3"));

        // the object the index hands out is the current one
        Assert.Equal("2", cache.DependentsOf("u2").Single().Object.Metadata.ResourceVersion);

        cache.Apply(new ObjectChanged("DELETED", "pods", PodOwnedBy("p", 3, "u2", "u3"), 3), out _);
        Assert.Empty(Owned(cache, "u2"));
        Assert.Empty(Owned(cache, "u3"));
    }

    [Fact]
    public void An_older_change_moves_nothing()
    {
        var cache = Indexed();
        cache.Apply(new ObjectChanged("ADDED", "pods", PodOwnedBy("p", 5, "u1"), 5), out _);
        cache.Apply(new ObjectChanged("MODIFIED", "pods", PodOwnedBy("p", 4, "u2"), 4), out var applied);
        Assert.False(applied);
        Assert.Equal(["pods/default/p"], Owned(cache, "u1"));
        Assert.Empty(Owned(cache, "u2"));
    }

    [Fact]
    public void A_relist_replaces_only_its_own_resource_and_an_index_added_later_sees_what_is_cached()
    {
        var cache = new ObjectCache();
        cache.Replace("pods", [PodOwnedBy("a", 1, "u1"), PodOwnedBy("b", 2, "u1")], 2);
        cache.Replace("secrets", [SecretOwnedBy("s", 3, "u1")], 3);
        Assert.Throws<InvalidOperationException>(() => cache.DependentsOf("u1").ToList());
        cache.IndexOwners();
        Assert.Equal(["pods/default/a", "pods/default/b", "secrets/default/s"], Owned(cache, "u1"));

        cache.Replace("pods", [PodOwnedBy("b", 4, "u2")], 4);
        Assert.Equal(["secrets/default/s"], Owned(cache, "u1"));
        Assert.Equal(["pods/default/b"], Owned(cache, "u2"));
        foreach (var uid in new[] { "u1", "u2" }) Assert.Equal(Scanned(cache, uid), Owned(cache, uid));
    }
}
