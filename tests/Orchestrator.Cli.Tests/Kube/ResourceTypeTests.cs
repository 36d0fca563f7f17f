using Orchestrator.Cli.Commands;
using Orchestrator.Cli.Kube;
using Orchestrator.Cli.Parsing;
using Xunit;

namespace Orchestrator.Cli.Tests.Kube;

public sealed class ResourceTypeTests
{
    [Theory]
    [InlineData("svc", "services", "/api/v1/namespaces/default/services")]
    [InlineData("deploy", "deployments", "/apis/apps/v1/namespaces/default/deployments")]
    [InlineData("deployment.apps", "deployments", "/apis/apps/v1/namespaces/default/deployments")]
    [InlineData("rc", "replicationcontrollers", "/api/v1/namespaces/default/replicationcontrollers")]
    [InlineData("Node", "nodes", "/api/v1/nodes")]
    [InlineData("ep", "endpoints", "/api/v1/namespaces/default/endpoints")]
    public void Short_names_plurals_and_kinds_resolve_to_their_rest_paths(string typed, string plural, string path)
    {
        var type = ResourceType.Resolve(typed);
        Assert.Equal(plural, type.Plural);
        Assert.Equal(path, type.CollectionPath("default"));
    }

    [Fact]
    public void An_unknown_type_is_the_servers_wording() =>
        Assert.Equal("error: the server doesn't have a resource type \"frobs\"",
            Assert.Throws<CliException>(() => ResourceType.Resolve("frobs")).Message);

    [Fact]
    public void Get_accepts_type_lists_names_and_type_slash_name()
    {
        Assert.Equal(["deployments", "services"], GetCommand.Requests(["deploy,svc"]).Select(r => r.Type.Plural));
        Assert.Equal([("pods", "a"), ("pods", "b")], GetCommand.Requests(["po", "a", "b"]).Select(r => (r.Type.Plural, r.Name!)));
        Assert.Equal([("deployments", "web"), ("services", "web")], GetCommand.Requests(["deployment/web", "svc/web"]).Select(r => (r.Type.Plural, r.Name!)));
        Assert.Throws<UsageException>(() => GetCommand.Requests(["deploy,svc", "web"]));
    }

    [Fact]
    public void Server_errors_read_like_kubectls()
    {
        var body = """{"kind":"Status","apiVersion":"v1","status":"Failure","message":"deployments.apps \"x\" not found","reason":"NotFound","code":404}""";
        Assert.Equal("Error from server (NotFound): deployments.apps \"x\" not found", ApiConnection.ErrorFromServer(404, body));
    }
}
