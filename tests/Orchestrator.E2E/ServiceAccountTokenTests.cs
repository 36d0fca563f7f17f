using System.Text;
using System.Text.Json.Nodes;
using Xunit;
using Xunit.Abstractions;

namespace Orchestrator.E2E;

/// <summary>
/// ServiceAccount tokens with kubectl on a real cluster: `kubectl create token` issues a JWT with kube's claims for
/// the namespace's default account; a token authenticates as the account, which RBAC denies until a RoleBinding
/// allows it (kubectl with only that token, verifying the server with the cluster CA); a TokenReview round trip
/// answers for the API's audience and for another; the issuer's discovery documents are readable with the token
/// (kube's system:service-account-issuer-discovery binding); a deleted account's token is refused, and so is a
/// long-lived token of a kubernetes.io/service-account-token Secret once its account is deleted. Pods: the
/// ServiceAccount admission gives each its account's token, the cluster CA and its namespace at
/// /var/run/secrets/kubernetes.io/serviceaccount (automountServiceAccountToken: false leaves them out; a missing account
/// is refused), and a program using the KubernetesClient library's InClusterConfig (orchestrator/incluster-client,
/// deploy/images) gets 403 for pods until a RoleBinding lets its account list them.
/// </summary>
[TestCaseOrderer(StepOrderer.TypeName, StepOrderer.AssemblyName)]
[Collection(SharedClusterCollection.Name)]
public sealed class ServiceAccountTokenTests(ClusterFixture cluster, ITestOutputHelper output)
{
    private const string Issuer = "https://kubernetes.default.svc.cluster.local";
    private static readonly string Suffix = Guid.NewGuid().ToString("N")[..6];
    private static readonly string Team = $"sa-team-{Suffix}";
    private static readonly string Apps = $"sa-pods-{Suffix}";
    private const string TokenDir = "/var/run/secrets/kubernetes.io/serviceaccount";
    private static string? _readerToken;

    private async Task<string> Admin(params string[] args)
    {
        var result = await cluster.Kubectl(args);
        Assert.True(result.ExitCode == 0, $"kubectl {string.Join(' ', args)}: {result}");
        return result.Output;
    }

    /// <summary>kubectl with nothing but the token: the server and the cluster CA of the admin's kubeconfig.</summary>
    private async Task<CommandResult> WithToken(string token, params string[] args)
    {
        var server = (await Admin("config", "view", "--minify", "-o", "jsonpath={.clusters[0].cluster.server}")).Trim();
        var ca = Path.Combine(cluster.StateDir, "master", "ca.crt");
        return await Command.Run("kubectl", ["--kubeconfig", "/dev/null", "--server", server, "--certificate-authority", ca,
            "--token", token, .. args], cluster.Environment, TimeSpan.FromMinutes(2));
    }

