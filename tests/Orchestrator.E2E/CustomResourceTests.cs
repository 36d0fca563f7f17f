using Xunit;
using Xunit.Abstractions;

namespace Orchestrator.E2E;

/// <summary>
/// CustomResourceDefinitions with the real kubectl against a real cluster: define a resource (schema with defaults, a
/// CEL rule, printer columns, status and scale, short names and categories), see it in api-resources and explain,
/// create, get (columns), patch, scale and watch its objects, have invalid ones refused, and delete the definition
/// with its objects. Each test uses its own group and namespace and deletes them.
/// </summary>
[Collection(SharedClusterCollection.Name)]
public sealed class CustomResourceTests(ClusterFixture cluster, ITestOutputHelper output)
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
          name: crontabs.{{group}}
        spec:
          group: {{group}}
          scope: Namespaced
          names:
            plural: crontabs
            singular: crontab
            kind: CronTab
            shortNames: [ct]
            categories: [all]
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
                    description: What the cron job runs.
                    x-kubernetes-validations:
                    - rule: self.replicas <= self.maxReplicas
                      message: replicas must not exceed maxReplicas
                    properties:
                      cronSpec:
                        type: string
                        description: The schedule in cron format.
                      image:
                        type: string
                      replicas:
                        type: integer
                        minimum: 0
                        default: 1
                      maxReplicas:
                        type: integer
                        default: 10
                  status:
                    type: object
                    properties:
                      replicas:
                        type: integer
            subresources:
              status: {}
              scale:
                specReplicasPath: .spec.replicas
                statusReplicasPath: .status.replicas
            additionalPrinterColumns:
            - name: Spec
              type: string
              jsonPath: .spec.cronSpec
            - name: Replicas
              type: integer
              jsonPath: .spec.replicas
            - name: Age
              type: date
              jsonPath: .metadata.creationTimestamp
        """;

    private static string CronTab(string group, string name, string extra = "") => $"""
        apiVersion: {group}/v1
        kind: CronTab
        metadata:
          name: {name}
        spec:
          cronSpec: "* * * * */5"
          image: my-awesome-cron-image{extra}
        """;

    [Fact]
    public async Task A_custom_resource_lifecycle_with_kubectl()
    {
        var group = Unique("e2e") + ".example.com";
        var ns = Unique("crd-");
        await K("create", "namespace", ns);
        try
        {
            Assert.Equal(0, (await KIn(Definition(group), "apply", "-f", "-")).ExitCode);
            await K("wait", "--for=condition=Established", $"crd/crontabs.{group}", "--timeout=30s");
            await cluster.Eventually(async () => Assert.Matches($@"(?m)^crontabs\s+ct\s+{group.Replace(".", "\\.")}/v1\s+true\s+CronTab\s*$",
                await K("api-resources", "--api-group", group)), "the resource in api-resources", TimeSpan.FromSeconds(30));
            Assert.Contains("The schedule in cron format.", await K("explain", $"crontabs.{group}.spec.cronSpec"));

            Assert.Equal(0, (await KIn(CronTab(group, "nightly"), "apply", "-n", ns, "-f", "-")).ExitCode);
            var table = await K("get", "ct", "-n", ns);
            Assert.Matches(@"(?m)^NAME\s+SPEC\s+REPLICAS\s+AGE\s*$", table);
            Assert.Matches(@"(?m)^nightly\s+\* \* \* \* \*/5\s+1\s+\S+\s*$", table);
            Assert.Contains("nightly", await K("get", "all", "-n", ns));

            var watched = await K("get", "--raw", $"/apis/{group}/v1/namespaces/{ns}/crontabs?watch=true&timeoutSeconds=1");
            Assert.Contains("\"type\":\"ADDED\"", watched);
            Assert.Contains("\"name\":\"nightly\"", watched);

            await K("patch", $"crontabs.{group}", "nightly", "-n", ns, "--type=merge", "-p", """{"spec":{"image":"other"}}""");
            await K("scale", $"crontabs.{group}/nightly", "-n", ns, "--replicas=3");
            Assert.Equal("other 3", await K("get", "ct", "nightly", "-n", ns, "-o", "jsonpath={.spec.image} {.spec.replicas}"));

            var invalid = await KIn(CronTab(group, "toomany", "\n  replicas: 20\n  maxReplicas: 5"), "create", "-n", ns, "-f", "-");
            Assert.NotEqual(0, invalid.ExitCode);
            Assert.Contains("replicas must not exceed maxReplicas", invalid.Error);
            var unknown = await KIn(CronTab(group, "unknown", "\n  colour: red"), "create", "-n", ns, "-f", "-");
            Assert.NotEqual(0, unknown.ExitCode);
            Assert.Contains("unknown field \"spec.colour\"", unknown.Error);
            var strategic = await Run("patch", $"crontabs.{group}", "nightly", "-n", ns, "-p", """{"spec":{"image":"x"}}""");
            Assert.NotEqual(0, strategic.ExitCode);

            await K("delete", "crd", $"crontabs.{group}");
            Assert.Contains("doesn't have a resource type", (await Run("get", $"crontabs.{group}", "-n", ns)).Error);
            Assert.Equal(0, (await KIn(Definition(group), "apply", "-f", "-")).ExitCode);
            await K("wait", "--for=condition=Established", $"crd/crontabs.{group}", "--timeout=30s");
            Assert.Equal("", await K("get", $"crontabs.{group}", "-n", ns, "-o", "name"));
        }
        finally
        {
            await Run("delete", "crd", $"crontabs.{group}", "--ignore-not-found");
            await Run("delete", "namespace", ns, "--wait=false");
        }
    }
}
