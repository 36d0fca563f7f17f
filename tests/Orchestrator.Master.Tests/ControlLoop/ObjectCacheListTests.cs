using k8s.Models;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Store;
using Xunit;

namespace Orchestrator.Master.Tests.ControlLoop;

/// <summary>Listing a cached resource: every object of it or of one namespace, of the type asked for.</summary>
public sealed class ObjectCacheListTests
{
    private static V1Service Service(string ns, string name, long rv) =>
        new() { Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns, ResourceVersion = rv.ToString() } };

    [Fact]
    public void Lists_a_namespace_or_all_and_nothing_of_an_unknown_or_emptied_resource()
    {
        var cache = new ObjectCache();
        Assert.Empty(cache.List<V1Service>("services"));
        cache.Apply(new ObjectChanged("ADDED", "services", Service("a", "one", 1), 1), out _);
        cache.Apply(new ObjectChanged("ADDED", "services", Service("b", "two", 2), 2), out _);
        cache.Apply(new ObjectChanged("ADDED", "services", Service("a", "three", 3), 3), out _);

        Assert.Equal(["one", "three"], cache.List<V1Service>("services", "a").Select(s => s.Metadata.Name).Order());
        Assert.Equal(["one", "three", "two"], cache.List<V1Service>("services").Select(s => s.Metadata.Name).Order());
        Assert.Empty(cache.List<V1Service>("services", "c"));
        Assert.Empty(cache.List<V1Pod>("services"));

        foreach (var (ns, name, rv) in new[] { ("a", "one", 4L), ("b", "two", 5L), ("a", "three", 6L) })
            cache.Apply(new ObjectChanged("DELETED", "services", Service(ns, name, rv), rv), out _);
        Assert.Empty(cache.List<V1Service>("services"));
    }
}
