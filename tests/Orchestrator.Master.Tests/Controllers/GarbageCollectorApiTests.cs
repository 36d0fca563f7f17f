using k8s;
using k8s.Autorest;
using k8s.Models;
using Orchestrator.Master.Controllers;
using Orchestrator.Master.Tests.Api;
using Orchestrator.Master.Tests.Api.CustomResources;
using Orchestrator.Master.Tests.Controllers.Support;
using Xunit;

namespace Orchestrator.Master.Tests.Controllers;

/// <summary>The API with the garbage collector started before any custom resource is defined.</summary>
public sealed class GarbageCollectorApiFixture : ApiWithControllerFixture
{
    private protected override (Akka.Actor.Props Props, string Name) Controller(ApiTestServer server) =>
        (GarbageCollector.Props(server.Store, TimeSpan.FromMinutes(5), server.Catalog), "garbage-collector");
}

/// <summary>
/// An operator's objects as Kubernetes' garbage collector treats them: a custom object owns the StatefulSet, the
/// ServiceAccount, the Role and the other custom objects made for it, of a resource defined after the collector
/// started; deleting it in the background deletes them all, deleting it with propagationPolicy Orphan keeps them
/// without the reference.
/// </summary>
public sealed class GarbageCollectorApiTests(GarbageCollectorApiFixture fixture) : IClassFixture<GarbageCollectorApiFixture>
{
    private const string Plural = "gadgets";
    private Kubernetes Client => fixture.Client;

    private async Task<string> NamespaceAsync()
    {
        var ns = $"gc-{Guid.NewGuid():N}"[..12];
        await Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = ns } });
        return ns;
    }

    private async Task DefineGadgetsAsync()
    {
        try
        {
            await Client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(CronTabs.Definition(Plural, "Gadget"));
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.Conflict)
        {
            // the other test defined it
        }
        await CronTabs.EstablishedAsync(Client, $"{Plural}.{CronTabs.Group}");
    }

    private async Task<V1OwnerReference> GadgetAsync(string ns, string name, V1OwnerReference? owner = null)
    {
        var gadget = CronTabs.Object(name);
        gadget.Kind = "Gadget";
        if (owner is not null) gadget.Metadata.OwnerReferences = [owner];
        var created = (CronTab)(await Client.CustomObjects.CreateNamespacedCustomObjectAsync<CronTab>(gadget, CronTabs.Group, "v1", ns, Plural))!;
        return new V1OwnerReference
        {
            ApiVersion = $"{CronTabs.Group}/v1", Kind = "Gadget", Name = name, Uid = created.Metadata.Uid, Controller = true, BlockOwnerDeletion = true,
        };
    }

    private static V1StatefulSet StatefulSet(string name, V1OwnerReference? owner) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, OwnerReferences = owner is null ? null : [owner] },
        Spec = new V1StatefulSetSpec
        {
            ServiceName = name,
            Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = name } },
            Template = new V1PodTemplateSpec
            {
                Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = name } },
                Spec = new V1PodSpec { Containers = [new V1Container { Name = "db", Image = "db:1" }] },
            },
        },
    };

    private async Task<bool> GadgetExistsAsync(string ns, string name)
    {
        try
        {
            await Client.CustomObjects.GetNamespacedCustomObjectAsync(CronTabs.Group, "v1", ns, Plural, name);
            return true;
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return false;
        }
    }

    [Fact]
    public async Task Deleting_a_custom_object_in_the_background_deletes_what_it_owns_of_every_kind()
    {
        await DefineGadgetsAsync();
        var ns = await NamespaceAsync();
        var parent = await GadgetAsync(ns, "parent");
        await GadgetAsync(ns, "child", parent);
        await Client.AppsV1.CreateNamespacedStatefulSetAsync(StatefulSet("db", parent), ns);
        await Client.AppsV1.CreateNamespacedStatefulSetAsync(StatefulSet("unowned", null), ns);
        await Client.CoreV1.CreateNamespacedServiceAccountAsync(new V1ServiceAccount { Metadata = new V1ObjectMeta { Name = "db", OwnerReferences = [parent] } }, ns);
        await Client.RbacAuthorizationV1.CreateNamespacedRoleAsync(new V1Role { Metadata = new V1ObjectMeta { Name = "db", OwnerReferences = [parent] } }, ns);

        await Client.CustomObjects.DeleteNamespacedCustomObjectAsync(CronTabs.Group, "v1", ns, Plural, "parent",
            new V1DeleteOptions { PropagationPolicy = "Background" });

        await EventuallyAsync(() => GadgetExistsAsync(ns, "child"), exists => !exists);
        await EventuallyAsync(async () => (await Client.AppsV1.ListNamespacedStatefulSetAsync(ns)).Items.Select(s => s.Metadata.Name).ToList(),
            names => names.SequenceEqual(["unowned"]));
        await EventuallyAsync(async () => (await Client.CoreV1.ListNamespacedServiceAccountAsync(ns)).Items.Any(a => a.Metadata.Name == "db"), any => !any);
        await EventuallyAsync(async () => (await Client.RbacAuthorizationV1.ListNamespacedRoleAsync(ns)).Items.Count, count => count == 0);
    }

    [Fact]
    public async Task Deleting_a_custom_object_with_orphan_keeps_what_it_owns_without_the_reference()
    {
        await DefineGadgetsAsync();
        var ns = await NamespaceAsync();
        var parent = await GadgetAsync(ns, "parent");
        await GadgetAsync(ns, "child", parent);
        await Client.AppsV1.CreateNamespacedStatefulSetAsync(StatefulSet("db", parent), ns);

        await Client.CustomObjects.DeleteNamespacedCustomObjectAsync(CronTabs.Group, "v1", ns, Plural, "parent",
            new V1DeleteOptions { PropagationPolicy = "Orphan" });

        await EventuallyAsync(() => GadgetExistsAsync(ns, "parent"), exists => !exists);
        var child = await Client.CustomObjects.GetNamespacedCustomObjectAsync<CronTab>(CronTabs.Group, "v1", ns, Plural, "child");
        Assert.Empty(child.Metadata.OwnerReferences ?? []);
        var db = await Client.AppsV1.ReadNamespacedStatefulSetAsync("db", ns);
        Assert.Empty(db.Metadata.OwnerReferences ?? []);
    }

    private static Task<T> EventuallyAsync<T>(Func<Task<T>> read, Func<T, bool> done) =>
        ApiWithControllerFixture.EventuallyAsync(read, done);
}
