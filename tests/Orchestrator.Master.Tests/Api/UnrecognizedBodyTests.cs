using Xunit;

namespace Orchestrator.Master.Tests.Api;

/// <summary>A body the server cannot read a kind from is refused as kube-apiserver refuses it.</summary>
public sealed class UnrecognizedBodyTests : IAsyncLifetime
{
    private ApiTestServer _server = null!;

    public async Task InitializeAsync() => _server = await ApiTestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task A_body_that_is_not_json_is_an_object_of_unknown_kind()
    {
        // kubectl create --raw /api/v1/namespaces -f valid-pod.yaml posts the YAML file as it is (test-cmd's
        // run_kubectl_create_error_tests): kube-apiserver cannot read a kind from it.
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/namespaces")
        {
            Content = new StringContent("apiVersion: v1\nkind: Pod\nmetadata:\n  name: valid-pod\n", System.Text.Encoding.UTF8, "application/json"),
        };
        using var response = await _server.Client.SendAsync(request);
        var status = System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("the object provided is unrecognized (must be of type Namespace): couldn't get version/kind; " +
                     "json parse error: invalid character 'a' looking for beginning of value " +
                     "(61706956657273696f6e3a2076310a6b696e643a20506f640a6d65746164 ...)", status["message"]!.ToString());
    }
}
