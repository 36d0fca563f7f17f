using Xunit;
using Xunit.Abstractions;

namespace Orchestrator.E2E;

/// <summary>
/// Users and RBAC with kubectl on a real cluster started by deploy/up.sh under a lock: a user's key and request made
/// by openssl (CN = user, O = group), sent as a CertificateSigningRequest, approved with `kubectl certificate approve`
/// and issued by the kube-apiserver-client signer, given the default `view` ClusterRole in
/// one namespace by a RoleBinding, can list there, cannot delete, cannot read another namespace; `kubectl auth can-i`
/// (with --list, and with --as for the admin) agrees; a RoleBinding to cluster-admin and a Role with more than the user
/// holds, made by that user, are refused as escalations. Names are unique; the namespaces and cluster objects are deleted at the end.
/// </summary>
[TestCaseOrderer(StepOrderer.TypeName, StepOrderer.AssemblyName)]
[Collection(SharedClusterCollection.Name)]
public sealed class RbacTests(ClusterFixture cluster, ITestOutputHelper output)
{
    private static readonly string Suffix = Guid.NewGuid().ToString("N")[..6];
    private static readonly string User = $"jane-{Suffix}";
    private static readonly string Team = $"rbac-team-{Suffix}";
    private static readonly string Other = $"rbac-other-{Suffix}";

    private string UserDir => Path.Combine(cluster.StateDir, "rbac-" + Suffix);
    private string UserKubeconfig => Path.Combine(UserDir, "kubeconfig");

    [Fact, Step(1)]
    public async Task A_user_whose_certificate_request_is_approved_gets_a_certificate_and_is_denied_before_any_binding()
    {
        Directory.CreateDirectory(UserDir);
        var ca = Path.Combine(cluster.StateDir, "master");
        await Run("openssl", "genrsa", "-out", Path.Combine(UserDir, "user.key"), "2048");
        await Run("openssl", "req", "-new", "-key", Path.Combine(UserDir, "user.key"), "-subj", $"/CN={User}/O=e2e-devs",
            "-out", Path.Combine(UserDir, "user.csr"));
        var request = Convert.ToBase64String(await File.ReadAllBytesAsync(Path.Combine(UserDir, "user.csr")));
        var created = await cluster.KubectlWithInput($$"""
            apiVersion: certificates.k8s.io/v1
            kind: CertificateSigningRequest
            metadata: {name: {{User}}}
            spec:
              request: {{request}}
              signerName: kubernetes.io/kube-apiserver-client
              expirationSeconds: 86400
              usages: [client auth]
              username: someone-else
            """, "create", "-f", "-");
        Assert.True(created.ExitCode == 0, created.ToString());
        var pending = await Admin("get", "csr", User);
        output.WriteLine(pending);
        Assert.Matches(@"^NAME\s+AGE\s+SIGNERNAME\s+REQUESTOR\s+REQUESTEDDURATION\s+CONDITION\s*\n", pending);
        Assert.Matches($@"\n{User}\s+\S+\s+kubernetes.io/kube-apiserver-client\s+\S+\s+24h\s+Pending", pending);
        // the requestor is who created it, not what the body said
        Assert.NotEqual("someone-else", (await Admin("get", "csr", User, "-o", "jsonpath={.spec.username}")).Trim());

        Assert.Contains($"certificatesigningrequest.certificates.k8s.io/{User} approved", await Admin("certificate", "approve", User));
        var certificate = "";
        await cluster.Eventually(async () =>
        {
            certificate = await Admin("get", "csr", User, "-o", "jsonpath={.status.certificate}");
            Assert.NotEmpty(certificate.Trim());
        }, "the kube-apiserver-client signer issues the approved request", TimeSpan.FromSeconds(60));
        Assert.Matches($@"\n{User}\s+.*Approved,Issued", await Admin("get", "csr", User));
        await File.WriteAllBytesAsync(Path.Combine(UserDir, "user.crt"), Convert.FromBase64String(certificate.Trim()));
        await Run("openssl", "verify", "-CAfile", Path.Combine(ca, "ca.crt"), Path.Combine(UserDir, "user.crt"));

        var server = (await Admin("config", "view", "--minify", "-o", "jsonpath={.clusters[0].cluster.server}")).Trim();
        await UserConfig("set-cluster", "e2e", "--server", server, "--certificate-authority", Path.Combine(ca, "ca.crt"), "--embed-certs=true");
        await UserConfig("set-credentials", User, "--client-certificate", Path.Combine(UserDir, "user.crt"),
            "--client-key", Path.Combine(UserDir, "user.key"), "--embed-certs=true");
        await UserConfig("set-context", "e2e-user", "--cluster", "e2e", "--user", User);
        await UserConfig("use-context", "e2e-user");

        await Admin("create", "namespace", Team);
        await Admin("create", "namespace", Other);
        await Admin("create", "configmap", "settings", "-n", Team, "--from-literal=a=1");
        await Admin("create", "configmap", "settings", "-n", Other, "--from-literal=a=1");

        var denied = await AsUser("get", "configmaps", "-n", Team);
        Assert.NotEqual(0, denied.ExitCode);
        Assert.Contains($"Error from server (Forbidden): configmaps is forbidden: User \"{User}\" cannot list resource \"configmaps\" in API group \"\" in the namespace \"{Team}\"", denied.Error);
    }

