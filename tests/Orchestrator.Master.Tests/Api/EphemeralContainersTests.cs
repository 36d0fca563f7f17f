using System.Net;
using Xunit;

namespace Orchestrator.Master.Tests.Api;

/// <summary>pods/{name}/ephemeralcontainers as kubectl debug uses it (a strategic merge patch), with the API server's rules.</summary>
public sealed class EphemeralContainersTests : IAsyncLifetime
{
    private ApiTestServer _server = null!;
    private const string PodPath = "/api/v1/namespaces/default/pods/p";
    private const string Strategic = "application/strategic-merge-patch+json";

    public async Task InitializeAsync()
    {
        _server = await ApiTestServer.StartAsync();
        Assert.Equal(HttpStatusCode.Created, (await _server.SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/pods",
            """{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"app","image":"i"}]}}""")).Status);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private Task<(HttpStatusCode Status, System.Text.Json.Nodes.JsonNode? Body)> Patch(string ephemeral) =>
        _server.SendAsync(HttpMethod.Patch, PodPath + "/ephemeralcontainers", "{\"spec\":{\"ephemeralContainers\":[" + ephemeral + "]}}", Strategic);

    private static string Causes(System.Text.Json.Nodes.JsonNode? status) =>
        string.Join("; ", status!["details"]!["causes"]!.AsArray().Select(c => $"{c!["field"]}: {c["message"]}"));

    [Fact]
    public async Task A_patch_adds_a_defaulted_ephemeral_container_and_get_shows_it()
    {
        var (status, pod) = await Patch("""{"name":"debugger","image":"busybox","targetContainerName":"app","stdin":true,"tty":true}""");

        Assert.Equal(HttpStatusCode.OK, status);
        var added = pod!["spec"]!["ephemeralContainers"]![0]!;
        Assert.Equal(("debugger", "Always", "File"), (added["name"]!.ToString(), added["imagePullPolicy"]!.ToString(), added["terminationMessagePolicy"]!.ToString()));
        var (_, read) = await _server.SendAsync(HttpMethod.Get, PodPath + "/ephemeralcontainers");
        Assert.Equal("app", read!["spec"]!["ephemeralContainers"]![0]!["targetContainerName"]!.ToString());

        // a second debugger is merged in by name beside the first
        Assert.Equal(HttpStatusCode.OK, (await Patch("""{"name":"second","image":"busybox:1.36"}""")).Status);
        var (_, both) = await _server.SendAsync(HttpMethod.Get, PodPath);
        Assert.Equal(2, both!["spec"]!["ephemeralContainers"]!.AsArray().Count);
    }

    [Fact]
    public async Task Ports_probes_resources_a_duplicate_name_and_an_unknown_target_are_refused()
    {
        var (status, body) = await Patch("""
            {"name":"app","image":"busybox","targetContainerName":"nope","ports":[{"containerPort":80}],
             "readinessProbe":{"exec":{"command":["true"]}},"resources":{"limits":{"cpu":"1"}}}
            """);

        Assert.Equal((HttpStatusCode)422, status);
        var causes = Causes(body);
        Assert.Contains("spec.ephemeralContainers[0].name: Duplicate value: \"app\"", causes);
        Assert.Contains("spec.ephemeralContainers[0].ports: Forbidden: cannot be set for an Ephemeral Container", causes);
        Assert.Contains("spec.ephemeralContainers[0].readinessProbe: Forbidden: cannot be set for an Ephemeral Container", causes);
        Assert.Contains("spec.ephemeralContainers[0].resources: Forbidden: cannot be set for an Ephemeral Container", causes);
        Assert.Contains("spec.ephemeralContainers[0].targetContainerName: Not found: \"nope\"", causes);
    }

    [Fact]
    public async Task An_existing_ephemeral_container_is_neither_changed_nor_removed()
    {
        Assert.Equal(HttpStatusCode.OK, (await Patch("""{"name":"debugger","image":"busybox"}""")).Status);

        var (changed, body) = await Patch("""{"name":"debugger","image":"busybox:1.36"}""");
        Assert.Equal((HttpStatusCode)422, changed);
        Assert.Contains("existing ephemeral containers \"debugger\" may not be changed", Causes(body));

        var (_, pod) = await _server.SendAsync(HttpMethod.Get, PodPath);
        pod!["spec"]!["ephemeralContainers"] = new System.Text.Json.Nodes.JsonArray();
        var (removed, removal) = await _server.SendAsync(HttpMethod.Put, PodPath + "/ephemeralcontainers", pod.ToJsonString());
        Assert.Equal((HttpStatusCode)422, removed);
        Assert.Contains("existing ephemeral containers \"debugger\" may not be removed", Causes(removal));
    }

    [Fact]
    public async Task Ephemeral_containers_are_refused_on_create_and_through_the_pod_itself()
    {
        var (created, body) = await _server.SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/pods",
            """{"apiVersion":"v1","kind":"Pod","metadata":{"name":"q"},"spec":{"containers":[{"name":"app","image":"i"}],"ephemeralContainers":[{"name":"d","image":"busybox"}]}}""");
        Assert.Equal((HttpStatusCode)422, created);
        Assert.Contains("spec.ephemeralContainers: Forbidden: cannot be set on create", Causes(body));

        var (patched, _) = await _server.SendAsync(HttpMethod.Patch, PodPath, """{"spec":{"ephemeralContainers":[{"name":"d","image":"busybox"}]}}""", Strategic);
        Assert.Equal((HttpStatusCode)422, patched);
    }
}
