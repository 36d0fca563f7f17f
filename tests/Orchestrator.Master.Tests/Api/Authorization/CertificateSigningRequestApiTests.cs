using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Orchestrator.Master.Tests.Registry.Kinds;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Authorization;

/// <summary>CertificateSigningRequests through the API: the requestor is the authenticated user whatever the body says;
/// /approval needs "approve" on the signer (by name or domain/*) besides update on the subresource; the
/// kube-apiserver-client signer may not be asked for system:masters; bad requests are 422.</summary>
public sealed class CertificateSigningRequestApiTests : IAsyncLifetime
{
    private const string Path = "/apis/certificates.k8s.io/v1/certificatesigningrequests";
    private ApiTestServer _server = null!;

    public async Task InitializeAsync() => _server = await ApiTestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static string Body(string name, string subject = "CN=jane, O=devs", string signer = "example.com/signer") =>
        new JsonObject
        {
            ["apiVersion"] = "certificates.k8s.io/v1", ["kind"] = "CertificateSigningRequest",
            ["metadata"] = new JsonObject { ["name"] = name },
            ["spec"] = new JsonObject
            {
                ["request"] = Convert.ToBase64String(CertificateSigningRequestStrategyTests.RequestPem(subject)),
                ["signerName"] = signer, ["usages"] = new JsonArray("client auth"), ["username"] = "mallory",
                ["groups"] = new JsonArray("system:masters"),
            },
        }.ToJsonString();

    private async Task<(HttpStatusCode Status, JsonNode? Body)> AsJane(HttpMethod method, string path, string? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        request.Headers.Add("Impersonate-User", "jane");
        using var response = await _server.Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.StartsWith('{') ? JsonNode.Parse(text) : null);
    }

    private async Task<JsonNode> Created(string body)
    {
        var (status, answer) = await _server.SendAsync(HttpMethod.Post, Path, body);
        Assert.True(status == HttpStatusCode.Created, $"{status} {answer}");
        return answer!;
    }

    private static string Approval(JsonNode csr)
    {
        var copy = csr.DeepClone();
        copy["status"] = new JsonObject
        {
            ["conditions"] = new JsonArray(new JsonObject { ["type"] = "Approved", ["status"] = "True", ["reason"] = "KubectlApprove" }),
        };
        return copy.ToJsonString();
    }

    [Fact]
    public async Task The_requestor_is_the_authenticated_user_not_the_body()
    {
        var created = await Created(Body("who"));

        Assert.Equal("admin", created["spec"]!["username"]!.GetValue<string>());
        Assert.Equal(["system:masters", "system:authenticated"], created["spec"]!["groups"]!.AsArray().Select(g => g!.GetValue<string>()));
    }

    [Fact]
    public async Task Approving_needs_the_approve_verb_on_the_signer()
    {
        var csr = await Created(Body("needs-approver"));
        await _server.SendAsync(HttpMethod.Post, "/apis/rbac.authorization.k8s.io/v1/clusterroles", """
            {"metadata":{"name":"csr-approval"},"rules":[{"apiGroups":["certificates.k8s.io"],
             "resources":["certificatesigningrequests","certificatesigningrequests/approval"],"verbs":["get","update"]}]}
            """);
        await _server.SendAsync(HttpMethod.Post, "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", """
            {"metadata":{"name":"csr-approval"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"csr-approval"},
             "subjects":[{"kind":"User","name":"jane","apiGroup":"rbac.authorization.k8s.io"}]}
            """);

        // until the authorizer's cache has the binding, RBAC itself refuses the update of /approval
        var refused = await Eventually(() => AsJane(HttpMethod.Put, $"{Path}/needs-approver/approval", Approval(csr)),
            a => a.Body?["message"]?.GetValue<string>().Contains("user not permitted") == true);
        Assert.Equal(HttpStatusCode.Forbidden, refused.Status);
        Assert.Equal("certificatesigningrequests.certificates.k8s.io \"needs-approver\" is forbidden: user not permitted to approve requests with signerName \"example.com/signer\"",
            refused.Body!["message"]!.GetValue<string>());

        await _server.SendAsync(HttpMethod.Post, "/apis/rbac.authorization.k8s.io/v1/clusterroles", """
            {"metadata":{"name":"signer-approver"},"rules":[{"apiGroups":["certificates.k8s.io"],"resources":["signers"],
             "resourceNames":["example.com/*"],"verbs":["approve"]}]}
            """);
        await _server.SendAsync(HttpMethod.Post, "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", """
            {"metadata":{"name":"signer-approver"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"signer-approver"},
             "subjects":[{"kind":"User","name":"jane","apiGroup":"rbac.authorization.k8s.io"}]}
            """);
        var approved = await Eventually(() => AsJane(HttpMethod.Put, $"{Path}/needs-approver/approval", Approval(csr)),
            a => a.Status == HttpStatusCode.OK);
        Assert.True(approved.Status == HttpStatusCode.OK, approved.Body?.ToJsonString());
        Assert.Equal("Approved", approved.Body!["status"]!["conditions"]![0]!["type"]!.GetValue<string>());
        Assert.Equal("admin", approved.Body["spec"]!["username"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_status_write_needs_the_sign_verb_on_the_signer()
    {
        var csr = await Created(Body("needs-signer"));
        var (status, body) = await AsJane(HttpMethod.Put, $"{Path}/needs-signer/status", csr.ToJsonString());
        Assert.Equal(HttpStatusCode.Forbidden, status);
        // jane lacks update on the subresource itself, so RBAC refuses first; with it, the signer check would
        Assert.Contains("cannot update resource \"certificatesigningrequests/status\"", body!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_kube_apiserver_client_signer_may_not_be_asked_for_system_masters()
    {
        var (status, body) = await _server.SendAsync(HttpMethod.Post, Path,
            Body("root", "CN=root, O=system:masters", "kubernetes.io/kube-apiserver-client"));

        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("certificatesigningrequests.certificates.k8s.io \"root\" is forbidden: use of kubernetes.io/kube-apiserver-client signer with system:masters group is not allowed",
            body!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Approved_and_denied_together_are_refused_with_422()
    {
        var csr = await Created(Body("both"));
        var copy = csr.DeepClone();
        copy["status"] = new JsonObject
        {
            ["conditions"] = new JsonArray(new JsonObject { ["type"] = "Approved", ["status"] = "True" },
                new JsonObject { ["type"] = "Denied", ["status"] = "True" }),
        };

        var (status, body) = await _server.SendAsync(HttpMethod.Put, $"{Path}/both/approval", copy.ToJsonString());

        Assert.Equal((HttpStatusCode)422, status);
        Assert.Contains("Approved and Denied conditions are mutually exclusive", body!["message"]!.GetValue<string>());
    }

    private static async Task<(HttpStatusCode Status, JsonNode? Body)> Eventually(Func<Task<(HttpStatusCode Status, JsonNode? Body)>> send,
        Func<(HttpStatusCode Status, JsonNode? Body), bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var answer = await send();
            if (done(answer) || DateTime.UtcNow > deadline) return answer;
            await Task.Delay(50);
        }
    }
}
