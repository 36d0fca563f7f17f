using System.Net;
using System.Text;
using Orchestrator.Master.Tests.Api;
using Xunit;

namespace Orchestrator.Master.Tests.Admission.PodSecurity;

/// <summary>The PodSecurity admission through the API: enforce refuses pods, warn answers with Warning headers, workloads
/// are only warned about, namespaces' labels are validated and a stricter enforce level warns about existing pods.</summary>
public sealed class PodSecurityAdmissionTests : IAsyncLifetime
{
    private ApiTestServer _server = null!;

    public async Task InitializeAsync() => _server = await ApiTestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private const string RootPod = """
        {"apiVersion":"v1","kind":"Pod","metadata":{"name":"NAME"},"spec":{"containers":[{"name":"c","image":"i","securityContext":{"privileged":true}}],
         "volumes":[{"name":"host","hostPath":{"path":"/"}}]}}
        """;

    private const string CompliantPod = """
        {"apiVersion":"v1","kind":"Pod","metadata":{"name":"NAME"},"spec":{"securityContext":{"runAsNonRoot":true,"runAsUser":1000,
         "seccompProfile":{"type":"RuntimeDefault"}},"containers":[{"name":"c","image":"i","securityContext":{"allowPrivilegeEscalation":false,
         "capabilities":{"drop":["ALL"]}}}]}}
        """;

    private async Task<(HttpStatusCode Status, string Body, string[] Warnings)> SendAsync(HttpMethod method, string path, string body,
        string contentType = "application/json")
    {
        using var request = new HttpRequestMessage(method, path) { Content = new StringContent(body, Encoding.UTF8) };
        request.Content.Headers.ContentType = new(contentType);
        using var response = await _server.Client.SendAsync(request);
        var warnings = response.Headers.TryGetValues("Warning", out var values) ? values.ToArray() : [];
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), warnings);
    }

    private async Task NamespaceAsync(string name, string labels)
    {
        var (status, body, _) = await SendAsync(HttpMethod.Post, "/api/v1/namespaces",
            "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"" + name + "\",\"labels\":{" + labels + "}}}");
        Assert.True(status == HttpStatusCode.Created, body);
    }

    [Fact]
    public async Task A_restricted_namespace_refuses_a_privileged_pod_with_kubes_message_and_accepts_a_compliant_one()
    {
        await NamespaceAsync("strict", "\"pod-security.kubernetes.io/enforce\":\"restricted\"");

        var (status, body, _) = await SendAsync(HttpMethod.Post, "/api/v1/namespaces/strict/pods", RootPod.Replace("NAME", "bad"));

        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Contains(
            "pods \\\"bad\\\" is forbidden: violates PodSecurity \\\"restricted:latest\\\": privileged (container \\\"c\\\" must not set " +
            "securityContext.privileged=true), allowPrivilegeEscalation != false", body);
        Assert.Contains("restricted volume types (volume \\\"host\\\" uses restricted volume type \\\"hostPath\\\")", body);
        Assert.Contains("\"reason\":\"Forbidden\"", body);
        var (ok, okBody, warnings) = await SendAsync(HttpMethod.Post, "/api/v1/namespaces/strict/pods", CompliantPod.Replace("NAME", "good"));
        Assert.True(ok == HttpStatusCode.Created, okBody);
        Assert.Empty(warnings);
    }

    [Fact]
    public async Task A_default_namespace_admits_anything()
    {
        var (status, body, warnings) = await SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/pods", RootPod.Replace("NAME", "root"));
        Assert.True(status == HttpStatusCode.Created, body);
        Assert.Empty(warnings);
    }

    [Fact]
    public async Task Warn_gives_a_warning_header_on_pods_and_on_deployments_which_enforce_never_refuses()
    {
        await NamespaceAsync("warned", "\"pod-security.kubernetes.io/warn\":\"baseline\",\"pod-security.kubernetes.io/enforce\":\"baseline\"");

        var (status, body, warnings) = await SendAsync(HttpMethod.Post, "/apis/apps/v1/namespaces/warned/deployments", """
            {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"selector":{"matchLabels":{"a":"b"}},
             "template":{"metadata":{"labels":{"a":"b"}},"spec":{"hostNetwork":true,"containers":[{"name":"c","image":"i"}]}}}}
            """);

        Assert.True(status == HttpStatusCode.Created, body);
        Assert.Equal(["299 - \"would violate PodSecurity \\\"baseline:latest\\\": host namespaces (hostNetwork=true)\""], warnings);
    }

    [Fact]
    public async Task Bad_label_values_are_refused_as_invalid()
    {
        var (status, body, _) = await SendAsync(HttpMethod.Post, "/api/v1/namespaces",
            """{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"typo","labels":{"pod-security.kubernetes.io/enforce":"strict"}}}""");

        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        Assert.Contains("Namespace \\\"typo\\\" is invalid: metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: " +
                        "\\\"strict\\\": must be one of privileged, baseline, restricted", body);
    }

    [Fact]
    public async Task A_stricter_enforce_level_warns_about_existing_pods()
    {
        await NamespaceAsync("tighten", "\"x\":\"y\"");
        foreach (var name in new[] { "b", "a" })
            Assert.Equal(HttpStatusCode.Created,
                (await SendAsync(HttpMethod.Post, "/api/v1/namespaces/tighten/pods", RootPod.Replace("NAME", name))).Status);

        var (status, body, warnings) = await SendAsync(new HttpMethod("PATCH"), "/api/v1/namespaces/tighten",
            """{"metadata":{"labels":{"pod-security.kubernetes.io/enforce":"baseline"}}}""", "application/merge-patch+json");

        Assert.True(status == HttpStatusCode.OK, body);
        Assert.Equal(
        [
            "299 - \"existing pods in namespace \\\"tighten\\\" violate the new PodSecurity enforce level \\\"baseline:latest\\\"\"",
            "299 - \"a (and 1 other pod): hostPath volumes, privileged\"",
        ], warnings);
    }

    [Fact]
    public async Task Updates_that_change_no_image_are_not_evaluated_again()
    {
        await NamespaceAsync("later", "\"x\":\"y\"");
        Assert.Equal(HttpStatusCode.Created,
            (await SendAsync(HttpMethod.Post, "/api/v1/namespaces/later/pods", RootPod.Replace("NAME", "p"))).Status);
        await SendAsync(new HttpMethod("PATCH"), "/api/v1/namespaces/later",
            """{"metadata":{"labels":{"pod-security.kubernetes.io/enforce":"baseline"}}}""", "application/merge-patch+json");

        var (labelled, _, _) = await SendAsync(new HttpMethod("PATCH"), "/api/v1/namespaces/later/pods/p",
            """{"metadata":{"labels":{"k":"v"}}}""", "application/merge-patch+json");
        var (newImage, body, _) = await SendAsync(new HttpMethod("PATCH"), "/api/v1/namespaces/later/pods/p",
            """{"spec":{"containers":[{"name":"c","image":"j"}]}}""", "application/strategic-merge-patch+json");

        Assert.Equal(HttpStatusCode.OK, labelled);
        Assert.Equal(HttpStatusCode.Forbidden, newImage);
        Assert.Contains("violates PodSecurity \\\"baseline:latest\\\"", body);
    }
}
