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

    [Fact]
    public async Task A_running_pod_is_evicted_only_while_its_disruption_budget_allows_and_the_budget_records_it()
    {
        Assert.Equal(HttpStatusCode.Created, (await _server.SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/pods",
            """{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"i"}]}}""")).Status);
        Assert.Equal(HttpStatusCode.OK, (await _server.SendAsync(HttpMethod.Put, "/api/v1/namespaces/default/pods/p/status",
            """{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"i"}]},"status":{"phase":"Running"}}""")).Status);
        Assert.Equal(HttpStatusCode.Created, (await _server.SendAsync(HttpMethod.Post, "/apis/policy/v1/namespaces/default/poddisruptionbudgets",
            """{"apiVersion":"policy/v1","kind":"PodDisruptionBudget","metadata":{"name":"web"},"spec":{"minAvailable":1,"selector":{"matchLabels":{"app":"web"}}}}""")).Status);
        const string budgetPath = "/apis/policy/v1/namespaces/default/poddisruptionbudgets/web";
        async Task SetBudget(int allowed, int healthy)
        {
            var (_, pdb) = await _server.SendAsync(HttpMethod.Get, budgetPath);
            pdb!["status"] = JsonNode.Parse($$"""{"observedGeneration":1,"disruptionsAllowed":{{allowed}},"currentHealthy":{{healthy}},"desiredHealthy":1,"expectedPods":{{healthy}}}""");
            Assert.Equal(HttpStatusCode.OK, (await _server.SendAsync(HttpMethod.Put, budgetPath + "/status", pdb.ToJsonString())).Status);
        }

        await SetBudget(0, 1);
        var (refused, status) = await _server.SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/pods/p/eviction", Eviction);
        Assert.Equal((HttpStatusCode)429, refused);
        Assert.Equal(("TooManyRequests", "Cannot evict pod as it would violate the pod's disruption budget."), (status!["reason"]!.ToString(), status["message"]!.ToString()));
        var cause = status["details"]!["causes"]![0]!;
        Assert.Equal(("DisruptionBudget", "The disruption budget web needs 1 healthy pods and has 1 currently"), (cause["reason"]!.ToString(), cause["message"]!.ToString()));
        Assert.Equal(HttpStatusCode.OK, (await _server.SendAsync(HttpMethod.Get, "/api/v1/namespaces/default/pods/p")).Status);

        await SetBudget(1, 2);
        Assert.Equal(HttpStatusCode.Created, (await _server.SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/pods/p/eviction", Eviction)).Status);
        var (_, after) = await _server.SendAsync(HttpMethod.Get, budgetPath);
        Assert.Equal(0, after!["status"]!["disruptionsAllowed"]!.GetValue<int>());
        Assert.NotNull(after["status"]!["disruptedPods"]!["p"]);
    }
}