    [Fact, Step(2)]
    public async Task Bound_to_view_in_one_namespace_the_user_lists_there_but_cannot_delete_or_read_another()
    {
        await Admin("create", "rolebinding", "viewers", "-n", Team, "--clusterrole=view", $"--user={User}");
        await cluster.Eventually(async () =>
        {
            var listed = await AsUser("get", "configmaps", "-n", Team, "-o", "name");
            Assert.True(listed.ExitCode == 0, listed.ToString());
            Assert.Contains("configmap/settings", listed.Output);
        }, "the user lists configmaps through view (aggregated from system:aggregate-to-view)", TimeSpan.FromSeconds(60));

        var delete = await AsUser("delete", "configmap", "settings", "-n", Team);
        Assert.NotEqual(0, delete.ExitCode);
        Assert.Contains($"configmaps \"settings\" is forbidden: User \"{User}\" cannot delete resource \"configmaps\" in API group \"\" in the namespace \"{Team}\"", delete.Error);

        var other = await AsUser("get", "configmap", "settings", "-n", Other);
        Assert.NotEqual(0, other.ExitCode);
        Assert.Contains($"configmaps \"settings\" is forbidden: User \"{User}\" cannot get resource \"configmaps\" in API group \"\" in the namespace \"{Other}\"", other.Error);
    }

    [Fact, Step(3)]
    public async Task Kubectl_auth_can_i_agrees_for_the_user_and_for_the_admin_impersonating_it()
    {
        Assert.Equal("yes", (await AsUser("auth", "can-i", "list", "configmaps", "-n", Team)).Output.Trim());
        var no = await AsUser("auth", "can-i", "delete", "configmaps", "-n", Team);
        Assert.Equal(("no", 1), (no.Output.Trim(), no.ExitCode));
        Assert.Equal("no", (await AsUser("auth", "can-i", "get", "configmaps", "-n", Other)).Output.Trim());

        var list = await AsUser("auth", "can-i", "--list", "-n", Team);
        Assert.True(list.ExitCode == 0, list.ToString());
        output.WriteLine(list.Output);
        var configmaps = list.Output.Split('\n').Single(l => l.StartsWith("configmaps ", StringComparison.Ordinal));
        Assert.Contains("[get list watch]", configmaps);
        Assert.Contains(list.Output.Split('\n'), l => l.StartsWith("selfsubjectaccessreviews.authorization.k8s.io ", StringComparison.Ordinal));
        var otherList = await AsUser("auth", "can-i", "--list", "-n", Other);
        Assert.DoesNotContain(otherList.Output.Split('\n'), l => l.StartsWith("configmaps ", StringComparison.Ordinal));

        Assert.Equal("yes", (await cluster.Kubectl("auth", "can-i", "list", "configmaps", "-n", Team, $"--as={User}")).Output.Trim());
        Assert.Equal("no", (await cluster.Kubectl("auth", "can-i", "create", "pods", "-n", Team, $"--as={User}")).Output.Trim());
        Assert.Equal("yes", (await cluster.Kubectl("auth", "can-i", "create", "pods", "-n", Team)).Output.Trim());
    }

