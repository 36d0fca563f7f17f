using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Xunit;

namespace Orchestrator.Master.Tests.Registry.Catalog;

public sealed class ResourceCatalogTests
{
    private static ResourceDescription Widgets(string version = "v1") => new()
    {
        Group = "example.com", Version = version, Resource = "widgets", Kind = "Widget", Namespaced = true,
        StoreName = "widgets.example.com", Storage = version == "v1",
        ObjectType = typeof(CustomObject), Strategy = new ModelStrategy<V1ConfigMap>(),
    };

    [Fact]
    public void A_source_set_at_run_time_is_in_the_next_snapshot_and_the_old_one_is_unchanged()
    {
        var catalog = BuiltIn.NewCatalog();
        var before = catalog.Current;
        CatalogSnapshot? announced = null;
        catalog.Changed += s => announced = s;

        catalog.Set("crd:widgets.example.com", [Widgets()]);

        Assert.Null(before.Find("example.com", "v1", "widgets"));
        Assert.NotNull(catalog.Current.Find("example.com", "v1", "widgets"));
        Assert.Same(catalog.Current, announced);
        Assert.NotEqual(before.Hash, catalog.Current.Hash);
        Assert.Contains(catalog.Current.Groups, g => g.Name == "example.com");
    }

    [Fact]
    public void Custom_groups_follow_the_built_in_ones_by_group_name_not_by_definition_name()
    {
        // kubectl's test-cmd (run_ambiguous_shortname_tests): foos.bar.com and examples.test.com share the short name
        // "exmp"; kube-apiserver lists bar.com before test.com, so kubectl resolves "exmp" to foos.
        var catalog = BuiltIn.NewCatalog();
        ResourceDescription Of(string group, string plural, string kind) => new()
        {
            Group = group, Version = "v1", Resource = plural, Kind = kind, Namespaced = true,
            StoreName = $"{plural}.{group}", ObjectType = typeof(CustomObject), Strategy = new ModelStrategy<V1ConfigMap>(),
        };
        catalog.Set("crd:examples.test.com", [Of("test.com", "examples", "Example")]);
        catalog.Set("crd:foos.bar.com", [Of("bar.com", "foos", "Foo")]);

        var names = catalog.Current.Groups.Select(g => g.Name).ToList();
        Assert.True(names.IndexOf("bar.com") < names.IndexOf("test.com"));
        Assert.True(names.IndexOf("apps") < names.IndexOf("bar.com"));
    }

    [Fact]
    public void Removing_a_source_stops_serving_it_and_restores_the_hash()
    {
        var catalog = BuiltIn.NewCatalog();
        var hash = catalog.Current.Hash;
        catalog.Set("crd:widgets.example.com", [Widgets()]);

        Assert.True(catalog.Remove("crd:widgets.example.com"));

        Assert.Null(catalog.Current.Find("example.com", "v1", "widgets"));
        Assert.Equal(hash, catalog.Current.Hash);
        Assert.False(catalog.Remove("crd:widgets.example.com"));
    }

    [Fact]
    public void Several_versions_share_one_store_name_and_the_store_sees_the_storage_version()
    {
        var catalog = BuiltIn.NewCatalog();
        catalog.Set("crd:widgets.example.com", [Widgets("v1"), Widgets("v2")]);

        Assert.Equal("v1", catalog.Find("widgets.example.com")!.Version);
        Assert.Equal(["v1", "v2"], catalog.Current.Groups.Single(g => g.Name == "example.com").Versions);
    }

    [Fact]
    public void A_resource_another_source_serves_is_refused()
    {
        var catalog = BuiltIn.NewCatalog();
        var pods = BuiltIn.Pods with { };
        Assert.Throws<InvalidOperationException>(() => catalog.Set("crd:pods", [pods]));
        Assert.Same(BuiltIn.Pods, catalog.Current.Find("", "v1", "pods"));
    }

    [Fact]
    public void Objects_of_a_resource_not_served_decode_as_custom_objects_keeping_every_field()
    {
        var catalog = BuiltIn.NewCatalog();
        var obj = catalog.Decode("widgets.example.com",
            """{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"},"spec":{"size":3}}""");

        var custom = Assert.IsType<CustomObject>(obj);
        Assert.Equal("w", custom.Metadata.Name);
        Assert.Equal(3, custom.Fields["spec"]!["size"]!.GetValue<int>());
        Assert.IsType<V1Pod>(catalog.Decode("pods", """{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"}}"""));
    }

    [Fact]
    public void Kinds_are_found_by_api_version_and_kind()
    {
        var catalog = BuiltIn.NewCatalog();
        Assert.Equal("deployments", catalog.FindByKind("apps/v1", "Deployment")!.StoreName);
        Assert.Equal("events", catalog.FindByKind("events.k8s.io/v1", "Event")!.StoreName); // one storage with core/v1 events
        Assert.Null(catalog.FindByKind("apps/v1", "Widget"));
    }
}
