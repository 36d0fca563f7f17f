using k8s;
using k8s.Models;
using Orchestrator.Master.Store;
using Xunit;

namespace Orchestrator.Master.Tests.Store;

/// <summary>The store's lists: sorted like etcd keys, per namespace from its own index, and one read-only instance
/// between two writes to the resource and namespace.</summary>
public sealed class StoreStateListTests
{
    private static readonly string[] Keys = ["a/x", "a-b/x", "a/y", "b/x", "ab/x"];

    private static StoreState Filled()
    {
        var state = new StoreState();
        var rv = 0;
        foreach (var key in Keys)
        {
            var (ns, name) = (key.Split('/')[0], key.Split('/')[1]);
            state.Put("configmaps", Objects.ConfigMap(name, ns), ++rv, 10);
        }
        state.Put("namespaces", new V1Namespace { Metadata = new V1ObjectMeta { Name = "a" } }, ++rv, 10);
        return state;
    }

    private static string[] Paths(IEnumerable<IKubernetesObject<V1ObjectMeta>> items) =>
        items.Select(o => StoreState.Path(o.Metadata.NamespaceProperty, o.Metadata.Name)).ToArray();

    [Fact]
    public void A_list_of_all_namespaces_is_in_key_order()
    {
        // "a-b/x" sorts before "a/x" as etcd keys do ('-' < '/'), not by namespace first
        Assert.Equal(["a-b/x", "a/x", "a/y", "ab/x", "b/x"], Paths(Filled().List("configmaps")));
    }

    [Fact]
    public void A_namespace_lists_its_own_objects_only()
    {
        var state = Filled();
        Assert.Equal(["a/x", "a/y"], Paths(state.List("configmaps", "a")));
        Assert.Equal(["a-b/x"], Paths(state.List("configmaps", "a-b")));
        Assert.Empty(state.List("configmaps", "c"));
        Assert.Empty(state.List("secrets", "a"));
        Assert.Equal(["a/x", "a/y"], state.Entries("configmaps", "a").Select(e => e.Key).ToArray());
    }

    [Fact]
    public void Lists_between_writes_are_one_read_only_instance()
    {
        var state = Filled();
        var first = state.List("configmaps", "a");
        Assert.Same(first, state.List("configmaps", "a"));
        Assert.Same(state.List("configmaps"), state.List("configmaps"));
        Assert.Throws<NotSupportedException>(() => ((IList<IKubernetesObject<V1ObjectMeta>>)first)[0] = Objects.ConfigMap("z", "a"));
    }

    [Fact]
    public void A_write_makes_its_namespace_and_the_whole_resource_list_afresh_and_leaves_the_others()
    {
        var state = Filled();
        var a = state.List("configmaps", "a");
        var b = state.List("configmaps", "b");
        var all = state.List("configmaps");
        var namespaces = state.List("namespaces");
        state.Put("configmaps", Objects.ConfigMap("z", "a"), 100, 10);
        Assert.Equal(["a/x", "a/y", "a/z"], Paths(state.List("configmaps", "a")));
        Assert.Equal(["a/x", "a/y"], Paths(a));
        Assert.NotSame(all, state.List("configmaps"));
        Assert.Equal(6, state.List("configmaps").Count);
        Assert.Same(b, state.List("configmaps", "b"));
        Assert.Same(namespaces, state.List("namespaces"));
    }

    [Fact]
    public void A_removal_makes_the_lists_afresh()
    {
        var state = Filled();
        var a = state.List("configmaps", "a");
        var all = state.List("configmaps");
        Assert.NotNull(state.Remove("configmaps", "a", "x", 100));
        Assert.Equal(["a/y"], Paths(state.List("configmaps", "a")));
        Assert.DoesNotContain("a/x", Paths(state.List("configmaps")));
        Assert.Equal(2, a.Count);
        Assert.Equal(5, all.Count);
        Assert.NotNull(state.Remove("configmaps", "a", "y", 101));
        Assert.Empty(state.List("configmaps", "a"));
        Assert.Null(state.Remove("configmaps", "a", "y", 102));
    }

    [Fact]
    public void A_replaced_object_is_listed_in_its_new_version()
    {
        var state = Filled();
        state.List("configmaps", "b");
        var replacement = Objects.ConfigMap("x", "b");
        replacement.Data["k"] = "changed";
        state.Put("configmaps", replacement, 100, 10);
        Assert.Same(replacement, Assert.Single(state.List("configmaps", "b")));
        Assert.Same(replacement, state.List("configmaps").Single(o => o.Metadata.NamespaceProperty == "b"));
    }

    [Fact]
    public void Clear_forgets_the_lists()
    {
        var state = Filled();
        state.List("configmaps", "a");
        state.Clear();
        Assert.Empty(state.List("configmaps", "a"));
        Assert.Empty(state.List("configmaps"));
    }
}
