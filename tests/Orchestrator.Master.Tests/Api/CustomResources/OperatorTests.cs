using System.Net;
using System.Text.Json.Serialization;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Orchestrator.Master.Controllers;
using Xunit;

namespace Orchestrator.Master.Tests.Api.CustomResources;

/// <summary>A WebApp: the custom resource of the operator below (an image and a replica count).</summary>
public sealed class WebApp : IKubernetesObject<V1ObjectMeta>
{
    [JsonPropertyName("apiVersion")] public string ApiVersion { get; set; } = "apps.example.com/v1";
    [JsonPropertyName("kind")] public string Kind { get; set; } = "WebApp";
    [JsonPropertyName("metadata")] public V1ObjectMeta Metadata { get; set; } = new();
    [JsonPropertyName("spec")] public WebAppSpec Spec { get; set; } = new();
}

public sealed class WebAppSpec
{
    [JsonPropertyName("image")] public string Image { get; set; } = "";
    [JsonPropertyName("replicas")] public int Replicas { get; set; } = 1;
}

/// <summary>
/// A small operator as real ones are written with the KubernetesClient library: it lists and watches WebApps and, for
/// each, creates or updates a Deployment it owns (controller ownerReference). It never deletes anything: the garbage
/// collector removes the Deployment when its WebApp goes.
/// </summary>
internal sealed class WebAppOperator(Kubernetes client, string ns)
{
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var response = client.CustomObjects.ListNamespacedCustomObjectWithHttpMessagesAsync<object>(
            "apps.example.com", "v1", ns, "webapps", watch: true, cancellationToken: cancellationToken);
        await foreach (var (type, app) in response.WatchAsync<WebApp, object>(cancellationToken: cancellationToken))
            if (type is WatchEventType.Added or WatchEventType.Modified)
                await ReconcileAsync(app, cancellationToken);
    }

    private async Task ReconcileAsync(WebApp app, CancellationToken cancellationToken)
    {
        var name = app.Metadata.Name;
        var labels = new Dictionary<string, string> { ["app"] = name };
        var desired = new V1Deployment
        {
            Metadata = new V1ObjectMeta
            {
                Name = name,
                OwnerReferences =
                [
                    new V1OwnerReference
                    {
                        ApiVersion = app.ApiVersion, Kind = app.Kind, Name = name, Uid = app.Metadata.Uid, Controller = true,
                        BlockOwnerDeletion = true,
                    },
                ],
            },
            Spec = new V1DeploymentSpec
            {
                Replicas = app.Spec.Replicas,
                Selector = new V1LabelSelector { MatchLabels = labels },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = labels },
                    Spec = new V1PodSpec { Containers = [new V1Container { Name = "web", Image = app.Spec.Image }] },
                },
            },
        };
        try
        {
            await client.AppsV1.CreateNamespacedDeploymentAsync(desired, ns, cancellationToken: cancellationToken);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
            await client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch(
                """{"spec":{"replicas":REPLICAS,"template":{"spec":{"containers":[{"name":"web","image":"IMAGE"}]}}}}"""
                    .Replace("REPLICAS", app.Spec.Replicas.ToString()).Replace("IMAGE", app.Spec.Image),
                V1Patch.PatchType.StrategicMergePatch), name, ns, cancellationToken: cancellationToken);
        }
    }
}

/// <summary>The operator pattern end to end on the API and the control plane: a custom resource drives a Deployment.</summary>
public sealed class OperatorTests(KubernetesClientFixture fixture) : IClassFixture<KubernetesClientFixture>
{
    private Kubernetes Client => fixture.Client;

    private static V1CustomResourceDefinition WebApps => KubernetesJson.Deserialize<V1CustomResourceDefinition>("""
        {"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"webapps.apps.example.com"},
         "spec":{"group":"apps.example.com","scope":"Namespaced","names":{"plural":"webapps","kind":"WebApp"},
           "versions":[{"name":"v1","served":true,"storage":true,"schema":{"openAPIV3Schema":{"type":"object","properties":{
             "spec":{"type":"object","required":["image"],"properties":{"image":{"type":"string"},"replicas":{"type":"integer","minimum":0}}}}}}}]}}
        """);

    [Fact]
    public async Task An_operator_creates_a_deployment_for_its_resource_and_the_garbage_collector_removes_it_with_the_resource()
    {
        ControllersHosting.Start(fixture.Server.System, fixture.Server.Store, TimeSpan.FromSeconds(30),
            NodeLifecycleSettings.Default, fixture.Server.Catalog);
        var crd = await Client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(WebApps);
        await CronTabs.EstablishedAsync(Client, crd.Metadata.Name);
        var ns = $"op-{Guid.NewGuid():N}"[..12];
        await Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = ns } });

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var running = new WebAppOperator(Client, ns).RunAsync(cts.Token);
        var app = new WebApp { Metadata = new V1ObjectMeta { Name = "shop" }, Spec = new WebAppSpec { Image = "katacoda/docker-http-server:latest", Replicas = 2 } };
        var created = await Client.CustomObjects.CreateNamespacedCustomObjectAsync<WebApp>(app, "apps.example.com", "v1", ns, "webapps");

        var deployment = await EventuallyAsync(() => Client.AppsV1.ReadNamespacedDeploymentAsync("shop", ns), d => d.Spec.Replicas == 2, cts.Token);
        var owner = Assert.Single(deployment.Metadata.OwnerReferences);
        Assert.Equal((created.Metadata.Uid, "WebApp", true), (owner.Uid, owner.Kind, owner.Controller == true));

        await Client.CustomObjects.PatchNamespacedCustomObjectAsync<WebApp>(new V1Patch("""{"spec":{"replicas":3}}""", V1Patch.PatchType.MergePatch),
            "apps.example.com", "v1", ns, "webapps", "shop");
        await EventuallyAsync(() => Client.AppsV1.ReadNamespacedDeploymentAsync("shop", ns), d => d.Spec.Replicas == 3, cts.Token);

        await Client.CustomObjects.DeleteNamespacedCustomObjectAsync("apps.example.com", "v1", ns, "webapps", "shop");
        while ((await Client.AppsV1.ListNamespacedDeploymentAsync(ns, cancellationToken: cts.Token)).Items.Count > 0)
            await Task.Delay(100, cts.Token);

        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running);
    }

    /// <summary>Reads until the condition holds (an object that does not exist yet counts as not yet).</summary>
    private static async Task<T> EventuallyAsync<T>(Func<Task<T>> read, Func<T, bool> holds, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                var value = await read();
                if (holds(value)) return value;
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
            {
            }
            await Task.Delay(100, cancellationToken);
        }
    }
}
