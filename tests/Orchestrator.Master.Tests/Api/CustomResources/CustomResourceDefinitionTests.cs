using System.Net;
using System.Text.Json.Serialization;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Xunit;

namespace Orchestrator.Master.Tests.Api.CustomResources;

/// <summary>A custom object as a client models it: typed spec and status.</summary>
public sealed class CronTab : IKubernetesObject<V1ObjectMeta>
{
    [JsonPropertyName("apiVersion")] public string ApiVersion { get; set; } = "stable.example.com/v1";
    [JsonPropertyName("kind")] public string Kind { get; set; } = "CronTab";
    [JsonPropertyName("metadata")] public V1ObjectMeta Metadata { get; set; } = new();
    [JsonPropertyName("spec")] public CronTabSpec? Spec { get; set; }
    [JsonPropertyName("status")] public CronTabStatus? Status { get; set; }
}

public sealed class CronTabSpec
{
    [JsonPropertyName("cronSpec")] public string? CronSpec { get; set; }
    [JsonPropertyName("image")] public string? Image { get; set; }
    [JsonPropertyName("replicas")] public int? Replicas { get; set; }
    [JsonPropertyName("maxReplicas")] public int? MaxReplicas { get; set; }
}

public sealed class CronTabStatus
{
    [JsonPropertyName("replicas")] public int? Replicas { get; set; }
    [JsonPropertyName("labelSelector")] public string? LabelSelector { get; set; }
}

/// <summary>The CronTab definition the tests use (the Kubernetes documentation's, with defaults, a CEL rule, printer
/// columns, status and scale, and a second served version).</summary>
internal static class CronTabs
{
    public const string Group = "stable.example.com";
    public const string Plural = "crontabs";

    public static V1CustomResourceDefinition Definition(string plural = Plural, string kind = "CronTab") => KubernetesJson.Deserialize<V1CustomResourceDefinition>("""
        {"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
         "metadata":{"name":"PLURAL.GROUP"},
         "spec":{"group":"GROUP","scope":"Namespaced",
           "names":{"plural":"PLURAL","singular":"SINGULAR","kind":"KIND","shortNames":["SHORTt"],"categories":["all"]},
           "versions":[
             {"name":"v1","served":true,"storage":true,"schema":{"openAPIV3Schema":SCHEMA},
              "subresources":{"status":{},"scale":{"specReplicasPath":".spec.replicas","statusReplicasPath":".status.replicas","labelSelectorPath":".status.labelSelector"}},
              "additionalPrinterColumns":[{"name":"Spec","type":"string","jsonPath":".spec.cronSpec"},
                                          {"name":"Replicas","type":"integer","jsonPath":".spec.replicas"},
                                          {"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}]},
             {"name":"v1beta1","served":true,"storage":false,"schema":{"openAPIV3Schema":SCHEMA},"subresources":{"status":{}}}]}}
        """
        .Replace("SINGULAR", plural.TrimEnd('s')).Replace("SHORT", plural[..2]).Replace("PLURAL", plural).Replace("GROUP", Group)
        .Replace("KIND", kind).Replace("SCHEMA", Schema));

    private const string Schema = """
        {"type":"object","properties":{
          "spec":{"type":"object","required":["cronSpec"],
            "x-kubernetes-validations":[{"rule":"self.replicas <= self.maxReplicas","message":"replicas must not exceed maxReplicas"}],
            "properties":{"cronSpec":{"type":"string"},"image":{"type":"string"},
                          "replicas":{"type":"integer","minimum":0,"default":1},"maxReplicas":{"type":"integer","default":10}}},
          "status":{"type":"object","properties":{"replicas":{"type":"integer"},"labelSelector":{"type":"string"}}}}}
        """;

    public static CronTab Object(string name, string cronSpec = "* * * * */5", int? replicas = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new CronTabSpec { CronSpec = cronSpec, Image = "my-cron-image", Replicas = replicas },
    };