    private static JsonObject Payload(string jwt)
    {
        var part = jwt.Split('.')[1].Replace('-', '+').Replace('_', '/');
        part += new string('=', (4 - part.Length % 4) % 4);
        return JsonNode.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(part)))!.AsObject();
    }

    private async Task<JsonNode> Review(string token, params string[] audiences)
    {
        var review = new JsonObject
        {
            ["apiVersion"] = "authentication.k8s.io/v1", ["kind"] = "TokenReview",
            ["spec"] = new JsonObject { ["token"] = token, ["audiences"] = new JsonArray(audiences.Select(a => (JsonNode)a).ToArray()) },
        };
        var result = await cluster.KubectlWithInput(review.ToJsonString(), "create", "-f", "-", "-o", "json");
        Assert.True(result.ExitCode == 0, result.ToString());
        return JsonNode.Parse(result.Output)!["status"]!;
    }

    [Fact, Step(1)]
    public async Task Kubectl_create_token_issues_a_jwt_with_kubes_claims()
    {
        await Admin("create", "namespace", Team);
        await cluster.Eventually(async () => await Admin("get", "serviceaccount", "default", "-n", Team),
            "the namespace's default ServiceAccount exists", TimeSpan.FromSeconds(60));
        var uid = (await Admin("get", "serviceaccount", "default", "-n", Team, "-o", "jsonpath={.metadata.uid}")).Trim();

        var token = (await Admin("create", "token", "default", "-n", Team, "--duration=1h", "--audience=x")).Trim();
        var claims = Payload(token);
        output.WriteLine(claims.ToJsonString());
        Assert.Equal(Issuer, (string?)claims["iss"]);
        Assert.Equal($"system:serviceaccount:{Team}:default", (string?)claims["sub"]);
        Assert.Equal("x", (string?)claims["aud"]![0]);
        Assert.Equal(3600, (long)claims["exp"]! - (long)claims["iat"]!);
        Assert.Equal(Team, (string?)claims["kubernetes.io"]!["namespace"]);
        Assert.Equal(uid, (string?)claims["kubernetes.io"]!["serviceaccount"]!["uid"]);

        var tooShort = await cluster.Kubectl("create", "token", "default", "-n", Team, "--duration=1m");
        Assert.NotEqual(0, tooShort.ExitCode);
        Assert.Contains("may not specify a duration less than 10 minutes", tooShort.Error);
    }

    [Fact, Step(2)]
    public async Task A_token_is_its_account_which_rbac_denies_until_a_rolebinding_allows_it()
    {
        await Admin("create", "serviceaccount", "reader", "-n", Team);
        _readerToken = (await Admin("create", "token", "reader", "-n", Team)).Trim();

        var denied = await WithToken(_readerToken, "get", "pods", "-n", Team);
        Assert.NotEqual(0, denied.ExitCode);
        Assert.Contains($"pods is forbidden: User \"system:serviceaccount:{Team}:reader\" cannot list resource \"pods\" in API group \"\" in the namespace \"{Team}\"", denied.Error);

        await Admin("create", "rolebinding", "reader-views", "-n", Team, "--clusterrole=view", $"--serviceaccount={Team}:reader");
        await cluster.Eventually(async () =>
        {
            var listed = await WithToken(_readerToken, "get", "pods", "-n", Team);
            Assert.True(listed.ExitCode == 0, listed.ToString());
        }, "the account lists pods through view", TimeSpan.FromSeconds(60));

        var whoami = await WithToken(_readerToken, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}");
        Assert.True(whoami.ExitCode == 0, whoami.ToString());
        Assert.Equal($"system:serviceaccount:{Team}:reader", whoami.Output.Trim());

        var jwks = await WithToken(_readerToken, "get", "--raw", "/openid/v1/jwks");
        Assert.True(jwks.ExitCode == 0, jwks.ToString());
        Assert.NotEmpty(JsonNode.Parse(jwks.Output)!["keys"]!.AsArray());
        var configuration = await WithToken(_readerToken, "get", "--raw", "/.well-known/openid-configuration");
        Assert.True(configuration.ExitCode == 0, configuration.ToString());
        Assert.Equal(Issuer, (string?)JsonNode.Parse(configuration.Output)!["issuer"]);
    }

    [Fact, Step(3)]
    public async Task A_token_review_answers_for_the_api_and_for_another_audience_and_not_after_the_account_is_deleted()
    {
        Assert.NotNull(_readerToken);
        var review = await Review(_readerToken!);
        Assert.True((bool)review["authenticated"]!, review.ToJsonString());
        Assert.Equal($"system:serviceaccount:{Team}:reader", (string?)review["user"]!["username"]);
        Assert.Contains($"system:serviceaccounts:{Team}", review["user"]!["groups"]!.AsArray().Select(g => (string?)g));

        var forVault = (await Admin("create", "token", "reader", "-n", Team, "--audience=vault")).Trim();
        Assert.True((bool)(await Review(forVault, "vault"))["authenticated"]!);
        var wrongAudience = await Review(forVault);
        Assert.False((bool)wrongAudience["authenticated"]!);
        Assert.Contains("token audiences [\"vault\"] is invalid", (string?)wrongAudience["error"]);
        var refused = await WithToken(forVault, "get", "pods", "-n", Team);
        Assert.Contains("Unauthorized", refused.Error);

        await Admin("delete", "serviceaccount", "reader", "-n", Team);
        Assert.False((bool)(await Review(_readerToken!))["authenticated"]!);
        var gone = await WithToken(_readerToken!, "get", "pods", "-n", Team);
        Assert.NotEqual(0, gone.ExitCode);
        Assert.Contains("Unauthorized", gone.Error);

        // a long-lived token: a Secret the token controller fills, which dies with its account
        await Admin("create", "serviceaccount", "build-robot", "-n", Team);
        var applied = await cluster.KubectlWithInput($$"""
            apiVersion: v1
            kind: Secret
            metadata:
              name: build-robot-secret
              namespace: {{Team}}
              annotations:
                kubernetes.io/service-account.name: build-robot
            type: kubernetes.io/service-account-token
            """, "apply", "-f", "-");
        Assert.True(applied.ExitCode == 0, applied.ToString());
        var legacy = "";
        await cluster.Eventually(async () =>
        {
            legacy = Encoding.UTF8.GetString(Convert.FromBase64String(
                (await Admin("get", "secret", "build-robot-secret", "-n", Team, "-o", "jsonpath={.data.token}")).Trim()));
            Assert.NotEmpty(legacy);
        }, "the token controller fills the Secret", TimeSpan.FromSeconds(60));
        Assert.Equal("kubernetes/serviceaccount", (string?)Payload(legacy)["iss"]);
        var robot = await WithToken(legacy, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}");
        Assert.True(robot.ExitCode == 0, robot.ToString());
        Assert.Equal($"system:serviceaccount:{Team}:build-robot", robot.Output.Trim());
        await Admin("delete", "serviceaccount", "build-robot", "-n", Team);
        await cluster.Eventually(async () =>
            Assert.Contains("NotFound", (await cluster.Kubectl("get", "secret", "build-robot-secret", "-n", Team)).Error),
            "the account's token Secret is deleted with it", TimeSpan.FromSeconds(60));
        Assert.Contains("Unauthorized", (await WithToken(legacy, "auth", "whoami")).Error);
        await Admin("delete", "namespace", Team, "--wait=false");
    }

    private static string Pod(string name, string ns, string extraSpec, string container) =>
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"" + name + "\",\"namespace\":\"" + ns + "\"}," +
        "\"spec\":{" + extraSpec + "\"terminationGracePeriodSeconds\":0,\"containers\":[" + container + "]}}";

    private const string Sleeper = """{"name":"c","image":"busybox:1.36","command":["sleep","3600"]}""";

    private async Task Running(string ns, string pod) =>
        await cluster.Eventually(async () =>
            Assert.Equal("Running", (await Admin("get", "pod", pod, "-n", ns, "-o", "jsonpath={.status.phase}")).Trim()),
            $"pod {ns}/{pod} runs", TimeSpan.FromMinutes(2));

    [Fact, Step(4)]
    public async Task A_pod_reads_its_token_ca_and_namespace_and_automount_false_leaves_them_out()
    {
        await Admin("create", "namespace", Apps);
        await cluster.Eventually(async () => await Admin("get", "serviceaccount", "default", "-n", Apps),
            "the namespace's default ServiceAccount exists", TimeSpan.FromSeconds(60));
        var created = await cluster.KubectlWithInput(Pod("reader", Apps, "", Sleeper), "create", "-f", "-");
        Assert.True(created.ExitCode == 0, created.ToString());
        var noToken = await cluster.KubectlWithInput(Pod("no-token", Apps, "\"automountServiceAccountToken\":false,", Sleeper), "create", "-f", "-");
        Assert.True(noToken.ExitCode == 0, noToken.ToString());
        var missing = await cluster.KubectlWithInput(Pod("stranger", Apps, "\"serviceAccountName\":\"nobody\",", Sleeper), "create", "-f", "-");
        Assert.NotEqual(0, missing.ExitCode);
        Assert.Contains($"pods \"stranger\" is forbidden: error looking up service account {Apps}/nobody: serviceaccount \"nobody\" not found", missing.Error);

        var spec = JsonNode.Parse(await Admin("get", "pod", "reader", "-n", Apps, "-o", "json"))!["spec"]!;
        Assert.Equal("default", (string?)spec["serviceAccountName"]);
        var volume = spec["volumes"]!.AsArray().Single(v => ((string?)v!["name"])!.StartsWith("kube-api-access-"))!;
        Assert.Equal(3607, (long)volume["projected"]!["sources"]![0]!["serviceAccountToken"]!["expirationSeconds"]!);
        var mount = spec["containers"]![0]!["volumeMounts"]!.AsArray().Single(m => (string?)m!["mountPath"] == TokenDir)!;
        Assert.Equal((string?)volume["name"], (string?)mount["name"]);
        Assert.True((bool)mount["readOnly"]!);

        await Running(Apps, "reader");
        Assert.Equal(Apps, (await Admin("exec", "reader", "-n", Apps, "--", "cat", $"{TokenDir}/namespace")).Trim());
        var ca = await Admin("get", "configmap", "kube-root-ca.crt", "-n", Apps, "-o", "jsonpath={.data.ca\\.crt}");
        Assert.Equal(ca.Trim(), (await Admin("exec", "reader", "-n", Apps, "--", "cat", $"{TokenDir}/ca.crt")).Trim());
        var token = (await Admin("exec", "reader", "-n", Apps, "--", "cat", $"{TokenDir}/token")).Trim();
        var claims = Payload(token);
        output.WriteLine(claims.ToJsonString());
        var uid = (await Admin("get", "pod", "reader", "-n", Apps, "-o", "jsonpath={.metadata.uid}")).Trim();
        Assert.Equal($"system:serviceaccount:{Apps}:default", (string?)claims["sub"]);
        Assert.Equal("reader", (string?)claims["kubernetes.io"]!["pod"]!["name"]);
        Assert.Equal(uid, (string?)claims["kubernetes.io"]!["pod"]!["uid"]);
        Assert.Equal(ClusterFixture.NodeName, (string?)claims["kubernetes.io"]!["node"]!["name"]);
        Assert.True((bool)(await Review(token))["authenticated"]!);

        await Running(Apps, "no-token");
        var noSpec = JsonNode.Parse(await Admin("get", "pod", "no-token", "-n", Apps, "-o", "json"))!["spec"]!;
        Assert.DoesNotContain(noSpec["volumes"]?.AsArray() ?? [], v => ((string?)v!["name"])!.StartsWith("kube-api-access-"));
        var listed = await cluster.Kubectl("exec", "no-token", "-n", Apps, "--", "ls", TokenDir);
        Assert.NotEqual(0, listed.ExitCode);
    }

    [Fact, Step(5)]
    public async Task An_in_cluster_client_lists_pods_with_its_token_only_when_a_rolebinding_allows_it()
    {
        await Admin("create", "serviceaccount", "lister", "-n", Apps);
        var client = await cluster.KubectlWithInput(Pod("client", Apps, "\"serviceAccountName\":\"lister\",",
            """{"name":"client","image":"orchestrator/incluster-client:1","args":["--loop"]}"""), "create", "-f", "-");
        Assert.True(client.ExitCode == 0, client.ToString());
        await Running(Apps, "client");
        await cluster.Eventually(async () =>
            Assert.Contains($"DENIED 403: ", await Admin("logs", "client", "-n", Apps)),
            "the client is denied", TimeSpan.FromMinutes(1));
        var logs = await Admin("logs", "client", "-n", Apps);
        output.WriteLine(logs);
        Assert.Contains($"pods is forbidden: User \\\"system:serviceaccount:{Apps}:lister\\\" cannot list resource \\\"pods\\\"", logs);

        await Admin("create", "rolebinding", "lister-views", "-n", Apps, "--clusterrole=view", $"--serviceaccount={Apps}:lister");
        await cluster.Eventually(async () =>
            Assert.Matches(@"LISTED \d+: .*client", await Admin("logs", "client", "-n", Apps)),
            "the client lists pods through view", TimeSpan.FromMinutes(1));
        await Admin("delete", "namespace", Apps, "--wait=false");
    }
}
