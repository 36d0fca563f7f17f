using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Orchestrator.Master.Controllers;
using Orchestrator.Master.Tests.Api;
using Orchestrator.Master.Tests.Controllers.Support;
using Orchestrator.Master.Tests.Api.CustomResources;
using Orchestrator.Master.Store;
using Xunit;

namespace Orchestrator.Master.Tests.Controllers;

/// <summary>The API with its namespace controller: the store, the HTTPS API and the controller, nothing else.</summary>
public sealed class NamespaceLifecycleFixture : ApiWithControllerFixture
{
    private protected override (Akka.Actor.Props Props, string Name) Controller(ApiTestServer server) =>
        (NamespaceController.Props(server.Store, TimeSpan.FromMinutes(5), server.Catalog), "namespace-controller");
}

/// <summary>
/// Namespaces as Kubernetes 1.32 deletes them: a delete marks the namespace Terminating, new content is refused, the
/// namespace controller deletes every object of every namespaced kind (custom resources too), reports what remains in
/// the namespace's conditions, and finalizes it; then it is gone.
/// </summary>
public sealed class NamespaceLifecycleTests(NamespaceLifecycleFixture fixture) : IClassFixture<NamespaceLifecycleFixture>
{
    private Kubernetes Client => fixture.Client;

    private static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..16];

    private async Task<string> NamespaceAsync()
    {
        var ns = Unique("nsl");
        await Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = ns } });
        return ns;
    }

    private static V1ConfigMap ConfigMap(string name, params string[] finalizers) =>
        new() { Metadata = new V1ObjectMeta { Name = name, Finalizers = finalizers.Length > 0 ? finalizers : null } };

    private async Task<bool> GoneAsync(string ns)
    {
        try
        {
            await Client.CoreV1.ReadNamespaceAsync(ns);
            return false;
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return true;
        }
    }

    private static Task<T> EventuallyAsync<T>(Func<Task<T>> read, Func<T, bool> done) =>
        ApiWithControllerFixture.EventuallyAsync(read, done);

    [Fact]
    public async Task Deleting_a_namespace_deletes_every_object_in_it_custom_objects_included_then_the_namespace()
    {
        var crd = await Client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(CronTabs.Definition("sprockets", "Sprocket"));
        await CronTabs.EstablishedAsync(Client, crd.Metadata.Name);
        var ns = await NamespaceAsync();
        await Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("settings"), ns);
        await Client.CoreV1.CreateNamespacedSecretAsync(new V1Secret { Metadata = new V1ObjectMeta { Name = "token" } }, ns);
        var sprocket = CronTabs.Object("nightly");
        sprocket.Kind = "Sprocket";
        await Client.CustomObjects.CreateNamespacedCustomObjectAsync(sprocket, CronTabs.Group, "v1", ns, "sprockets");

        var (status, deleted) = await fixture.Server.SendAsync(HttpMethod.Delete, $"/api/v1/namespaces/{ns}");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Terminating", deleted!["status"]!["phase"]!.ToString());
        Assert.NotNull(deleted["metadata"]!["deletionTimestamp"]);

        await EventuallyAsync(() => GoneAsync(ns), gone => gone);
        Assert.Empty((await Client.CoreV1.ListNamespacedConfigMapAsync(ns)).Items);
        Assert.Empty((await Client.CoreV1.ListNamespacedSecretAsync(ns)).Items);
        var crs = await Client.CustomObjects.ListNamespacedCustomObjectAsync<CustomResourceList>(CronTabs.Group, "v1", ns, "sprockets");
        Assert.Empty(crs.Items);

        var missing = await Assert.ThrowsAsync<HttpOperationException>(() => Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("late"), ns));
        Assert.Equal(HttpStatusCode.NotFound, missing.Response.StatusCode);
        Assert.Contains($"namespaces \\\"{ns}\\\" not found", missing.Response.Content);
    }

    [Fact]
    public async Task Content_held_by_a_finalizer_keeps_the_namespace_terminating_and_the_conditions_say_why()
    {
        var ns = await NamespaceAsync();
        await Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("held", "example.com/hold"), ns);
        await fixture.Server.SendAsync(HttpMethod.Delete, $"/api/v1/namespaces/{ns}");

        var refused = await Assert.ThrowsAsync<HttpOperationException>(() => Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("new"), ns));
        Assert.Equal(HttpStatusCode.Forbidden, refused.Response.StatusCode);
        Assert.Contains($"configmaps \\\"new\\\" is forbidden: unable to create new content in namespace {ns} because it is being terminated",
            refused.Response.Content);

        var terminating = await EventuallyAsync(() => Client.CoreV1.ReadNamespaceAsync(ns),
            n => n.Status.Conditions?.Any(c => c.Type == "NamespaceFinalizersRemaining" && c.Status == "True") == true);
        Assert.Equal("Terminating", terminating.Status.Phase);
        var remaining = terminating.Status.Conditions.Single(c => c.Type == "NamespaceContentRemaining");
        Assert.Equal(("True", "SomeResourcesRemain", "Some resources are remaining: configmaps. has 1 resource instances"),
            (remaining.Status, remaining.Reason, remaining.Message));
        var finalizers = terminating.Status.Conditions.Single(c => c.Type == "NamespaceFinalizersRemaining");
        Assert.Equal("Some finalizers are remaining: example.com/hold in 1 resource instances", finalizers.Message);
        var failure = terminating.Status.Conditions.Single(c => c.Type == "NamespaceDeletionContentFailure");
        Assert.Equal(("False", "ContentDeleted"), (failure.Status, failure.Reason));

        var (again, body) = await fixture.Server.SendAsync(HttpMethod.Delete, $"/api/v1/namespaces/{ns}");
        Assert.Equal(HttpStatusCode.Conflict, again);
        Assert.StartsWith($"Operation cannot be fulfilled on namespaces \"{ns}\": The system is ensuring all content is removed",
            body!["message"]!.ToString());

        await Client.CoreV1.PatchNamespacedConfigMapAsync(
            new V1Patch("""{"metadata":{"finalizers":null}}""", V1Patch.PatchType.MergePatch), "held", ns);
        await EventuallyAsync(() => GoneAsync(ns), gone => gone);
    }

    [Fact]
    public async Task System_namespaces_may_not_be_deleted()
    {
        var (status, body) = await fixture.Server.SendAsync(HttpMethod.Delete, "/api/v1/namespaces/kube-system");
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("namespaces \"kube-system\" is forbidden: this namespace may not be deleted", body!["message"]!.ToString());
        Assert.Null((await Client.CoreV1.ReadNamespaceAsync("kube-system")).Metadata.DeletionTimestamp);
    }

    [Fact]
    public async Task Finalize_replaces_spec_finalizers_and_an_update_does_not()
    {
        var ns = await NamespaceAsync();
        var body = $$$"""{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"{{{ns}}}"},"spec":{"finalizers":["example.com/mine"]}}""";
        var (updated, _) = await fixture.Server.SendAsync(HttpMethod.Put, $"/api/v1/namespaces/{ns}", body);
        Assert.Equal(HttpStatusCode.OK, updated);
        Assert.Equal(["kubernetes"], (await Client.CoreV1.ReadNamespaceAsync(ns)).Spec.Finalizers);

        var (finalized, result) = await fixture.Server.SendAsync(HttpMethod.Put, $"/api/v1/namespaces/{ns}/finalize", body);
        Assert.Equal(HttpStatusCode.OK, finalized);
        Assert.Equal("example.com/mine", result!["spec"]!["finalizers"]![0]!.ToString());
        Assert.Equal(["example.com/mine"], (await Client.CoreV1.ReadNamespaceAsync(ns)).Spec.Finalizers);

        var (patch, _) = await fixture.Server.SendAsync(HttpMethod.Patch, $"/api/v1/namespaces/{ns}/finalize", "{}",
            "application/merge-patch+json");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, patch);
    }
}

