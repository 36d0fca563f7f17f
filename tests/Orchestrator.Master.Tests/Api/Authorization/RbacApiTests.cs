using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Authorization;

/// <summary>Users and RBAC through the real HTTPS listener: a client certificate of the cluster CA is a user (CN) in
/// groups (O), denied until a RoleBinding allows it, with kube's 403; the access reviews answer for it; impersonation
/// needs the impersonate verb; a binding to a role the user does not hold is refused; the token stays system:masters.</summary>
public sealed class RbacApiTests : IAsyncLifetime
{
    private ApiTestServer _server = null!;
    private HttpClient _jane = null!;

    public async Task InitializeAsync()
    {
        _server = await ApiTestServer.StartAsync(https: true);
        var certificate = IssueClientCertificate(_server.DataDirectory, "CN=jane, O=devs, O=testers");
        _jane = new HttpClient(new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, _, _, _) => true,
            ClientCertificates = { certificate },
            ClientCertificateOptions = ClientCertificateOption.Manual,
        }) { BaseAddress = _server.Address };
    }

    public async Task DisposeAsync()
    {
        _jane.Dispose();
        await _server.DisposeAsync();
    }

    /// <summary>A client certificate signed with the server's CA files, as `openssl x509 -req -CA ca.crt -CAkey ca.key` makes.</summary>
    internal static X509Certificate2 IssueClientCertificate(string dataDirectory, string subject)
    {
        using var ca = X509Certificate2.CreateFromPemFile(Path.Combine(dataDirectory, "ca.crt"), Path.Combine(dataDirectory, "ca.key"));
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        var now = DateTimeOffset.UtcNow;
        using var issued = request.Create(ca, now.AddMinutes(-5), now.AddDays(1), RandomNumberGenerator.GetBytes(16).Select((b, i) => i == 0 ? (byte)(b & 0x7F) : b).ToArray());
        return X509CertificateLoader.LoadPkcs12(issued.CopyWithPrivateKey(key).Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>One request with a JSON body and extra headers: the status and the body when it is JSON.</summary>
    internal static async Task<(HttpStatusCode Status, JsonNode? Body)> SendAsync(HttpClient client, HttpMethod method, string path,
        string? body = null, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        foreach (var (name, value) in headers) request.Headers.TryAddWithoutValidation(name, value);
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.TrimStart().StartsWith('{') ? JsonNode.Parse(text) : null);
    }

    private async Task AdminCreateAsync(string path, string body)
    {
        var (status, answer) = await _server.SendAsync(HttpMethod.Post, path, body);
        Assert.True(status == HttpStatusCode.Created, $"{path}: {status} {answer}");
    }

    /// <summary>Waits until the authorizer's cache has the binding (it follows the store's watch).</summary>
    private async Task<(HttpStatusCode Status, JsonNode? Body)> EventuallyAsync(Func<Task<(HttpStatusCode Status, JsonNode? Body)>> send,
        HttpStatusCode expected, Func<JsonNode?, bool>? answered = null)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var answer = await send();
            if ((answer.Status == expected && (answered is null || answered(answer.Body))) || DateTime.UtcNow > deadline) return answer;
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task A_certificate_user_is_denied_until_bound_and_then_holds_only_what_the_role_grants()
    {
        var (status, body) = await SendAsync(_jane, HttpMethod.Get, "/api/v1/namespaces/team/pods");
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("pods is forbidden: User \"jane\" cannot list resource \"pods\" in API group \"\" in the namespace \"team\"",
            body!["message"]!.GetValue<string>());
        Assert.Equal("Forbidden", body["reason"]!.GetValue<string>());

        await AdminCreateAsync("/api/v1/namespaces", """{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"team"}}""");
        await AdminCreateAsync("/apis/rbac.authorization.k8s.io/v1/clusterroles", """
            {"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"pod-reader"},
             "rules":[{"apiGroups":[""],"resources":["pods"],"verbs":["get","list","watch"]},
                      {"apiGroups":["rbac.authorization.k8s.io"],"resources":["rolebindings"],"verbs":["create"]}]}
            """);
        await AdminCreateAsync("/apis/rbac.authorization.k8s.io/v1/namespaces/team/rolebindings", """
            {"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"testers-read"},
             "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"pod-reader"},
             "subjects":[{"apiGroup":"rbac.authorization.k8s.io","kind":"Group","name":"testers"}]}
            """);

        (status, body) = await EventuallyAsync(() => SendAsync(_jane, HttpMethod.Get, "/api/v1/namespaces/team/pods"), HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.OK, status);
        (status, body) = await SendAsync(_jane, HttpMethod.Delete, "/api/v1/namespaces/team/pods/web");
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("pods \"web\" is forbidden: User \"jane\" cannot delete resource \"pods\" in API group \"\" in the namespace \"team\"",
            body!["message"]!.GetValue<string>());
        (status, _) = await SendAsync(_jane, HttpMethod.Get, "/api/v1/namespaces/default/pods");
        Assert.Equal(HttpStatusCode.Forbidden, status);

        // binding a role jane does not hold is an escalation
        (status, body) = await SendAsync(_jane, HttpMethod.Post, "/apis/rbac.authorization.k8s.io/v1/namespaces/team/rolebindings", """
            {"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"jane-admin"},
             "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"pod-reader-admin"},
             "subjects":[{"apiGroup":"rbac.authorization.k8s.io","kind":"User","name":"jane"}]}
            """);
        Assert.Equal(HttpStatusCode.Forbidden, status);
        await AdminCreateAsync("/apis/rbac.authorization.k8s.io/v1/clusterroles", """
            {"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"everything"},
             "rules":[{"apiGroups":["*"],"resources":["*"],"verbs":["*"]}]}
            """);
        (status, body) = await EventuallyAsync(() => SendAsync(_jane, HttpMethod.Post, "/apis/rbac.authorization.k8s.io/v1/namespaces/team/rolebindings", """
            {"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"jane-everything"},
             "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"everything"},
             "subjects":[{"apiGroup":"rbac.authorization.k8s.io","kind":"User","name":"jane"}]}
            """), HttpStatusCode.Forbidden,
            // until the authorizer's cache holds the new role the answer is also 403, naming the role as not found
            body => body?["message"]?.GetValue<string>().Contains("is attempting to grant", StringComparison.Ordinal) == true);
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.StartsWith("rolebindings.rbac.authorization.k8s.io \"jane-everything\" is forbidden: user \"jane\" (groups=[\"devs\" \"testers\" \"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[\"*\"], Resources:[\"*\"], Verbs:[\"*\"]}",
            body!["message"]!.GetValue<string>());

        // a binding to what jane holds is fine
        (status, body) = await SendAsync(_jane, HttpMethod.Post, "/apis/rbac.authorization.k8s.io/v1/namespaces/team/rolebindings", """
            {"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"bob-read"},
             "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"pod-reader"},
             "subjects":[{"apiGroup":"rbac.authorization.k8s.io","kind":"User","name":"bob"}]}
            """);
        Assert.True(status == HttpStatusCode.Created, body?.ToJsonString());
    }

    [Fact]
    public async Task Access_reviews_answer_for_the_caller_and_for_a_named_user()
    {
        await AdminCreateAsync("/apis/rbac.authorization.k8s.io/v1/clusterroles", """
            {"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"reviewer"},
             "rules":[{"apiGroups":["authorization.k8s.io"],"resources":["selfsubjectaccessreviews","selfsubjectrulesreviews"],"verbs":["create"]},
                      {"apiGroups":[""],"resources":["configmaps"],"verbs":["get"]}]}
            """);
        await AdminCreateAsync("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", """
            {"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding","metadata":{"name":"devs-review"},
             "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"reviewer"},
             "subjects":[{"apiGroup":"rbac.authorization.k8s.io","kind":"Group","name":"devs"}]}
            """);
        const string Review = """
            {"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview",
             "spec":{"resourceAttributes":{"namespace":"x","verb":"get","resource":"configmaps"}}}
            """;
        var (status, body) = await EventuallyAsync(() => SendAsync(_jane, HttpMethod.Post,
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", Review), HttpStatusCode.Created);
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.True(body!["status"]!["allowed"]!.GetValue<bool>());
        Assert.Equal("RBAC: allowed by ClusterRoleBinding \"devs-review\" of ClusterRole \"reviewer\" to Group \"devs\"",
            body["status"]!["reason"]!.GetValue<string>());

        (_, body) = await SendAsync(_jane, HttpMethod.Post, "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
            Review.Replace("\"get\"", "\"delete\""));
        Assert.False(body!["status"]!["allowed"]!.GetValue<bool>());

        (status, body) = await SendAsync(_jane, HttpMethod.Post, "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
            """{"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectRulesReview","spec":{"namespace":"x"}}""");
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Contains(body!["status"]!["resourceRules"]!.AsArray(), r => r!["resources"]![0]!.GetValue<string>() == "configmaps");

        // jane may not ask about others
        (status, _) = await SendAsync(_jane, HttpMethod.Post, "/apis/authorization.k8s.io/v1/subjectaccessreviews",
            """{"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview","spec":{"user":"bob","resourceAttributes":{"verb":"get","resource":"pods"}}}""");
        Assert.Equal(HttpStatusCode.Forbidden, status);
        (status, body) = await _server.SendAsync(HttpMethod.Post, "/apis/authorization.k8s.io/v1/subjectaccessreviews",
            """{"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview","spec":{"user":"bob","groups":["devs"],"resourceAttributes":{"namespace":"x","verb":"get","resource":"configmaps"}}}""");
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.True(body!["status"]!["allowed"]!.GetValue<bool>());
        (status, body) = await _server.SendAsync(HttpMethod.Post, "/apis/authorization.k8s.io/v1/subjectaccessreviews",
            """{"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview","spec":{"resourceAttributes":{"verb":"get","resource":"pods"}}}""");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
    }

    [Fact]
    public async Task The_admin_token_may_impersonate_and_the_impersonated_user_is_authorized_as_itself()
    {
        var (status, _) = await _server.SendAsync(HttpMethod.Get, "/api/v1/nodes");
        Assert.Equal(HttpStatusCode.OK, status);
        (status, var body) = await SendAsync(_server.Client, HttpMethod.Get, "/api/v1/nodes", null, ("Impersonate-User", "jane"));
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("nodes is forbidden: User \"jane\" cannot list resource \"nodes\" in API group \"\" at the cluster scope",
            body!["message"]!.GetValue<string>());

        (status, body) = await SendAsync(_jane, HttpMethod.Get, "/api/v1/nodes", null, ("Impersonate-User", "bob"));
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("users \"bob\" is forbidden: User \"jane\" cannot impersonate resource \"users\" in API group \"\" at the cluster scope",
            body!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_certificate_from_another_ca_is_no_user()
    {
        var other = Directory.CreateTempSubdirectory("other-ca-").FullName;
        try
        {
            Orchestrator.Master.Api.Security.ServingCertificates.LoadOrCreate(other, "127.0.0.1");
            using var stranger = new HttpClient(new HttpClientHandler
            {
                ServerCertificateCustomValidationCallback = (_, _, _, _) => true,
                ClientCertificates = { IssueClientCertificate(other, "CN=mallory, O=system:masters") },
                ClientCertificateOptions = ClientCertificateOption.Manual,
            }) { BaseAddress = _server.Address };
            var (status, _) = await SendAsync(stranger, HttpMethod.Get, "/api/v1/namespaces");
            Assert.Equal(HttpStatusCode.Unauthorized, status);
        }
        finally
        {
            Directory.Delete(other, recursive: true);
        }
    }
}