    [Fact, Step(4)]
    public async Task A_role_binding_to_cluster_admin_made_by_the_user_is_refused_as_an_escalation()
    {
        await Admin("create", "role", "binder", "-n", Team, "--verb=create", "--resource=rolebindings.rbac.authorization.k8s.io");
        await Admin("create", "rolebinding", "binders", "-n", Team, "--role=binder", $"--user={User}");
        await cluster.Eventually(async () =>
        {
            var refused = await AsUser("create", "rolebinding", "grab", "-n", Team, "--clusterrole=cluster-admin", $"--user={User}");
            Assert.NotEqual(0, refused.ExitCode);
            Assert.Contains($"rolebindings.rbac.authorization.k8s.io \"grab\" is forbidden: user \"{User}\" (groups=[\"e2e-devs\" \"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:", refused.Error);
        }, "the escalation is refused (not the create itself)", TimeSpan.FromSeconds(30));
        Assert.NotEqual(0, (await cluster.Kubectl("get", "rolebinding", "grab", "-n", Team)).ExitCode);
        // binding what the user holds is allowed
        var allowed = await AsUser("create", "rolebinding", "share-view", "-n", Team, "--clusterrole=view", "--user=bob");
        Assert.True(allowed.ExitCode == 0, allowed.ToString());
    }

    [Fact, Step(5)]
    public async Task A_role_granting_more_than_the_user_holds_is_refused_as_an_escalation()
    {
        await Admin("create", "role", "role-maker", "-n", Team, "--verb=create", "--resource=roles.rbac.authorization.k8s.io");
        await Admin("create", "rolebinding", "role-makers", "-n", Team, "--role=role-maker", $"--user={User}");
        await cluster.Eventually(async () =>
        {
            var refused = await AsUser("create", "role", "grab", "-n", Team, "--verb=delete", "--resource=configmaps");
            Assert.NotEqual(0, refused.ExitCode);
            Assert.Contains($"roles.rbac.authorization.k8s.io \"grab\" is forbidden: user \"{User}\" (groups=[\"e2e-devs\" \"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:", refused.Error);
            Assert.Contains("{APIGroups:[\"\"], Resources:[\"configmaps\"], Verbs:[\"delete\"]}", refused.Error);
        }, "the escalation is refused (not the create itself)", TimeSpan.FromSeconds(30));
        var allowed = await AsUser("create", "role", "reader", "-n", Team, "--verb=get", "--resource=configmaps");
        Assert.True(allowed.ExitCode == 0, allowed.ToString());
    }

    [Fact, Step(6)]
    public async Task Clean_up()
    {
        await cluster.Kubectl("delete", "namespace", Team, Other, "--wait=false");
        await cluster.Kubectl("delete", "csr", User, "--ignore-not-found");
        Directory.Delete(UserDir, recursive: true);
    }

    private async Task Run(string file, params string[] args)
    {
        var result = await Command.Run(file, args, cluster.Environment, TimeSpan.FromMinutes(1));
        Assert.True(result.ExitCode == 0, $"{file} {string.Join(" ", args)}: {result}");
    }

    private Task UserConfig(params string[] args) =>
        Run("kubectl", ["config", "--kubeconfig", UserKubeconfig, .. args]);

    private Task<CommandResult> AsUser(params string[] args) =>
        Command.Run("kubectl", ["--kubeconfig", UserKubeconfig, .. args], cluster.Environment, TimeSpan.FromMinutes(2));

    private async Task<string> Admin(params string[] args)
    {
        var result = await cluster.Kubectl(args);
        Assert.True(result.ExitCode == 0, $"kubectl {string.Join(" ", args)}: {result}\n{cluster.Logs()}");
        return result.Output;
    }
}
