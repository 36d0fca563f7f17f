using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Orchestrator.Master.Api.Authorization;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Authorization;

/// <summary>The master as kubectl's own test/cmd starts kube-apiserver: --authorization-mode=RBAC,AlwaysAllow lets a
/// client-certificate user with no binding at all create, impersonate, grant roles and ask the reviews; with
/// --disable-admission-plugins=ServiceAccount a pod gets no service account, volume or token.</summary>
public sealed class AuthorizationFlagsApiTests
{
    private static readonly IConfiguration NoConfiguration = new ConfigurationBuilder().Build();

    private static Task<(HttpStatusCode Status, JsonNode? Body)> SendAsync(HttpClient client, HttpMethod method, string path,
        string? body = null, params (string Name, string Value)[] headers) =>
        RbacApiTests.SendAsync(client, method, path, body, headers);

    private static HttpClient Client(ApiTestServer server, string subject) => new(new HttpClientHandler
    {
        ServerCertificateCustomValidationCallback = (_, _, _, _) => true,
        ClientCertificates = { RbacApiTests.IssueClientCertificate(server.DataDirectory, subject) },
        ClientCertificateOptions = ClientCertificateOption.Manual,
    }) { BaseAddress = server.Address };

    [Fact]
    public async Task With_AlwaysAllow_after_RBAC_a_user_without_bindings_may_do_anything()
    {
        await using var server = await ApiTestServer.StartAsync(https: true,
            authorization: new AuthorizationSettings(AuthorizationSettings.ParseModes("RBAC,AlwaysAllow")));
        using var jane = Client(server, "CN=jane, O=devs");

        var (status, body) = await SendAsync(jane, HttpMethod.Post, "/api/v1/namespaces/default/configmaps",
            """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"mine"}}""");
        Assert.True(status == HttpStatusCode.Created, $"{status} {body}");

        (status, body) = await SendAsync(jane, HttpMethod.Get, "/api/v1/namespaces/default/configmaps/mine", null,
            ("Impersonate-User", "bob"), ("Impersonate-Group", "testers"));
        Assert.True(status == HttpStatusCode.OK, $"{status} {body}");

        // RBAC's escalation check asks the whole chain for escalate and bind
        (status, body) = await SendAsync(jane, HttpMethod.Post, "/apis/rbac.authorization.k8s.io/v1/clusterroles",
            """{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"all"},"rules":[{"apiGroups":["*"],"resources":["*"],"verbs":["*"]}]}""");
        Assert.True(status == HttpStatusCode.Created, $"{status} {body}");
        (status, body) = await SendAsync(jane, HttpMethod.Post, "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
            """{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding","metadata":{"name":"bob-all"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"cluster-admin"},"subjects":[{"kind":"User","name":"bob"}]}""");
        Assert.True(status == HttpStatusCode.Created, $"{status} {body}");

        (status, body) = await SendAsync(jane, HttpMethod.Post, "/apis/authorization.k8s.io/v1/subjectaccessreviews",
            """{"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview","spec":{"user":"carol","resourceAttributes":{"verb":"delete","resource":"nodes"}}}""");
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.True(body!["status"]!["allowed"]!.GetValue<bool>());

        (status, body) = await SendAsync(jane, HttpMethod.Post, "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
            """{"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectRulesReview","spec":{"namespace":"default"}}""");
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Contains(body!["status"]!["resourceRules"]!.AsArray(), r => r!["resources"]![0]!.GetValue<string>() == "*"
            && r["verbs"]![0]!.GetValue<string>() == "*" && r["apiGroups"]![0]!.GetValue<string>() == "*");
        Assert.Contains(body["status"]!["nonResourceRules"]!.AsArray(), r => r!["nonResourceURLs"]![0]!.GetValue<string>() == "*");
    }

    [Fact]
    public async Task With_AlwaysDeny_alone_only_system_masters_may_act_and_reviews_say_so()
    {
        await using var server = await ApiTestServer.StartAsync(https: true,
            authorization: new AuthorizationSettings(AuthorizationSettings.ParseModes("AlwaysDeny")));
        using var jane = Client(server, "CN=jane, O=devs");
        var (status, body) = await SendAsync(jane, HttpMethod.Get, "/api/v1/namespaces/default/configmaps");
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.EndsWith(": Everything is forbidden.", body!["message"]!.GetValue<string>());

        (status, body) = await server.SendAsync(HttpMethod.Post, "/apis/authorization.k8s.io/v1/subjectaccessreviews",
            """{"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview","spec":{"user":"jane","resourceAttributes":{"verb":"get","resource":"pods"}}}""");
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.False(body!["status"]!["allowed"]!.GetValue<bool>());
        Assert.Equal("Everything is forbidden.", body["status"]!["reason"]!.GetValue<string>());
        (status, _) = await server.SendAsync(HttpMethod.Get, "/api/v1/namespaces/default/configmaps");
        Assert.Equal(HttpStatusCode.OK, status);
    }

    private const string Pod = """{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web"},"spec":{"containers":[{"name":"c","image":"nginx"}]}}""";

    [Fact]
    public async Task With_the_ServiceAccount_plugin_disabled_a_pod_gets_no_account_volume_or_token()
    {
        await using var server = await ApiTestServer.StartAsync(
            admissions: catalog => AdmissionPlugins.Parse(null, "ServiceAccount").StoreChain(NoConfiguration, catalog));
        // no default ServiceAccount exists, as in kube's test/cmd without a controller manager
        var (status, body) = await server.SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/pods", Pod);
        Assert.True(status == HttpStatusCode.Created, $"{status} {body}");
        Assert.Null(body!["spec"]!["serviceAccountName"]);
        Assert.Null(body["spec"]!["volumes"]);
        Assert.Null(body["spec"]!["containers"]![0]!["volumeMounts"]);
    }

    [Fact]
    public async Task With_the_default_plugins_a_pod_gets_its_account_and_token_volume()
    {
        await using var server = await ApiTestServer.StartAsync(
            admissions: catalog => AdmissionPlugins.Default.StoreChain(NoConfiguration, catalog));
        var (status, body) = await server.SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/serviceaccounts",
            """{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"default"}}""");
        Assert.True(status == HttpStatusCode.Created, $"{status} {body}");
        (status, body) = await server.SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/pods", Pod);
        Assert.True(status == HttpStatusCode.Created, $"{status} {body}");
        Assert.Equal("default", body!["spec"]!["serviceAccountName"]!.GetValue<string>());
        Assert.StartsWith("kube-api-access-", body["spec"]!["volumes"]![0]!["name"]!.GetValue<string>());
    }
}