/// <summary>Any list of custom objects, items untyped.</summary>
public sealed class CustomResourceList
{
    [System.Text.Json.Serialization.JsonPropertyName("items")]
    public List<System.Text.Json.Nodes.JsonObject> Items { get; set; } = [];
}

/// <summary>ServiceAccounts through the generic registry: CRUD with the official client, kubectl's table, and no
/// TokenRequest (the <c>token</c> subresource is not served).</summary>
public sealed class ServiceAccountApiTests(NamespaceLifecycleFixture fixture) : IClassFixture<NamespaceLifecycleFixture>
{
    [Fact]
    public async Task Service_accounts_are_served_with_their_table_and_their_token_subresource()
    {
        var name = $"sa-{Guid.NewGuid():N}"[..12];
        var created = await fixture.Client.CoreV1.CreateNamespacedServiceAccountAsync(new V1ServiceAccount
        {
            Metadata = new V1ObjectMeta { Name = name },
            Secrets = [new V1ObjectReference { Name = "pull", Kind = "Secret" }],
        }, "default");
        Assert.Equal("pull", Assert.Single(created.Secrets).Name);
        Assert.Null(created.Secrets[0].Kind);

        var (status, table) = await fixture.Server.SendAsync(HttpMethod.Get, $"/api/v1/namespaces/default/serviceaccounts/{name}",
            accept: "application/json;as=Table;v=v1;g=meta.k8s.io");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(["Name", "Secrets", "Age"], table!["columnDefinitions"]!.AsArray().Select(c => c!["name"]!.ToString()));
        Assert.Equal(1, (int)table["rows"]![0]!["cells"]![1]!);

        var (token, request) = await fixture.Server.SendAsync(HttpMethod.Post, $"/api/v1/namespaces/default/serviceaccounts/{name}/token",
            """{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{}}""");
        Assert.Equal(HttpStatusCode.Created, token);
        Assert.Equal(3, request!["status"]!["token"]!.ToString().Split('.').Length);
        await fixture.Client.CoreV1.DeleteNamespacedServiceAccountAsync(name, "default");
    }
}
