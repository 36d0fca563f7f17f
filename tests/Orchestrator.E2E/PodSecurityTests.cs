using System.Text.Json.Nodes;
using Xunit;
using Xunit.Abstractions;

namespace Orchestrator.E2E;

/// <summary>
/// Pod Security admission and the audit log with the real kubectl against a real cluster (deploy/up.sh starts the
/// master with an audit policy and --audit-log-path .state/logs/audit.log): a namespace labelled enforce=restricted
/// refuses a pod with hostPath, privileged and root with kube's message and admits a compliant one; a warn label
/// gives kubectl's "Warning:" line on a Deployment; the audit log says who created and deleted what.
/// </summary>
[Collection(SharedClusterCollection.Name)]
public sealed class PodSecurityTests(ClusterFixture cluster, ITestOutputHelper output)
{
    private static string Unique(string prefix) => $"{prefix}{Guid.NewGuid():N}"[..(prefix.Length + 6)];

    private async Task<CommandResult> Run(string? input, params string[] args)
    {
        var result = input is null ? await cluster.Kubectl(args) : await cluster.KubectlWithInput(input, args);
        output.WriteLine($"$ kubectl {string.Join(' ', args)}\n{result.Output}{result.Error}");
        return result;
    }

    private async Task<string> K(params string[] args)
    {
        var result = await Run(null, args);
        Assert.True(result.ExitCode == 0, $"kubectl {string.Join(' ', args)}: {result}\n{cluster.Logs()}");
        return result.Output;
    }

    private const string RootPod = """
        apiVersion: v1
        kind: Pod
        metadata: {name: rooted}
        spec:
          securityContext: {runAsUser: 0}
          containers:
          - name: c
            image: orchestrator/http-server
            securityContext: {privileged: true}
            volumeMounts: [{name: host, mountPath: /host}]
          volumes:
          - name: host
            hostPath: {path: /}
        """;

    private const string CompliantPod = """
        apiVersion: v1
        kind: Pod
        metadata: {name: confined}
        spec:
          securityContext: {runAsNonRoot: true, runAsUser: 1000, seccompProfile: {type: RuntimeDefault}}
          containers:
          - name: c
            image: orchestrator/http-server
            securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
        """;

    [Fact]
    public async Task A_restricted_namespace_refuses_host_access_with_kubes_message_admits_a_compliant_pod_and_the_audit_log_says_who()
    {
        var ns = Unique("psa-");
        await K("create", "namespace", ns);
        await K("label", "namespace", ns, "pod-security.kubernetes.io/enforce=restricted");

        var refused = await Run(RootPod, "-n", ns, "create", "-f", "-");

        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains(
            "Error from server (Forbidden): error when creating \"STDIN\": pods \"rooted\" is forbidden: violates PodSecurity " +
            "\"restricted:latest\": privileged (container \"c\" must not set securityContext.privileged=true), " +
            "allowPrivilegeEscalation != false (container \"c\" must set securityContext.allowPrivilegeEscalation=false), " +
            "unrestricted capabilities (container \"c\" must set securityContext.capabilities.drop=[\"ALL\"]), " +
            "restricted volume types (volume \"host\" uses restricted volume type \"hostPath\"), " +
            "runAsNonRoot != true (pod or container \"c\" must set securityContext.runAsNonRoot=true), " +
            "runAsUser=0 (pod must not set runAsUser=0), " +
            "seccompProfile (pod or container \"c\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")",
            refused.Error);
        var admitted = await Run(CompliantPod, "-n", ns, "create", "-f", "-");
        Assert.True(admitted.ExitCode == 0, admitted.ToString());
        Assert.DoesNotContain("Warning", admitted.Error);
        await K("-n", ns, "delete", "pod", "confined", "--grace-period=0", "--force");

        var auditLog = Path.Combine(cluster.StateDir, "logs", "audit.log");
        await cluster.Eventually(async () =>
        {
            var events = (await File.ReadAllLinesAsync(auditLog)).Where(l => l.Length > 0).Select(l => JsonNode.Parse(l)!).ToList();
            JsonNode Find(string verb, string name) => events.Single(e =>
                e["verb"]?.ToString() == verb && e["objectRef"]?["namespace"]?.ToString() == ns &&
                e["objectRef"]?["resource"]?.ToString() == "pods" && e["objectRef"]?["name"]?.ToString() == name);
            var forbidden = Find("create", "rooted");
            Assert.Equal(403, forbidden["responseStatus"]!["code"]!.GetValue<int>());
            Assert.Equal("restricted:latest", forbidden["annotations"]!["pod-security.kubernetes.io/enforce-policy"]!.ToString());
            var created = Find("create", "confined");
            Assert.Equal(201, created["responseStatus"]!["code"]!.GetValue<int>());
            Assert.Equal("ResponseComplete", created["stage"]!.ToString());
            Assert.Equal("kubernetes-admin", created["user"]!["username"]!.ToString());
            Assert.StartsWith("kubectl/", created["userAgent"]!.ToString());
            var deleted = Find("delete", "confined");
            Assert.Equal(200, deleted["responseStatus"]!["code"]!.GetValue<int>());
            Assert.Equal("kubernetes-admin", deleted["user"]!["username"]!.ToString());
        }, "the audit log records the refused create, the create and the delete");
        await K("delete", "namespace", ns, "--wait=false");
    }

    [Fact]
    public async Task A_warn_label_gives_kubectls_warning_on_a_deployment_which_is_still_created()
    {
        var ns = Unique("psw-");
        await K("create", "namespace", ns);
        await K("label", "namespace", ns, "pod-security.kubernetes.io/warn=baseline");

        var created = await Run("""
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: hosted}
            spec:
              replicas: 0
              selector: {matchLabels: {app: hosted}}
              template:
                metadata: {labels: {app: hosted}}
                spec:
                  hostPID: true
                  containers: [{name: c, image: orchestrator/http-server}]
            """, "-n", ns, "create", "-f", "-");

        Assert.True(created.ExitCode == 0, created.ToString());
        Assert.Contains("Warning: would violate PodSecurity \"baseline:latest\": host namespaces (hostPID=true)", created.Error);
        Assert.Contains("deployment.apps/hosted created", created.Output);
        await K("delete", "namespace", ns, "--wait=false");
    }

    [Fact]
    public async Task A_bad_label_value_is_refused_with_kubes_message()
    {
        var ns = Unique("psb-");
        await K("create", "namespace", ns);

        var labelled = await Run(null, "label", "namespace", ns, "pod-security.kubernetes.io/enforce=strict");

        Assert.NotEqual(0, labelled.ExitCode);
        Assert.Contains($"Namespace \"{ns}\" is invalid: metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: \"strict\": " +
                        "must be one of privileged, baseline, restricted", labelled.Error);
        await K("delete", "namespace", ns, "--wait=false");
    }
}
