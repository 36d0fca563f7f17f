using System.Net;
using System.Text;
using Orchestrator.Master.Tests.Api;
using Xunit;

namespace Orchestrator.Master.Tests.Admission.Ingress;

/// <summary>Through the API: an Ingress with orchestrator.dev/ annotations the nodes do not read, or values they do not
/// take, is stored with a warning per annotation (kubectl prints them); good ones and other prefixes get none.</summary>
public sealed class IngressAnnotationWarningsTests : IAsyncLifetime
{
    private ApiTestServer _server = null!;

    public async Task InitializeAsync() => _server = await ApiTestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<(HttpStatusCode Status, string[] Warnings)> CreateIngress(string name, string annotations, string? paths = null)
    {
        var spec = paths is null
            ? "{\"defaultBackend\":{\"service\":{\"name\":\"web\",\"port\":{\"number\":80}}}}"
            : "{\"rules\":[{\"host\":\"x.test\",\"http\":{\"paths\":[" + paths + "]}}]}";
        var body = "{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"Ingress\",\"metadata\":{\"name\":\"" + name + "\",\"annotations\":{" + annotations +
            "}},\"spec\":" + spec + "}";
        using var request = new HttpRequestMessage(HttpMethod.Post, "/apis/networking.k8s.io/v1/namespaces/default/ingresses")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        using var response = await _server.Client.SendAsync(request);
        return (response.StatusCode, response.Headers.TryGetValues("Warning", out var values) ? values.ToArray() : []);
    }

    [Fact]
    public async Task Unknown_annotations_and_bad_values_of_ours_are_warned_about_and_the_ingress_is_stored()
    {
        var (status, warnings) = await CreateIngress("warned",
            "\"orchestrator.dev/canary-weight\":\"150\",\"orchestrator.dev/whitelist-source-range\":\"10.0.0.0/8\",\"orchestrator.dev/affinity\":\"cookie\"");
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal(2, warnings.Length);
        Assert.Equal("299 - \"metadata.annotations[orchestrator.dev/canary-weight]: annotation orchestrator.dev/canary-weight: '150' is not a valid value; " +
            "the orchestrator ingress ignores it\"", warnings[0]);
        Assert.StartsWith("299 - \"metadata.annotations[orchestrator.dev/whitelist-source-range]: annotation orchestrator.dev/whitelist-source-range is not supported (supported: orchestrator.dev/rewrite-target, ",
            warnings[1]);
    }

    [Fact]
    public async Task Good_annotations_and_other_controllers_ones_get_no_warning()
    {
        var (status, warnings) = await CreateIngress("quiet",
            "\"orchestrator.dev/rewrite-target\":\"/\",\"nginx.ingress.kubernetes.io/whatever\":\"x\"");
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Empty(warnings);
    }

    [Fact]
    public async Task A_regex_path_that_does_not_compile_is_warned_about_when_the_ingress_uses_regexes()
    {
        const string paths = "{\"path\":\"/ok/.*\",\"pathType\":\"ImplementationSpecific\",\"backend\":{\"service\":{\"name\":\"web\",\"port\":{\"number\":80}}}}," +
            "{\"path\":\"/bad(\",\"pathType\":\"ImplementationSpecific\",\"backend\":{\"service\":{\"name\":\"web\",\"port\":{\"number\":80}}}}";
        var (status, warnings) = await CreateIngress("regex", "\"orchestrator.dev/use-regex\":\"true\"", paths);
        Assert.Equal(HttpStatusCode.Created, status);
        var warning = Assert.Single(warnings);
        Assert.StartsWith("299 - \"spec.rules[0].http.paths[1].path: path '/bad(' is not a valid regular expression: ", warning);

        // without use-regex the same path is a plain prefix: no warning
        (status, warnings) = await CreateIngress("plain", "\"orchestrator.dev/ssl-redirect\":\"false\"", paths);
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Empty(warnings);
    }
}
