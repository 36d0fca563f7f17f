using Xunit;
using Xunit.Abstractions;

namespace Orchestrator.E2E;

/// <summary>
/// Namespaces and ServiceAccounts with the real kubectl against a real cluster: a new namespace gets its default
/// ServiceAccount; a namespace holding a Deployment (with its running pod), a ConfigMap, a ServiceAccount and a custom
/// object is deleted — Terminating meanwhile, new content refused — and everything in it goes, then the namespace.
/// System namespaces may not be deleted.
/// </summary>
[Collection(SharedClusterCollection.Name)]
public sealed class NamespaceLifecycleTests(ClusterFixture cluster, ITestOutputHelper output)
{
    private static string Unique(string prefix) => $"{prefix}{Guid.NewGuid():N}"[..(prefix.Length + 6)];

    private async Task<CommandResult> Run(params string[] args)
    {
        var result = await cluster.Kubectl(args);
        output.WriteLine($"$ kubectl {string.Join(' ', args)}\n{result.Output}{result.Error}");
        return result;
    }

    private async Task<string> K(params string[] args)
    {
        var result = await Run(args);
        Assert.True(result.ExitCode == 0, $"kubectl {string.Join(' ', args)}: {result}\n{cluster.Logs()}");
        return result.Output;
    }

    private async Task<CommandResult> KIn(string input, params string[] args)
    {
        var result = await cluster.KubectlWithInput(input, args);
        output.WriteLine($"$ kubectl {string.Join(' ', args)} <<EOF\n{input}\nEOF\n{result.Output}{result.Error}");
        return result;
    }

    private static string Definition(string group) => $$"""
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata:
          name: widgets.{{group}}
        spec:
          group: {{group}}
          scope: Namespaced
          names: {plural: widgets, singular: widget, kind: Widget}
          versions:
          - name: v1
            served: true
            storage: true
            schema:
              openAPIV3Schema:
                type: object
                properties:
                  spec:
                    type: object
                    properties:
                      size: {type: integer}
        """;

    [Fact]
    public async Task Deleting_a_namespace_deletes_everything_in_it_custom_objects_included()
    {
        var group = Unique("ns") + ".example.com";
        var ns = Unique("nsl-");
        try
        {
            await K("create", "namespace", ns);
            await cluster.Eventually(async () => Assert.Matches(@"(?m)^default\s+0\s+\S+\s*$", await K("get", "sa", "-n", ns)),
                "the default ServiceAccount of a new namespace", TimeSpan.FromSeconds(30));

            Assert.Equal(0, (await KIn(Definition(group), "apply", "-f", "-")).ExitCode);
            await K("wait", "--for=condition=Established", $"crd/widgets.{group}", "--timeout=30s");
            Assert.Equal(0, (await KIn($"apiVersion: {group}/v1\nkind: Widget\nmetadata: {{name: w1}}\nspec: {{size: 3}}\n",
                "apply", "-n", ns, "-f", "-")).ExitCode);
            await K("create", "serviceaccount", "builder", "-n", ns);
            await K("create", "configmap", "settings", "-n", ns, "--from-literal=a=b");
            // Held by a finalizer of its own, this one keeps the namespace Terminating until the test lets it go.
            Assert.Equal(0, (await KIn("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: held, finalizers: [e2e.example.com/hold]}\n",
                "apply", "-n", ns, "-f", "-")).ExitCode);
            await K("create", "deployment", "web", "-n", ns, "--image=orchestrator/http-server");
            await cluster.Eventually(async () => Assert.Contains("Running", await K("get", "pods", "-n", ns)),
                "the deployment's pod running", TimeSpan.FromSeconds(90));

            await K("delete", "namespace", ns, "--wait=false");
            Assert.Equal("Terminating", await K("get", "namespace", ns, "-o", "jsonpath={.status.phase}"));
            var refused = await Run("create", "configmap", "late", "-n", ns);
            Assert.NotEqual(0, refused.ExitCode);
            Assert.Contains($"unable to create new content in namespace {ns} because it is being terminated", refused.Error);

            // Pods go when their node has stopped them (graceful deletion); everything else at once.
            await cluster.Eventually(async () => Assert.Equal("configmap/held",
                    (await K("get", $"widgets.{group},configmaps,serviceaccounts,deployments,pods", "-n", ns, "-o", "name")).Trim()),
                "everything but the held ConfigMap deleted", TimeSpan.FromSeconds(90));
            await cluster.Eventually(async () => Assert.Contains("Some finalizers are remaining: e2e.example.com/hold in 1 resource instances",
                    await K("get", "namespace", ns, "-o", "jsonpath={.status.conditions[?(@.type==\"NamespaceFinalizersRemaining\")].message}")),
                "the namespace's conditions naming the finalizer", TimeSpan.FromSeconds(30));

            await K("patch", "configmap", "held", "-n", ns, "--type=merge", "-p", """{"metadata":{"finalizers":null}}""");
            await K("wait", "--for=delete", $"namespace/{ns}", "--timeout=120s");
            Assert.Contains("NotFound", (await Run("get", "namespace", ns)).Error);
            Assert.Equal("", await K("get", $"widgets.{group},configmaps,serviceaccounts,deployments,pods", "-n", ns, "-o", "name"));
        }
        finally
        {
            await Run("delete", "crd", $"widgets.{group}", "--ignore-not-found");
            await Run("delete", "namespace", ns, "--ignore-not-found", "--wait=false");
        }
    }

    [Fact]
    public async Task System_namespaces_may_not_be_deleted()
    {
        var result = await Run("delete", "namespace", "kube-public");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("namespaces \"kube-public\" is forbidden: this namespace may not be deleted", result.Error);
        Assert.Equal("Active", await K("get", "namespace", "kube-public", "-o", "jsonpath={.status.phase}"));
    }
}
