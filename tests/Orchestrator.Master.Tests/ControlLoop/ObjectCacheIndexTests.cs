using k8s;
using k8s.Models;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Store;
using Xunit;
using static Orchestrator.Master.Tests.Controllers.Support.Objects;

namespace Orchestrator.Master.Tests.ControlLoop;

/// <summary>The cache's index (pods by node, as the NodeGateway asks): kept with every change and every relist.</summary>
public sealed class ObjectCacheIndexTests
{
    private const string Pods = "pods";

    private static ObjectCache Indexed()
    {
        var cache = new ObjectCache();
        cache.IndexBy(Pods, o => (o as V1Pod)?.Spec?.NodeName is { Length: > 0 } n ? n : null);
        return cache;
    }

    private static V1Pod At(string name, string? node, long rv)
    {
        var pod = Pod(name, nodeName: node);
        pod.Metadata.ResourceVersion = rv.ToString();
        return pod;
    }

    private static string[] On(ObjectCache cache, string node) =>
        cache.ListBy<V1Pod>(Pods, node).Select(p => p.Metadata.Name).Order(StringComparer.Ordinal).ToArray();

    [Fact]
    public void Follows_binding_moving_and_deletion()
    {
        var cache = Indexed();
        cache.Apply(new ObjectChanged("ADDED", Pods, At("a", null, 1), 1), out _);
        cache.Apply(new ObjectChanged("ADDED", Pods, At("b", "n1", 2), 2), out _);
        Assert.Equal(["b"], On(cache, "n1"));

        cache.Apply(new ObjectChanged("MODIFIED", Pods, At("a", "n1", 3), 3), out _);
        Assert.Equal(["a", "b"], On(cache, "n1"));

        cache.Apply(new ObjectChanged("MODIFIED", Pods, At("b", "n2", 4), 4), out _);
        Assert.Equal(["a"], On(cache, "n1"));
        Assert.Equal(["b"], On(cache, "n2"));

        cache.Apply(new ObjectChanged("DELETED", Pods, At("a", "n1", 5), 5), out _);
        Assert.Empty(On(cache, "n1"));
        // the index answers the same as a scan of the whole resource
        Assert.Equal(cache.List<V1Pod>(Pods).Where(p => p.Spec?.NodeName == "n2").Select(p => p.Metadata.Name), On(cache, "n2"));
    }

    [Fact]
    public void An_older_change_moves_nothing()
    {
        var cache = Indexed();
        cache.Apply(new ObjectChanged("ADDED", Pods, At("a", "n1", 5), 5), out _);
        cache.Apply(new ObjectChanged("MODIFIED", Pods, At("a", "n2", 4), 4), out var applied);
        Assert.False(applied);
        Assert.Equal(["a"], On(cache, "n1"));
        Assert.Empty(On(cache, "n2"));
    }

    [Fact]
    public void A_relist_rebuilds_it_and_an_index_added_later_sees_what_is_cached()
    {
        var cache = new ObjectCache();
        cache.Replace(Pods, [At("a", "n1", 1), At("b", "n1", 2)], 2);
        cache.IndexBy(Pods, o => (o as V1Pod)?.Spec?.NodeName);
        Assert.Equal(["a", "b"], On(cache, "n1"));

        cache.Replace(Pods, [At("b", "n2", 3)], 3);
        Assert.Empty(On(cache, "n1"));
        Assert.Equal(["b"], On(cache, "n2"));
        Assert.Throws<InvalidOperationException>(() => cache.ListBy<V1Pod>("nodes", "x").ToList());
    }
}