    /// <summary>Waits until the definition is Established (the API serves its resource from then on).</summary>
    public static async Task<V1CustomResourceDefinition> EstablishedAsync(Kubernetes client, string name)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            var crd = await client.ApiextensionsV1.ReadCustomResourceDefinitionAsync(name, cancellationToken: cts.Token);
            if (crd.Status?.Conditions?.Any(c => c.Type == "Established" && c.Status == "True") == true) return crd;
            await Task.Delay(50, cts.Token);
        }
    }
}

/// <summary>
/// The CustomResourceDefinition lifecycle through the official KubernetesClient library: define a resource, see it
/// served, create, default, refuse, patch, scale, write status, watch and print its objects, read them in another
/// version, and delete the definition with its objects.
/// </summary>
public sealed class CustomResourceDefinitionTests(KubernetesClientFixture fixture) : IClassFixture<KubernetesClientFixture>
{
    private Kubernetes Client => fixture.Client;

    private static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..16];

    private async Task<string> NamespaceAsync()
    {
        var ns = Unique("crd");
        await Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = ns } });
        return ns;
    }

    [Fact]
    public async Task A_definition_is_served_and_its_objects_go_through_every_verb()
    {
        var crd = await Client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(CronTabs.Definition());
        Assert.Contains(CustomResourceDefinitionFinalizer, crd.Metadata.Finalizers);
        var established = await CronTabs.EstablishedAsync(Client, crd.Metadata.Name);
        Assert.Equal("CronTab", established.Status.AcceptedNames.Kind);
        Assert.Equal(["v1"], established.Status.StoredVersions);
        var (discovered, _) = await fixture.Server.SendAsync(HttpMethod.Get, "/apis/stable.example.com/v1");
        Assert.Equal(HttpStatusCode.OK, discovered);

        var ns = await NamespaceAsync();
        var created = await Client.CustomObjects.CreateNamespacedCustomObjectAsync<CronTab>(CronTabs.Object("nightly"), CronTabs.Group, "v1", ns, CronTabs.Plural);
        Assert.Equal(1, created.Spec!.Replicas);                  // defaulted
        Assert.Equal(10, created.Spec.MaxReplicas);
        Assert.Null(created.Status);                              // status is a subresource: cleared on create

        var patched = await Client.CustomObjects.PatchNamespacedCustomObjectAsync<CronTab>(
            new V1Patch("""{"spec":{"image":"other"}}""", V1Patch.PatchType.MergePatch), CronTabs.Group, "v1", ns, CronTabs.Plural, "nightly");
        Assert.Equal("other", patched.Spec!.Image);
        Assert.Equal(2, patched.Metadata.Generation);

        await Client.CustomObjects.PatchNamespacedCustomObjectStatusAsync<CronTab>(
            new V1Patch("""{"status":{"replicas":1,"labelSelector":"app=nightly"}}""", V1Patch.PatchType.MergePatch),
            CronTabs.Group, "v1", ns, CronTabs.Plural, "nightly");
        var scaled = await Client.CustomObjects.PatchNamespacedCustomObjectScaleAsync<V1Scale>(
            new V1Patch("""{"spec":{"replicas":3}}""", V1Patch.PatchType.MergePatch), CronTabs.Group, "v1", ns, CronTabs.Plural, "nightly");
        Assert.Equal(3, scaled.Spec.Replicas);
        Assert.Equal(1, scaled.Status.Replicas);
        Assert.Equal("app=nightly", scaled.Status.Selector);
        var read = await Client.CustomObjects.GetNamespacedCustomObjectAsync<CronTab>(CronTabs.Group, "v1", ns, CronTabs.Plural, "nightly");
        Assert.Equal(3, read.Spec!.Replicas);
        Assert.Equal(1, read.Status!.Replicas);

        var beta = await Client.CustomObjects.GetNamespacedCustomObjectAsync<CronTab>(CronTabs.Group, "v1beta1", ns, CronTabs.Plural, "nightly");
        Assert.Equal("stable.example.com/v1beta1", beta.ApiVersion);
    }

    private const string CustomResourceDefinitionFinalizer = "customresourcecleanup.apiextensions.k8s.io";

    [Fact]
    public async Task Invalid_objects_are_refused_and_nothing_is_stored()
    {
        var crd = await Client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(CronTabs.Definition("widgets", "Widget"));
        await CronTabs.EstablishedAsync(Client, crd.Metadata.Name);
        var ns = await NamespaceAsync();

        var tooMany = CronTabs.Object("big", replicas: 20);
        tooMany.Kind = "Widget";
        var rule = await Assert.ThrowsAsync<HttpOperationException>(() =>
            Client.CustomObjects.CreateNamespacedCustomObjectAsync<CronTab>(tooMany, CronTabs.Group, "v1", ns, "widgets"));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, rule.Response.StatusCode);
        Assert.Contains("Widget.stable.example.com \\\"big\\\" is invalid: spec: Invalid value: \\\"object\\\": replicas must not exceed maxReplicas",
            rule.Response.Content);

        var wrongType = await Assert.ThrowsAsync<HttpOperationException>(() => Client.CustomObjects.CreateNamespacedCustomObjectAsync<object>(
            new { apiVersion = "stable.example.com/v1", kind = "Widget", metadata = new { name = "typed" }, spec = new { cronSpec = 5 } },
            CronTabs.Group, "v1", ns, "widgets"));
        Assert.Contains("spec.cronSpec in body must be of type string", wrongType.Response.Content);

        var unknown = await Assert.ThrowsAsync<HttpOperationException>(() => Client.CustomObjects.CreateNamespacedCustomObjectAsync<object>(
            new { apiVersion = "stable.example.com/v1", kind = "Widget", metadata = new { name = "unknown" }, spec = new { cronSpec = "x", colour = "red" } },
            CronTabs.Group, "v1", ns, "widgets", fieldValidation: "Strict"));
        Assert.Equal(HttpStatusCode.BadRequest, unknown.Response.StatusCode);
        Assert.Contains("unknown field \\\"spec.colour\\\"", unknown.Response.Content);

        var list = await Client.CustomObjects.ListNamespacedCustomObjectAsync<CustomObjectList>(CronTabs.Group, "v1", ns, "widgets");
        Assert.Empty(list.Items);

        var strategic = await Assert.ThrowsAsync<HttpOperationException>(async () =>
        {
            await Client.CustomObjects.CreateNamespacedCustomObjectAsync<CronTab>(WidgetObject("ok"), CronTabs.Group, "v1", ns, "widgets");
            await Client.CustomObjects.PatchNamespacedCustomObjectAsync<CronTab>(
                new V1Patch("""{"spec":{"image":"x"}}""", V1Patch.PatchType.StrategicMergePatch), CronTabs.Group, "v1", ns, "widgets", "ok");
        });
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, strategic.Response.StatusCode);
    }

    private static CronTab WidgetObject(string name)
    {
        var widget = CronTabs.Object(name);
        widget.Kind = "Widget";
        return widget;
    }

    [Fact]
    public async Task A_watch_sees_custom_objects_change()
    {
        var crd = await Client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(CronTabs.Definition("gadgets", "Gadget"));
        await CronTabs.EstablishedAsync(Client, crd.Metadata.Name);
        var ns = await NamespaceAsync();
        var gadget = CronTabs.Object("g1");
        gadget.Kind = "Gadget";
        await Client.CustomObjects.CreateNamespacedCustomObjectAsync<CronTab>(gadget, CronTabs.Group, "v1", ns, "gadgets");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var events = new List<string>();
        var response = Client.CustomObjects.ListNamespacedCustomObjectWithHttpMessagesAsync<object>(
            CronTabs.Group, "v1", ns, "gadgets", watch: true, cancellationToken: cts.Token);
        await foreach (var (type, obj) in response.WatchAsync<CronTab, object>(cancellationToken: cts.Token))
        {
            events.Add($"{type} {obj.Metadata.Name} {obj.Spec?.Replicas}");
            if (events.Count == 1)
                await Client.CustomObjects.PatchNamespacedCustomObjectAsync<CronTab>(new V1Patch("""{"spec":{"replicas":2}}""", V1Patch.PatchType.MergePatch),
                    CronTabs.Group, "v1", ns, "gadgets", "g1", cancellationToken: cts.Token);
            if (events.Count == 2) break;
        }
        Assert.Equal(["Added g1 1", "Modified g1 2"], events);
    }

    [Fact]
    public async Task Tables_print_the_definitions_columns()
    {
        var crd = await Client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(CronTabs.Definition("timers", "Timer"));
        await CronTabs.EstablishedAsync(Client, crd.Metadata.Name);
        var ns = await NamespaceAsync();
        var timer = CronTabs.Object("t1", replicas: 2);
        timer.Kind = "Timer";
        await Client.CustomObjects.CreateNamespacedCustomObjectAsync<CronTab>(timer, CronTabs.Group, "v1", ns, "timers");

        var (_, table) = await fixture.Server.SendAsync(HttpMethod.Get, $"/apis/stable.example.com/v1/namespaces/{ns}/timers",
            accept: "application/json;as=Table;v=v1;g=meta.k8s.io");

        Assert.Equal(["Name", "Spec", "Replicas", "Age"], table!["columnDefinitions"]!.AsArray().Select(c => c!["name"]!.ToString()));
        var cells = table["rows"]![0]!["cells"]!.AsArray();
        Assert.Equal("t1", cells[0]!.ToString());
        Assert.Equal("* * * * */5", cells[1]!.ToString());
        Assert.Equal(2, cells[2]!.GetValue<long>());
    }

    [Fact]
    public async Task Deleting_the_definition_deletes_its_objects_and_stops_serving_it()
    {
        var crd = await Client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(CronTabs.Definition("clocks", "Clock"));
        await CronTabs.EstablishedAsync(Client, crd.Metadata.Name);
        var ns = await NamespaceAsync();
        foreach (var name in new[] { "c1", "c2" })
        {
            var clock = CronTabs.Object(name);
            clock.Kind = "Clock";
            await Client.CustomObjects.CreateNamespacedCustomObjectAsync<CronTab>(clock, CronTabs.Group, "v1", ns, "clocks");
        }

        await Client.ApiextensionsV1.DeleteCustomResourceDefinitionAsync(crd.Metadata.Name);

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while ((await fixture.Server.SendAsync(HttpMethod.Get, $"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{crd.Metadata.Name}")).Status
               != HttpStatusCode.NotFound)
            await Task.Delay(50, cts.Token);
        while ((await fixture.Server.SendAsync(HttpMethod.Get, $"/apis/stable.example.com/v1/namespaces/{ns}/clocks")).Status != HttpStatusCode.NotFound)
            await Task.Delay(50, cts.Token);
        // Served again under a new definition: the old objects did not survive.
        var again = await Client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(CronTabs.Definition("clocks", "Clock"));
        await CronTabs.EstablishedAsync(Client, again.Metadata.Name);
        var list = await Client.CustomObjects.ListNamespacedCustomObjectAsync<CustomObjectList>(CronTabs.Group, "v1", ns, "clocks");
        Assert.Empty(list.Items);
    }

    [Fact]
    public async Task A_non_structural_schema_is_refused_with_the_reasons()
    {
        var crd = CronTabs.Definition("badschemas", "BadSchema");
        crd.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"].Type = null;
        var e = await Assert.ThrowsAsync<HttpOperationException>(() => Client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(crd));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, e.Response.StatusCode);
        Assert.Contains("spec.versions[0].schema.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields",
            e.Response.Content);
    }

    /// <summary>The items of a custom object list, whatever they hold.</summary>
    public sealed class CustomObjectList
    {
        [JsonPropertyName("items")] public List<System.Text.Json.JsonElement> Items { get; set; } = [];
    }
}
