using System.Diagnostics;
using Xunit;

namespace Orchestrator.Master.Tests.Api;

/// <summary>One HTTPS API server (real store, in-memory journal) that the kubectl tests share.</summary>
public sealed class KubectlFixture : IAsyncLifetime
{
    internal ApiTestServer Server { get; private set; } = null!;
    public string Kubeconfig { get; private set; } = null!;
    public string WorkDirectory { get; } = Directory.CreateTempSubdirectory("kubectl-test-").FullName;

    public async Task InitializeAsync()
    {
        Server = await ApiTestServer.StartAsync(https: true);
        Kubeconfig = Server.WriteKubeconfig();
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        Directory.Delete(WorkDirectory, recursive: true);
    }
}

/// <summary>
/// kubectl 1.32 against the API, the way the tutorials use it: default (strict) validation, protobuf bodies,
/// the scale subresource, server-side tables, waiting deletes, and errors carrying the server's message.
/// Does nothing where kubectl is not installed (the E2E suite requires it).
/// </summary>
public sealed class KubectlCompatibilityTests(KubectlFixture fixture) : IClassFixture<KubectlFixture>
{
    private const string Kubectl = "/usr/bin/kubectl";

    private async Task<(int Exit, string Out, string Err)> Run(params string[] args)
    {
        var start = new ProcessStartInfo(Kubectl)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = fixture.WorkDirectory,
        };
        foreach (var a in new[] { "--kubeconfig", fixture.Kubeconfig, "--cache-dir", Path.Combine(fixture.WorkDirectory, "cache") }.Concat(args))
            start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    private string Manifest(string name, string text)
    {
        var path = Path.Combine(fixture.WorkDirectory, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static string DeploymentYaml(string name, string extraSpec = "") => $"""
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: {name}
        spec:
          replicas: 1{extraSpec}
          selector:
            matchLabels:
              app: {name}
          template:
            metadata:
              labels:
                app: {name}
            spec:
              containers:
              - name: {name}
                image: katacoda/docker-http-server:latest
                ports:
                - containerPort: 80
        """;

    [Fact]
    public async Task Create_from_file_with_default_validation_then_get_and_describe()
    {
        Assert.True(File.Exists(Kubectl), $"kubectl is required at {Kubectl}");
        var created = await Run("create", "-f", Manifest("webapp1.yaml", DeploymentYaml("webapp1")));
        Assert.True(created.Exit == 0, created.Err);
        var service = await Run("create", "-f", Manifest("svc.yaml", """
            apiVersion: v1
            kind: Service
            metadata:
              name: webapp1-svc
            spec:
              type: NodePort
              ports:
              - port: 80
                nodePort: 30080
              selector:
                app: webapp1
            """));
        Assert.True(service.Exit == 0, service.Err);

        var get = await Run("get", "deployment", "webapp1");
        Assert.Matches(@"NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE", get.Out);
        Assert.Matches(@"webapp1\s+0/1\s+0\s+0\s+\d+s", get.Out);
        Assert.Contains("80:30080/TCP", (await Run("get", "svc", "webapp1-svc")).Out);
        var describe = await Run("describe", "deployment", "webapp1");
        Assert.True(describe.Exit == 0, describe.Err);
        Assert.Contains("Selector:", describe.Out);
    }

    [Fact]
    public async Task Create_deployment_sends_protobuf_then_scale_and_expose()
    {
        Assert.True(File.Exists(Kubectl), $"kubectl is required at {Kubectl}");
        var created = await Run("create", "deployment", "http", "--image=katacoda/docker-http-server:latest");
        Assert.True(created.Exit == 0, created.Err);
        var scaled = await Run("scale", "deployment", "http", "--replicas=3");
        Assert.True(scaled.Exit == 0, scaled.Err);
        Assert.Equal("3", (await Run("get", "deployment", "http", "-o", "jsonpath={.spec.replicas}")).Out);
        var exposed = await Run("expose", "deployment", "http", "--external-ip=127.0.0.50", "--port=8000", "--target-port=80");
        Assert.True(exposed.Exit == 0, exposed.Err);
        Assert.Matches(@"http\s+ClusterIP\s+\S+\s+127\.0\.0\.50\s+8000/TCP", (await Run("get", "svc", "http")).Out);
    }

    [Fact]
    public async Task Delete_waits_for_the_object_to_go()
    {
        Assert.True(File.Exists(Kubectl), $"kubectl is required at {Kubectl}");
        await Run("create", "-f", Manifest("gone.yaml", DeploymentYaml("gone")));
        var deleted = await Run("delete", "deployment", "gone");
        Assert.True(deleted.Exit == 0, deleted.Err);
        Assert.Contains("NotFound", (await Run("get", "deployment", "gone")).Err);
    }

    [Fact]
    public async Task Bad_input_shows_the_reason_and_stores_nothing()
    {
        Assert.True(File.Exists(Kubectl), $"kubectl is required at {Kubectl}");
        var unknownField = await Run("create", "-f", Manifest("field.yaml", DeploymentYaml("badfield", "\n  foo: bar")));
        Assert.Contains("strict decoding error: unknown field \"spec.foo\"", unknownField.Err);
        var badName = await Run("create", "-f", Manifest("name.yaml", DeploymentYaml("Bad_Name")));
        Assert.Contains("The Deployment \"Bad_Name\" is invalid", badName.Err);
        var unknownKind = await Run("create", "-f", Manifest("kind.yaml", DeploymentYaml("x").Replace("kind: Deployment", "kind: Deploymentz")));
        Assert.Contains("no matches for kind \"Deploymentz\"", unknownKind.Err);
        Assert.DoesNotContain("badfield", (await Run("get", "deployments")).Out);
    }

    [Fact]
    public async Task Explain_reads_the_OpenAPI_v3_schemas()
    {
        var explain = await Run("explain", "deployment.spec");
        Assert.True(explain.Exit == 0, explain.Err);
        Assert.Contains("GROUP:      apps", explain.Out);
        Assert.Contains("FIELD: spec <DeploymentSpec>", explain.Out);
        Assert.Matches(@"replicas\s+<integer>", explain.Out);
        Assert.Matches(@"template\s+<PodTemplateSpec>", explain.Out);
        Assert.Contains("Number of desired pods", explain.Out);
        var deep = await Run("explain", "deployment.spec.template.spec.containers.ports");
        Assert.True(deep.Exit == 0, deep.Err);
        Assert.Matches(@"containerPort\s+<integer>", deep.Out);
    }

    [Theory]
    [InlineData("client", "apply-csa")]
    [InlineData("server", "apply-ssa")]
    public async Task Apply_twice_is_a_no_op_and_changes_and_removals_land(string mode, string name)
    {
        string[] Apply(string file) => mode == "server"
            ? ["apply", "--server-side", "-f", file]
            : ["apply", "-f", file];
        var withEnv = DeploymentYaml(name).Replace("        - containerPort: 80", "        - containerPort: 80\n        env:\n        - name: MODE\n          value: one")
            .Replace("  replicas: 1", "  replicas: 2\n  minReadySeconds: 5");
        var first = await Run(Apply(Manifest(name + "-1.yaml", withEnv)));
        Assert.True(first.Exit == 0, first.Err);
        Assert.Contains($"deployment.apps/{name} {(mode == "server" ? "serverside-applied" : "created")}", first.Out);
        var version = (await Run("get", "deployment", name, "-o", "jsonpath={.metadata.resourceVersion}")).Out;

        var again = await Run(Apply(Manifest(name + "-1.yaml", withEnv)));
        Assert.True(again.Exit == 0, again.Err);
        Assert.Contains(mode == "server" ? "serverside-applied" : "unchanged", again.Out);
        Assert.Equal(version, (await Run("get", "deployment", name, "-o", "jsonpath={.metadata.resourceVersion}")).Out);

        // replicas changed, minReadySeconds and the env list removed from the configuration.
        var changed = await Run(Apply(Manifest(name + "-2.yaml", DeploymentYaml(name).Replace("  replicas: 1", "  replicas: 3"))));
        Assert.True(changed.Exit == 0, changed.Err);
        var json = (await Run("get", "deployment", name, "-o", "json")).Out;
        var spec = System.Text.Json.Nodes.JsonNode.Parse(json)!["spec"]!;
        Assert.Equal(3, spec["replicas"]!.GetValue<int>());
        Assert.Null(spec["minReadySeconds"]);
        Assert.Null(spec["template"]!["spec"]!["containers"]![0]!["env"]);
    }

    [Fact]
    public async Task Server_side_apply_conflicts_with_the_creator_until_forced()
    {
        var created = await Run("create", "-f", Manifest("ssa-conflict.yaml", DeploymentYaml("ssa-conflict")));
        Assert.True(created.Exit == 0, created.Err);
        var conflicting = Manifest("ssa-conflict-3.yaml", DeploymentYaml("ssa-conflict").Replace("  replicas: 1", "  replicas: 3"));

        var refused = await Run("apply", "--server-side", "-f", conflicting);
        Assert.NotEqual(0, refused.Exit);
        Assert.Contains("Apply failed with 1 conflict: conflict with \"kubectl-create\" using apps/v1: .spec.replicas", refused.Err);
        Assert.Equal("1", (await Run("get", "deployment", "ssa-conflict", "-o", "jsonpath={.spec.replicas}")).Out);

        // The same values as the creator's: shared, no conflict.
        var same = await Run("apply", "--server-side", "-f", Manifest("ssa-conflict-1.yaml", DeploymentYaml("ssa-conflict")));
        Assert.True(same.Exit == 0, same.Err);

        var forced = await Run("apply", "--server-side", "--force-conflicts", "-f", conflicting);
        Assert.True(forced.Exit == 0, forced.Err);
        Assert.Equal("3", (await Run("get", "deployment", "ssa-conflict", "-o", "jsonpath={.spec.replicas}")).Out);
        var owners = (await Run("get", "deployment", "ssa-conflict", "--show-managed-fields", "-o",
            "jsonpath={.metadata.managedFields[?(@.manager==\"kubectl-create\")].fieldsV1.f:spec}")).Out;
        Assert.DoesNotContain("f:replicas", owners);
    }

    [Fact]
    public async Task Server_side_apply_after_client_side_apply_takes_over_its_fields()
    {
        var first = await Run("apply", "-f", Manifest("csa-to-ssa.yaml", DeploymentYaml("csa-to-ssa")));
        Assert.True(first.Exit == 0, first.Err);
        // kubectl moves the client-side applier's fields to its server-side manager first (csaupgrade): no conflict.
        var upgraded = await Run("apply", "--server-side", "-f",
            Manifest("csa-to-ssa-3.yaml", DeploymentYaml("csa-to-ssa").Replace("  replicas: 1", "  replicas: 3")));
        Assert.True(upgraded.Exit == 0, upgraded.Err);
        Assert.Equal("3", (await Run("get", "deployment", "csa-to-ssa", "-o", "jsonpath={.spec.replicas}")).Out);
    }

    [Fact]
    public async Task Delete_with_cascade_orphan_reaches_the_store()
    {
        await Run("create", "-f", Manifest("orph.yaml", DeploymentYaml("orph")));
        var uid = (await Run("get", "deploy", "orph", "-o", "jsonpath={.metadata.uid}")).Out;
        var rs = await Run("create", "-f", Manifest("orph-rs.yaml", $"""
            apiVersion: apps/v1
            kind: ReplicaSet
            metadata:
              name: orph-rs
              ownerReferences:
              - apiVersion: apps/v1
                kind: Deployment
                name: orph
                uid: {uid}
                controller: true
            spec:
              replicas: 0
              selector:
                matchLabels:
                  app: orph
              template:
                metadata:
                  labels:
                    app: orph
                spec:
                  containers:
                  - name: web
                    image: katacoda/docker-http-server:latest
            """));
        Assert.True(rs.Exit == 0, rs.Err);
        var deleted = await Run("delete", "deploy", "orph", "--cascade=orphan", "-v=8");
        Assert.True(deleted.Exit == 0, deleted.Err);
        Assert.Equal("", (await Run("get", "rs", "orph-rs", "-o", "jsonpath={.metadata.ownerReferences}")).Out);
    }
}
