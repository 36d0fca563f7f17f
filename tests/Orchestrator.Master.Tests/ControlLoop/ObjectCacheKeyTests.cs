using k8s.Models;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Store;
using Xunit;

namespace Orchestrator.Master.Tests.ControlLoop;

/// <summary>A cached object keeps the key it was added with while it changes; keys are found by their parts (resource,
/// namespace, name), a cluster-scoped object's namespace being null.</summary>
public sealed class ObjectCacheKeyTests
{
    private static V1Pod Pod(string? ns, string name, long rv, string? node = null) =>
        new() { Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns, ResourceVersion = rv.ToString() }, Spec = new V1PodSpec { NodeName = node } };

    [Fact]
    public void Changes_keep_the_objects_key_and_are_found_by_its_parts()
    {
        var cache = new ObjectCache();
        cache.IndexBy("pods", o => ((V1Pod)o).Spec?.NodeName);
        cache.Apply(new ObjectChanged("ADDED", "pods", Pod("a", "p", 1), 1), out _);
        cache.Apply(new ObjectChanged("ADDED", "pods", Pod("b", "p", 2), 2), out _);
        cache.Apply(new ObjectChanged("ADDED", "nodes", Pod(null, "p", 3), 3), out _);
        var key = Assert.Single(cache.Keys("pods"), k => k.Namespace == "a");

        var bound = Pod("a", "p", 4, "n1");
        Assert.Equal("1", cache.Apply(new ObjectChanged("MODIFIED", "pods", bound, 4), out var applied)!.Metadata.ResourceVersion);
        Assert.True(applied);
        Assert.Same(key, Assert.Single(cache.Keys("pods"), k => k.Namespace == "a"));
        Assert.Same(bound, cache.Get(new ResourceKey("pods", "a", "p")));
        Assert.Equal("2", cache.Get<V1Pod>("pods", "b", "p")!.Metadata.ResourceVersion);
        Assert.Equal("3", cache.Get<V1Pod>("nodes", null, "p")!.Metadata.ResourceVersion);
        Assert.Null(cache.Get<V1Pod>("pods", null, "p"));
        Assert.Same(bound, Assert.Single(cache.ListBy<V1Pod>("pods", "n1")));

        // an older change of the same object is not applied
        Assert.Same(bound, cache.Apply(new ObjectChanged("MODIFIED", "pods", Pod("a", "p", 3), 3), out applied));
        Assert.False(applied);

        cache.Apply(new ObjectChanged("DELETED", "pods", Pod("a", "p", 5, "n1"), 5), out _);
        Assert.Null(cache.Get<V1Pod>("pods", "a", "p"));
        Assert.Empty(cache.ListBy<V1Pod>("pods", "n1"));
        Assert.Equal(["b"], cache.Keys("pods").Select(k => k.Namespace));
        // added again: found with a key of its own
        cache.Apply(new ObjectChanged("ADDED", "pods", Pod("a", "p", 6), 6), out _);
        Assert.Equal("6", cache.Get<V1Pod>("pods", "a", "p")!.Metadata.ResourceVersion);

        cache.Replace("pods", [Pod("c", "q", 7)], 7);
        Assert.Equal("7", cache.Get<V1Pod>("pods", "c", "q")!.Metadata.ResourceVersion);
        cache.Apply(new ObjectChanged("MODIFIED", "pods", Pod("c", "q", 8), 8), out applied);
        Assert.True(applied);
        Assert.Equal("8", Assert.Single(cache.List<V1Pod>("pods")).Metadata.ResourceVersion);
    }
}
