using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Xunit;

namespace Orchestrator.Master.Tests.Api;

/// <summary>pods/{name}/eviction as kubectl drain uses it.</summary>
public sealed class EvictionTests : IAsyncLifetime
{
    private ApiTestServer _server = null!;

    public async Task InitializeAsync() => _server = await ApiTestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private const string Eviction =
        """{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"p","namespace":"default"}}""";

    [Fact]
    public async Task Discovery_lists_pods_eviction_as_policy_v1_Eviction()
    {
        var (_, body) = await _server.SendAsync(HttpMethod.Get, "/api/v1");
        var eviction = body!["resources"]!.AsArray().Single(r => r!["name"]!.ToString() == "pods/eviction")!;
        Assert.Equal(("policy", "v1", "Eviction"), (eviction["group"]!.ToString(), eviction["version"]!.ToString(), eviction["kind"]!.ToString()));
    }

    [Fact]
    public async Task Evicting_a_pod_deletes_it_and_a_missing_pod_is_not_found()
    {
        var (created, _) = await _server.SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/pods",
            """{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"i"}]}}""");
        Assert.Equal(HttpStatusCode.Created, created);

        var (status, body) = await _server.SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/pods/p/eviction", Eviction);

        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("Success", body!["status"]!.ToString());
        Assert.Equal(HttpStatusCode.NotFound, (await _server.SendAsync(HttpMethod.Get, "/api/v1/namespaces/default/pods/p")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _server.SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/pods/p/eviction", Eviction)).Status);
    }
}
