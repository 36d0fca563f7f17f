using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Orchestrator.Shared.Protocol;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Authorization;

/// <summary>A node's client certificate (issued at registration by the cluster CA, as kube's
/// kube-apiserver-client-kubelet signer issues a kubelet's) is an API credential through the real HTTPS listener: the
/// user system:node:NAME in system:nodes, which the Node authorizer and NodeRestriction confine as Kubernetes does.
/// Certificates of the kubelet CA (serving certificates, the master's kubelet client) are no API user at all.</summary>
public sealed class NodeCertificateApiTests : IAsyncLifetime
{
    private ApiTestServer _server = null!;
    private NodeClientCertificateAuthority _nodeCa = null!;

    public async Task InitializeAsync()
    {
        _server = await ApiTestServer.StartAsync(https: true);
        _nodeCa = new NodeClientCertificateAuthority(X509Certificate2.CreateFromPemFile(
            Path.Combine(_server.DataDirectory, "ca.crt"), Path.Combine(_server.DataDirectory, "ca.key")));
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    /// <summary>What a node holds in its pki directory, as an HTTP client: its key and the certificate issued for it.</summary>
    private HttpClient Client(string certificatePem, ECDsa key) => new(new HttpClientHandler
    {
        ServerCertificateCustomValidationCallback = (_, _, _, _) => true,
        ClientCertificates = { WithKey(certificatePem, key) },
        ClientCertificateOptions = ClientCertificateOption.Manual,
    }) { BaseAddress = _server.Address };

    private HttpClient NodeClient(string nodeName, ECDsa key) => Client(_nodeCa.Issue(NodeCredentials.SigningRequest(key, nodeName), nodeName), key);

    private static X509Certificate2 WithKey(string certificatePem, ECDsa key)
    {
        using var certificate = X509Certificate2.CreateFromPem(certificatePem);
        using var withKey = certificate.CopyWithPrivateKey(key);
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }

    private static async Task<(HttpStatusCode Status, JsonNode? Body)> SendAsync(HttpClient client, HttpMethod method, string path,
        string? body = null, string contentType = "application/json")
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, contentType);
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.TrimStart().StartsWith('{') ? JsonNode.Parse(text) : null);
    }

    private async Task AdminCreateAsync(string path, string body)
    {
        var (status, answer) = await _server.SendAsync(HttpMethod.Post, path, body);
        Assert.True(status == HttpStatusCode.Created, $"{path}: {status} {answer}");
    }

    private static string Message(JsonNode? body) => body!["message"]!.GetValue<string>();

    [Fact]
    public async Task A_node_certificate_authenticates_as_system_node_NAME_in_system_nodes()
    {
        // as the bootstrap system:basic-user role allows every user (this test server runs no RBAC bootstrap)
        await AdminCreateAsync("/apis/rbac.authorization.k8s.io/v1/clusterroles", """
            {"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"whoami"},
             "rules":[{"apiGroups":["authentication.k8s.io"],"resources":["selfsubjectreviews"],"verbs":["create"]}]}
            """);
        await AdminCreateAsync("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", """
            {"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding","metadata":{"name":"whoami"},
             "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"whoami"},
             "subjects":[{"apiGroup":"rbac.authorization.k8s.io","kind":"Group","name":"system:authenticated"}]}
            """);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var node = NodeClient("node1", key);

        var (status, body) = (HttpStatusCode.Forbidden, (JsonNode?)null);
        for (var deadline = DateTime.UtcNow.AddSeconds(20); status == HttpStatusCode.Forbidden && DateTime.UtcNow < deadline; await Task.Delay(50))
            (status, body) = await SendAsync(node, HttpMethod.Post, "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                """{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}""");

        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("system:node:node1", body!["status"]!["userInfo"]!["username"]!.GetValue<string>());
        Assert.Equal(["system:nodes", "system:authenticated"],
            body["status"]!["userInfo"]!["groups"]!.AsArray().Select(g => g!.GetValue<string>()));
    }

    [Fact]
    public async Task The_nodes_signing_request_decides_neither_its_user_nor_its_groups()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var asked = new CertificateRequest("CN=kubernetes-admin, O=system:masters", key, HashAlgorithmName.SHA256).CreateSigningRequestPem();
        var issued = _nodeCa.Issue(asked, "node1");
        using var certificate = X509Certificate2.CreateFromPem(issued);
        Assert.Equal("CN=system:node:node1, O=system:nodes", certificate.Subject);

        using var node = Client(issued, key);
        var (status, body) = await SendAsync(node, HttpMethod.Get, "/api/v1/namespaces/default/secrets");
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.StartsWith("secrets is forbidden: User \"system:node:node1\" cannot list resource \"secrets\" in API group \"\" in the namespace \"default\"",
            Message(body));
    }

    [Fact]
    public async Task Certificates_of_the_kubelet_CA_are_no_API_user()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        // a node certificate of the kubelet CA (as nodes held before their certificates were the cluster CA's)
        var formerCa = new NodeClientCertificateAuthority(KubeletCertificateAuthority.CreateCertificate());
        using var former = Client(formerCa.Issue(NodeCredentials.SigningRequest(key, "node1"), "node1"), key);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(former, HttpMethod.Get, "/api/v1/nodes")).Status);

        // the master's kubelet client certificate says O=system:masters, but only the kubelet link trusts its CA
        using var kubeletClient = new HttpClient(new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, _, _, _) => true,
            ClientCertificates = { ApiTestServer.KubeletCa.ClientCertificate() },
            ClientCertificateOptions = ClientCertificateOption.Manual,
        }) { BaseAddress = _server.Address };
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(kubeletClient, HttpMethod.Get, "/api/v1/nodes")).Status);
    }

    [Fact]
    public async Task A_node_may_label_its_own_Node_but_not_another_nor_touch_a_Deployment_or_an_unrelated_Secret()
    {
        await AdminCreateAsync("/api/v1/nodes", """{"apiVersion":"v1","kind":"Node","metadata":{"name":"node1"}}""");
        await AdminCreateAsync("/api/v1/nodes", """{"apiVersion":"v1","kind":"Node","metadata":{"name":"node2"}}""");
        await AdminCreateAsync("/apis/apps/v1/namespaces/default/deployments", """
            {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},
             "spec":{"replicas":0,"selector":{"matchLabels":{"app":"web"}},
                     "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"nginx"}]}}}}
            """);
        await AdminCreateAsync("/api/v1/namespaces/default/secrets", """{"apiVersion":"v1","kind":"Secret","metadata":{"name":"unrelated"}}""");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var node = NodeClient("node1", key);
        const string merge = "application/merge-patch+json";

        var (status, body) = await SendAsync(node, HttpMethod.Get, "/api/v1/nodes/node1");
        Assert.Equal(HttpStatusCode.OK, status);
        (status, body) = await SendAsync(node, HttpMethod.Patch, "/api/v1/nodes/node1", """{"metadata":{"labels":{"foo":"bar"}}}""", merge);
        Assert.True(status == HttpStatusCode.OK, $"{status} {body}");
        Assert.Equal("bar", body!["metadata"]!["labels"]!["foo"]!.GetValue<string>());

        (status, body) = await SendAsync(node, HttpMethod.Patch, "/api/v1/nodes/node1",
            """{"metadata":{"labels":{"node-role.kubernetes.io/control-plane":""}}}""", merge);
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("nodes \"node1\" is forbidden: is not allowed to modify labels: node-role.kubernetes.io/control-plane", Message(body));

        (status, body) = await SendAsync(node, HttpMethod.Patch, "/api/v1/nodes/node2", """{"metadata":{"labels":{"foo":"bar"}}}""", merge);
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("nodes \"node2\" is forbidden: node \"node1\" is not allowed to modify node \"node2\"", Message(body));

        (status, body) = await SendAsync(node, HttpMethod.Patch, "/apis/apps/v1/namespaces/default/deployments/web/scale",
            """{"spec":{"replicas":3}}""", merge);
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("deployments.apps \"web\" is forbidden: User \"system:node:node1\" cannot patch resource \"deployments/scale\" in API group \"apps\" in the namespace \"default\"",
            Message(body));
        (status, body) = await SendAsync(node, HttpMethod.Delete, "/apis/apps/v1/namespaces/default/deployments/web");
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("deployments.apps \"web\" is forbidden: User \"system:node:node1\" cannot delete resource \"deployments\" in API group \"apps\" in the namespace \"default\"",
            Message(body));

        (status, body) = await SendAsync(node, HttpMethod.Get, "/api/v1/namespaces/default/secrets/unrelated");
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("secrets \"unrelated\" is forbidden: User \"system:node:node1\" cannot get resource \"secrets\" in API group \"\" in the namespace \"default\": no relationship found between node 'node1' and this object",
            Message(body));
    }
}
