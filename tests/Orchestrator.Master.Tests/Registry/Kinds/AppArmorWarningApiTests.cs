using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Orchestrator.Master.Tests.Api;
using Xunit;

namespace Orchestrator.Master.Tests.Registry.Kinds;

/// <summary>A new pod's deprecated AppArmor annotation through the API, as kube-apiserver 1.32's pod strategy treats it:
/// warned of as sent (the Warning header), then synced to the container's appArmorProfile field that is stored.</summary>
public sealed class AppArmorWarningApiTests : IAsyncLifetime
{
    private const string Key = "container.apparmor.security.beta.kubernetes.io/";
    private ApiTestServer _server = null!;

    public async Task InitializeAsync() => _server = await ApiTestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<(HttpStatusCode Status, JsonNode? Body, string[] Warnings)> CreateAsync(string annotations, string securityContext = "")
    {
        var body = "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"generateName\":\"hello-\",\"annotations\":{" + annotations +
                   "}},\"spec\":{" + securityContext + "\"containers\":[{\"name\":\"hello\",\"image\":\"busybox\"}]}}";
        using var response = await _server.Client.PostAsync("/api/v1/namespaces/default/pods", new StringContent(body, Encoding.UTF8, "application/json"));
        var warnings = response.Headers.TryGetValues("Warning", out var values) ? values.ToArray() : [];
        return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync()), warnings);
    }

    private const string Deprecated =
        "299 - \"metadata.annotations[container.apparmor.security.beta.kubernetes.io/hello]: deprecated since v1.30; use the \\\"appArmorProfile\\\" field instead\"";

    [Fact]
    public async Task An_annotation_is_warned_of_and_becomes_the_containers_profile()
    {
        var (status, pod, warnings) = await CreateAsync($"\"{Key}hello\":\"localhost/k8s-apparmor-example-deny-write\"");

        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal([Deprecated], warnings);
        var profile = pod!["spec"]!["containers"]![0]!["securityContext"]!["appArmorProfile"]!;
        Assert.Equal("Localhost", (string?)profile["type"]);
        Assert.Equal("k8s-apparmor-example-deny-write", (string?)profile["localhostProfile"]);
    }

    [Fact]
    public async Task An_invalid_annotation_is_warned_of_and_not_synced_and_one_like_the_pods_profile_is_neither()
    {
        var (status, pod, warnings) = await CreateAsync($"\"{Key}hello\":\"localhost/\"");
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal([Deprecated], warnings);
        Assert.Null(pod!["spec"]!["containers"]![0]!["securityContext"]);

        (status, pod, warnings) = await CreateAsync($"\"{Key}hello\":\"runtime/default\"",
            "\"securityContext\":{\"appArmorProfile\":{\"type\":\"RuntimeDefault\"}},");
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Empty(warnings);
        Assert.Null(pod!["spec"]!["containers"]![0]!["securityContext"]);
    }
}
