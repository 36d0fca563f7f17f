using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Security;

/// <summary>TokenRequest, the ServiceAccount token authenticator, TokenReview and the issuer's discovery documents
/// through the API, as kube-apiserver answers them.</summary>
public sealed class ServiceAccountTokenApiTests : IAsyncLifetime
{
    private const string Issuer = "https://kubernetes.default.svc.cluster.local";
    private ApiTestServer _server = null!;

    public async Task InitializeAsync() => _server = await ApiTestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<JsonNode> CreatedAsync(string path, string body)
    {
        var (status, answer) = await _server.SendAsync(HttpMethod.Post, path, body);
        Assert.True(status == HttpStatusCode.Created, $"{path}: {status} {answer}");
        return answer!;
    }

    private Task<JsonNode> CreateAccountAsync(string name) =>
        CreatedAsync("/api/v1/namespaces/default/serviceaccounts", $$$"""{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"{{{name}}}"}}""");

    private async Task<string> TokenAsync(string account, string spec = "{}")
    {
        var answer = await CreatedAsync($"/api/v1/namespaces/default/serviceaccounts/{account}/token",
            $$$"""{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{{{spec}}}}""");
        return (string)answer["status"]!["token"]!;
    }

    private async Task<(HttpStatusCode Status, JsonNode? Body)> AsAsync(string token, HttpMethod method, string path, string? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await _server.Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.TrimStart().StartsWith('{') ? JsonNode.Parse(text) : null);
    }

    private async Task<JsonNode> ReviewAsync(string token, string audiences = "[]")
    {
        var answer = await CreatedAsync("/apis/authentication.k8s.io/v1/tokenreviews",
            $$$"""{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":"{{{token}}}","audiences":{{{audiences}}}}}""");
        return answer["status"]!;
    }

    private async Task<(HttpStatusCode Status, JsonNode? Body)> EventuallyAsync(Func<Task<(HttpStatusCode Status, JsonNode? Body)>> send,
        HttpStatusCode expected)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var answer = await send();
            if (answer.Status == expected || DateTime.UtcNow > deadline) return answer;
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task A_requested_token_authenticates_as_the_account_which_rbac_then_governs()
    {
        await CreateAccountAsync("robot");
        var answer = await CreatedAsync("/api/v1/namespaces/default/serviceaccounts/robot/token",
            """{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{}}""");
        Assert.Equal("TokenRequest", (string?)answer["kind"]);
        Assert.Equal(3600, (long)answer["spec"]!["expirationSeconds"]!);
        Assert.Equal(Issuer, (string?)answer["spec"]!["audiences"]![0]);
        var expires = DateTimeOffset.Parse((string)answer["status"]!["expirationTimestamp"]!);
        Assert.InRange(expires - DateTimeOffset.UtcNow, TimeSpan.FromMinutes(55), TimeSpan.FromMinutes(61));
        var token = (string)answer["status"]!["token"]!;

        var (denied, status) = await AsAsync(token, HttpMethod.Get, "/api/v1/namespaces/default/pods");
        Assert.Equal(HttpStatusCode.Forbidden, denied);
        Assert.Equal("pods is forbidden: User \"system:serviceaccount:default:robot\" cannot list resource \"pods\" in API group \"\" in the namespace \"default\"",
            (string?)status!["message"]);

        await CreatedAsync("/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles",
            """{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"pod-reader"},"rules":[{"apiGroups":[""],"resources":["pods"],"verbs":["list"]}]}""");
        await CreatedAsync("/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings",
            """{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"robot-reads"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"pod-reader"},"subjects":[{"kind":"ServiceAccount","name":"robot","namespace":"default"}]}""");
        var (allowed, list) = await EventuallyAsync(() => AsAsync(token, HttpMethod.Get, "/api/v1/namespaces/default/pods"), HttpStatusCode.OK);
        Assert.True(allowed == HttpStatusCode.OK, $"{allowed} {list}");

        var review = await ReviewAsync(token);
        Assert.True((bool)review["authenticated"]!);
        Assert.Equal("system:serviceaccount:default:robot", (string?)review["user"]!["username"]);
        Assert.Equal(["system:serviceaccounts", "system:serviceaccounts:default", "system:authenticated"],
            review["user"]!["groups"]!.AsArray().Select(g => (string)g!).ToArray());
        Assert.StartsWith("JTI=", (string?)review["user"]!["extra"]!["authentication.kubernetes.io/credential-id"]![0]);
        Assert.Equal(Issuer, (string?)review["audiences"]![0]);
    }

    [Fact]
    public async Task A_token_dies_with_its_account_and_is_not_revived_by_a_new_account_of_that_name()
    {
        await CreateAccountAsync("short-lived");
        var token = await TokenAsync("short-lived");
        Assert.True((bool)(await ReviewAsync(token))["authenticated"]!);

        var (deleted, _) = await _server.SendAsync(HttpMethod.Delete, "/api/v1/namespaces/default/serviceaccounts/short-lived");
        Assert.Equal(HttpStatusCode.OK, deleted);
        Assert.Equal(HttpStatusCode.Unauthorized, (await AsAsync(token, HttpMethod.Get, "/api/v1/namespaces/default/pods")).Status);
        var review = await ReviewAsync(token);
        Assert.False((bool)review["authenticated"]!);
        Assert.Contains("serviceaccounts \\\"short-lived\\\" not found".Replace("\\\"", "\""), (string?)review["error"]);

        await CreateAccountAsync("short-lived");
        Assert.Equal(HttpStatusCode.Unauthorized, (await AsAsync(token, HttpMethod.Get, "/api/v1/namespaces/default/pods")).Status);
        Assert.Contains("does not match claim", (string?)(await ReviewAsync(token))["error"]);
    }

    [Fact]
    public async Task A_token_for_another_audience_is_refused_by_the_api_but_reviewed_for_that_audience()
    {
        await CreateAccountAsync("vault-client");
        var token = await TokenAsync("vault-client", """{"audiences":["vault"],"expirationSeconds":600}""");
        var (status, body) = await AsAsync(token, HttpMethod.Get, "/api/v1/namespaces/default/pods");
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("Unauthorized", (string?)body!["reason"]);

        Assert.True((bool)(await ReviewAsync(token, """["vault"]"""))["authenticated"]!);
        var wrong = await ReviewAsync(token);
        Assert.False((bool)wrong["authenticated"]!);
        Assert.Contains($"token audiences [\"vault\"] is invalid for the target audiences [\"{Issuer}\"]", (string?)wrong["error"]);
    }

    [Fact]
    public async Task A_request_is_refused_as_kube_refuses_it()
    {
        await CreateAccountAsync("checked");
        var (tooShort, answer) = await _server.SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/serviceaccounts/checked/token",
            """{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{"expirationSeconds":60}}""");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, tooShort);
        Assert.Equal("TokenRequest.authentication.k8s.io \"checked\" is invalid: spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes",
            (string?)answer!["message"]);

        var (missing, _) = await _server.SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/serviceaccounts/nobody/token",
            """{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{}}""");
        Assert.Equal(HttpStatusCode.NotFound, missing);

        var (badKind, kindAnswer) = await _server.SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/serviceaccounts/checked/token",
            """{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{"boundObjectRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"web"}}}""");
        Assert.Equal(HttpStatusCode.BadRequest, badKind);
        Assert.Equal("cannot bind token for serviceaccount \"checked\" to object of type apps/v1, Kind=Deployment", (string?)kindAnswer!["message"]);

        var (get, _) = await _server.SendAsync(HttpMethod.Get, "/api/v1/namespaces/default/serviceaccounts/checked/token");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, get);
    }

    [Fact]
    public async Task A_pod_bound_token_names_the_pod_checks_its_uid_and_dies_with_it()
    {
        await CreateAccountAsync("app");
        var pod = await CreatedAsync("/api/v1/namespaces/default/pods",
            """{"apiVersion":"v1","kind":"Pod","metadata":{"name":"app-pod"},"spec":{"serviceAccountName":"app","containers":[{"name":"c","image":"busybox"}]}}""");
        var uid = (string)pod["metadata"]!["uid"]!;

        var (conflict, conflictAnswer) = await _server.SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/serviceaccounts/app/token",
            """{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{"boundObjectRef":{"apiVersion":"v1","kind":"Pod","name":"app-pod","uid":"not-it"}}}""");
        Assert.Equal(HttpStatusCode.Conflict, conflict);
        Assert.Contains("the UID in the bound object reference (not-it) does not match the UID in record", (string?)conflictAnswer!["message"]);

        await CreateAccountAsync("other");
        var (otherAccount, otherAnswer) = await _server.SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/serviceaccounts/other/token",
            """{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{"boundObjectRef":{"apiVersion":"v1","kind":"Pod","name":"app-pod"}}}""");
        Assert.Equal(HttpStatusCode.BadRequest, otherAccount);
        Assert.Equal("cannot bind token for serviceaccount \"other\" to pod running with different serviceaccount name.", (string?)otherAnswer!["message"]);

        var token = await TokenAsync("app", $$$"""{"boundObjectRef":{"apiVersion":"v1","kind":"Pod","name":"app-pod","uid":"{{{uid}}}"}}""");
        var review = await ReviewAsync(token);
        Assert.True((bool)review["authenticated"]!);
        Assert.Equal("app-pod", (string?)review["user"]!["extra"]!["authentication.kubernetes.io/pod-name"]![0]);
        Assert.Equal(uid, (string?)review["user"]!["extra"]!["authentication.kubernetes.io/pod-uid"]![0]);

        var (deleted, _) = await _server.SendAsync(HttpMethod.Delete, "/api/v1/namespaces/default/pods/app-pod?gracePeriodSeconds=0");
        Assert.Equal(HttpStatusCode.OK, deleted);
        var after = await EventuallyAsync(async () => (await ReviewAsync(token))["authenticated"]!.GetValue<bool>()
            ? (HttpStatusCode.OK, null) : (HttpStatusCode.Unauthorized, null), HttpStatusCode.Unauthorized);
        Assert.Equal(HttpStatusCode.Unauthorized, after.Status);
    }

    [Fact]
    public async Task The_issuer_discovery_documents_publish_the_key_that_signs_the_tokens()
    {
        var (status, configuration) = await _server.SendAsync(HttpMethod.Get, "/.well-known/openid-configuration");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(Issuer, (string?)configuration!["issuer"]);
        Assert.Equal(Issuer + "/openid/v1/jwks", (string?)configuration["jwks_uri"]);
        Assert.Equal("ES256", (string?)configuration["id_token_signing_alg_values_supported"]![0]);

        var (_, jwks) = await _server.SendAsync(HttpMethod.Get, "/openid/v1/jwks");
        await CreateAccountAsync("oidc");
        var token = await TokenAsync("oidc");
        var header = JsonNode.Parse(Orchestrator.Master.Identity.Base64Url.TryDecode(token.Split('.')[0])!)!;
        Assert.Equal((string?)header["kid"], (string?)jwks!["keys"]![0]!["kid"]);
        Assert.Equal("EC", (string?)jwks["keys"]![0]!["kty"]);
    }

    /// <summary>A legacy token Secret as the token controller leaves it: the token signed for the account and the Secret.</summary>
    private async Task<(string Token, JsonNode Secret)> LegacyTokenAsync(string account, string secretName)
    {
        var uid = (string)(await CreateAccountAsync(account))["metadata"]!["uid"]!;
        var tokens = _server.App.Services.GetRequiredService<Orchestrator.Master.Identity.ServiceAccountTokens>();
        var token = tokens.SignLegacy(new Orchestrator.Master.Identity.LegacyTokenClaims("default", account, uid, secretName));
        var secret = await CreatedAsync("/api/v1/namespaces/default/secrets",
            $$$"""{"apiVersion":"v1","kind":"Secret","metadata":{"name":"{{{secretName}}}","annotations":{"kubernetes.io/service-account.name":"{{{account}}}"}},"type":"kubernetes.io/service-account-token","stringData":{"token":"{{{token}}}"}}""");
        return (token, secret);
    }

    [Fact]
    public async Task A_legacy_token_in_its_secret_authenticates_as_the_account_and_marks_the_day_it_was_used()
    {
        var (token, _) = await LegacyTokenAsync("build-robot", "build-robot-secret");
        var (status, body) = await AsAsync(token, HttpMethod.Get, "/api/v1/namespaces/default/pods");
        Assert.True(status == HttpStatusCode.Forbidden, $"{status} {body}");
        Assert.StartsWith("pods is forbidden: User \"system:serviceaccount:default:build-robot\"", (string?)body!["message"]);

        var (_, secret) = await _server.SendAsync(HttpMethod.Get, "/api/v1/namespaces/default/secrets/build-robot-secret");
        Assert.Equal(DateTime.UtcNow.ToString("yyyy-MM-dd"), (string?)secret!["metadata"]!["labels"]!["kubernetes.io/legacy-token-last-used"]);
        var review = await ReviewAsync(token);
        Assert.True((bool)review["authenticated"]!);
        Assert.Equal(Issuer, (string?)review["audiences"]![0]);
        Assert.Contains("is invalid for the target audiences [\"vault\"]", (string?)(await ReviewAsync(token, """["vault"]"""))["error"]);
    }

    [Fact]
    public async Task A_legacy_token_dies_with_its_secret_its_account_or_a_change_of_the_secret()
    {
        var (token, _) = await LegacyTokenAsync("deployer", "deployer-token");
        Assert.True((bool)(await ReviewAsync(token))["authenticated"]!);

        // (read again: the review marked the Secret used)
        var (_, changed) = await _server.SendAsync(HttpMethod.Get, "/api/v1/namespaces/default/secrets/deployer-token");
        changed!["stringData"] = new JsonObject { ["token"] = "another" };
        changed["metadata"]!["labels"] = new JsonObject { ["kubernetes.io/legacy-token-invalid-since"] = "2026-01-01" };
        Assert.Equal(HttpStatusCode.OK, (await _server.SendAsync(HttpMethod.Put, "/api/v1/namespaces/default/secrets/deployer-token",
            changed.ToJsonString())).Status);
        Assert.Contains("Token does not match server's copy", (string?)(await ReviewAsync(token))["error"]);

        // the same token back, but the Secret is marked invalid
        var (_, current) = await _server.SendAsync(HttpMethod.Get, "/api/v1/namespaces/default/secrets/deployer-token");
        current!["stringData"] = new JsonObject { ["token"] = token };
        Assert.Equal(HttpStatusCode.OK, (await _server.SendAsync(HttpMethod.Put, "/api/v1/namespaces/default/secrets/deployer-token",
            current.ToJsonString())).Status);
        Assert.Contains("the token in secret default/deployer-token for service account default/deployer has been marked invalid.",
            (string?)(await ReviewAsync(token))["error"]);
        Assert.Equal(HttpStatusCode.Unauthorized, (await AsAsync(token, HttpMethod.Get, "/api/v1/namespaces/default/pods")).Status);

        (token, _) = await LegacyTokenAsync("pusher", "pusher-token");
        await _server.SendAsync(HttpMethod.Delete, "/api/v1/namespaces/default/serviceaccounts/pusher");
        Assert.Contains("serviceaccounts \"pusher\" not found", (string?)(await ReviewAsync(token))["error"]);
        await CreateAccountAsync("pusher");
        Assert.Contains("does not match claim", (string?)(await ReviewAsync(token))["error"]);
        await _server.SendAsync(HttpMethod.Delete, "/api/v1/namespaces/default/secrets/pusher-token");
        Assert.Contains("Token has been invalidated", (string?)(await ReviewAsync(token))["error"]);
    }

    [Theory]
    [InlineData("kubernetes.io/service-account-token", "{}", "metadata.annotations[kubernetes.io/service-account.name]: Required value")]
    [InlineData("kubernetes.io/tls", "{}", "[data[tls.crt]: Required value, data[tls.key]: Required value]")]
    [InlineData("kubernetes.io/basic-auth", "{}", "[data[%s][username]: Required value, data[%s][password]: Required value]")]
    [InlineData("kubernetes.io/ssh-auth", """{"ssh-privatekey":""}""", "data[%s][ssh-privatekey]: Required value")]
    [InlineData("kubernetes.io/dockerconfigjson", "{}", "data[.dockerconfigjson]: Required value")]
    [InlineData("kubernetes.io/dockerconfigjson", """{".dockerconfigjson":"[1]"}""",
        "data[.dockerconfigjson]: Invalid value: \"<secret contents redacted>\": json: cannot unmarshal array into Go value of type map[string]interface {}")]
    [InlineData("kubernetes.io/dockercfg", """{".dockercfg":"x"}""",
        "data[.dockercfg]: Invalid value: \"<secret contents redacted>\": invalid character 'x' looking for beginning of value")]
    public async Task A_secret_of_a_known_type_without_what_the_type_needs_is_refused_as_kube_refuses_it(string type, string stringData, string expected)
    {
        var (status, answer) = await _server.SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/secrets",
            $$$"""{"apiVersion":"v1","kind":"Secret","metadata":{"name":"typed"},"type":"{{{type}}}","stringData":{{{stringData}}}}""");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        Assert.Equal($"Secret \"typed\" is invalid: {expected}", (string?)answer!["message"]);
    }

    [Fact]
    public async Task A_self_subject_review_answers_who_the_caller_is()
    {
        const string body = """{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}""";
        var admin = await CreatedAsync("/apis/authentication.k8s.io/v1/selfsubjectreviews", body);
        Assert.Equal("admin", (string?)admin["status"]!["userInfo"]!["username"]);
        Assert.Equal(["system:masters", "system:authenticated"],
            admin["status"]!["userInfo"]!["groups"]!.AsArray().Select(g => (string)g!).ToArray());
    }
}

/// <summary>The API's serving certificate covers the names and the ClusterIP pods reach it by, so a pod verifying it
/// with kube-root-ca.crt succeeds.</summary>
public sealed class ServingCertificateNamesTests
{
    [Fact]
    public void The_serving_certificate_names_the_kubernetes_service()
    {
        var dir = Directory.CreateTempSubdirectory("serving-").FullName;
        try
        {
            using var certificate = Orchestrator.Master.Api.Security.ServingCertificates.LoadOrCreate(dir, "127.0.0.1");
            var san = certificate.Extensions.OfType<System.Security.Cryptography.X509Certificates.X509SubjectAlternativeNameExtension>().Single();
            Assert.Contains("kubernetes.default.svc", san.EnumerateDnsNames());
            Assert.Contains("kubernetes.default.svc.cluster.local", san.EnumerateDnsNames());
            Assert.Contains(IPAddress.Parse(Orchestrator.Master.Store.ClusterIpRange.First), san.EnumerateIPAddresses());
            Assert.Contains(IPAddress.Loopback, san.EnumerateIPAddresses());
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
