using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Xunit;
using Xunit.Abstractions;

namespace Orchestrator.E2E;

/// <summary>
/// Admission webhooks against a real cluster and kubectl 1.32: a real HTTPS webhook (Kestrel in this process on
/// 127.0.0.1, where the master runs; its self-signed certificate is the caBundle). A validating webhook denies a create
/// and kubectl prints kube's message; a mutating one adds a label; an unreachable webhook under failurePolicy Ignore lets
/// the create through; <c>kubectl get -o yaml</c> shows kube's defaults. A mutating webhook on pods labels the pods of a
/// <c>kubectl create deployment</c>, which the ReplicaSet controller creates (as kube-controller-manager's
/// replicaset-controller account). A webhook named by clientConfig.service is
/// reached through the node's kubelet to a real pod — a BusyBox <c>nc</c> relay on the host's network to this process's
/// server on loopback, so the TLS
/// the master speaks (to the name hook.NAMESPACE.svc) runs through the kubelet tunnel and the pod end to end. Every webhook is limited to this test's own
/// namespace by namespaceSelector, so the rest of the shared cluster never calls it; everything is deleted at the end.
/// </summary>
[Collection(SharedClusterCollection.Name)]
public sealed class AdmissionWebhookTests(ClusterFixture cluster, ITestOutputHelper output) : IAsyncLifetime
{
    private readonly string _suffix = Guid.NewGuid().ToString("N")[..6];
    private string Ns => "webhooks-" + _suffix;
    private WebApplication _hook = null!;
    private string _pem = "";
    private int _port;
    private readonly ConcurrentQueue<string> _seen = new();
    private readonly ConcurrentQueue<string> _users = new();

    public async Task InitializeAsync()
    {
        var (certificate, pem) = TestServingCertificate.Create("webhook-e2e", $"hook.{Ns}.svc", loopback: true);
        _pem = pem;
        var builder = WebApplication.CreateBuilder();
        builder.Logging.ClearProviders();
        // every address: the service-based test's relay pod reaches it at the node's address
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Any, 0, l => l.UseHttps(certificate)));
        _hook = builder.Build();
        _hook.MapPost("/{**path}", async (HttpContext context, string path) =>
        {
            var review = (await JsonNode.ParseAsync(context.Request.Body))!.AsObject();
            var req = review["request"]!;
            _seen.Enqueue($"{path} {req["operation"]} {req["name"]}");
            _users.Enqueue($"{path} {req["operation"]} {req["resource"]?["resource"]} {req["userInfo"]?["username"]}");
            var response = Answer(path, req);
            response["uid"] = req["uid"]!.GetValue<string>();
            return Results.Json(new JsonObject { ["apiVersion"] = "admission.k8s.io/v1", ["kind"] = "AdmissionReview", ["response"] = response });
        });
        await _hook.StartAsync();
        _port = new Uri(_hook.Urls.First()).Port;
        await K("create", "namespace", Ns);
    }

    public async Task DisposeAsync()
    {
        foreach (var kind in new[] { "validatingwebhookconfiguration", "mutatingwebhookconfiguration" })
            await cluster.Kubectl("delete", kind, "-l", $"e2e-webhooks={_suffix}", "--ignore-not-found");
        await cluster.Kubectl("delete", "namespace", Ns, "--wait=false", "--ignore-not-found");
        await _hook.DisposeAsync();
    }

    /// <summary>/deny refuses configmaps whose name starts with "bad"; /label adds the label mutated=yes.</summary>
    private static JsonObject Answer(string path, JsonNode request)
    {
        var name = request["name"]?.GetValue<string>() ?? "";
        if (path == "deny" && name.StartsWith("bad"))
            return new JsonObject { ["allowed"] = false, ["status"] = new JsonObject { ["code"] = 403, ["message"] = $"configmap {name} is not welcome here" } };
        if (path == "cluster-first" && request["object"]?["spec"]?["dnsPolicy"]?.GetValue<string>() != "ClusterFirst")
            return new JsonObject { ["allowed"] = false, ["status"] = new JsonObject { ["code"] = 403, ["message"] = "dnsPolicy must be ClusterFirst" } };
        if (path == "inject")
            return new JsonObject
            {
                ["allowed"] = true, ["patchType"] = "JSONPatch",
                ["patch"] = Convert.ToBase64String(Encoding.UTF8.GetBytes("""[{"op":"add","path":"/metadata/labels/injected","value":"yes"}]""")),
            };
        if (path == "label")
        {
            var patch = request["object"]?["metadata"]?["labels"] is null
                ? """[{"op":"add","path":"/metadata/labels","value":{"mutated":"yes"}}]"""
                : """[{"op":"add","path":"/metadata/labels/mutated","value":"yes"}]""";
            return new JsonObject { ["allowed"] = true, ["patchType"] = "JSONPatch", ["patch"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(patch)) };
        }
        return new JsonObject { ["allowed"] = true };
    }

    private async Task<string> K(params string[] args)
    {
        var result = await cluster.Kubectl(args);
        output.WriteLine($"$ kubectl {string.Join(' ', args)}\n{result.Output}{result.Error}");
        Assert.True(result.ExitCode == 0, $"kubectl {string.Join(' ', args)}: {result}\n{cluster.Logs()}");
        return result.Output;
    }

    private async Task Apply(string manifest)
    {
        var result = await cluster.KubectlWithInput(manifest, "apply", "-f", "-");
        output.WriteLine($"$ kubectl apply -f - <<EOF\n{manifest}\nEOF\n{result.Output}{result.Error}");
        Assert.True(result.ExitCode == 0, $"apply refused: {result}\n{cluster.Logs()}");
    }

    private string Configuration(string kind, string name, string url, string failurePolicy = "Fail") => $$$"""
        {"apiVersion":"admissionregistration.k8s.io/v1","kind":"{{{kind}}}",
         "metadata":{"name":"{{{name}}}-{{{_suffix}}}","labels":{"e2e-webhooks":"{{{_suffix}}}"}},
         "webhooks":[{"name":"{{{name}}}.example.com","sideEffects":"None","admissionReviewVersions":["v1"],"failurePolicy":"{{{failurePolicy}}}",
           "clientConfig":{"url":"{{{url}}}","caBundle":"{{{Convert.ToBase64String(Encoding.UTF8.GetBytes(_pem))}}}"},
           "namespaceSelector":{"matchLabels":{"kubernetes.io/metadata.name":"{{{Ns}}}"}},
           "rules":[{"operations":["CREATE","UPDATE"],"apiGroups":[""],"apiVersions":["v1"],"resources":["configmaps"]}]}]}
        """;

    [Fact]
    public async Task A_validating_webhook_denies_a_create_and_kubectl_prints_its_message()
    {
        await Apply(Configuration("ValidatingWebhookConfiguration", "deny", $"https://127.0.0.1:{_port}/deny"));
        var yaml = await K("get", "validatingwebhookconfiguration", $"deny-{_suffix}", "-o", "yaml");
        Assert.Contains("failurePolicy: Fail", yaml);
        Assert.Contains("matchPolicy: Equivalent", yaml);
        Assert.Contains("timeoutSeconds: 10", yaml);
        Assert.Contains("objectSelector: {}", yaml);
        Assert.Contains("scope: '*'", yaml);

        var refused = await cluster.Kubectl("create", "configmap", "bad-config", "-n", Ns, "--from-literal=a=b");
        output.WriteLine(refused.ToString());
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("admission webhook \"deny.example.com\" denied the request: configmap bad-config is not welcome here", refused.Error);
        Assert.NotEqual(0, (await cluster.Kubectl("get", "configmap", "bad-config", "-n", Ns)).ExitCode);
        await K("create", "configmap", "good-config", "-n", Ns, "--from-literal=a=b");
        Assert.Contains("deny CREATE good-config", _seen);
    }

    [Fact]
    public async Task A_mutating_webhook_adds_a_label()
    {
        await Apply(Configuration("MutatingWebhookConfiguration", "label", $"https://127.0.0.1:{_port}/label"));
        Assert.Contains("reinvocationPolicy: Never", await K("get", "mutatingwebhookconfiguration", $"label-{_suffix}", "-o", "yaml"));
        await K("create", "configmap", "labelled", "-n", Ns, "--from-literal=a=b");
        Assert.Equal("yes", await K("get", "configmap", "labelled", "-n", Ns, "-o", "jsonpath={.metadata.labels.mutated}"));
    }

    [Fact]
    public async Task A_service_webhook_is_reached_through_the_kubelet_and_a_real_pod()
    {
        // on the host's network, so the relay reaches this process's server on loopback
        var relayPort = 20000 + Random.Shared.Next(20000);
        await Apply($$$"""
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"relay","namespace":"{{{Ns}}}","labels":{"app":"relay"}},
             "spec":{"hostNetwork":true,"containers":[{"name":"nc","image":"busybox:latest","imagePullPolicy":"IfNotPresent",
               "command":["nc","-lk","-p","{{{relayPort}}}","-e","nc","127.0.0.1","{{{_port}}}"],"ports":[{"containerPort":{{{relayPort}}}}]}]}}
            """);
        await Apply($$$"""
            {"apiVersion":"v1","kind":"Service","metadata":{"name":"hook","namespace":"{{{Ns}}}"},
             "spec":{"selector":{"app":"relay"},"ports":[{"port":443,"targetPort":{{{relayPort}}}}]}}
            """);
        await K("wait", "--for=condition=Ready", "pod/relay", "-n", Ns, "--timeout=90s");
        var service = Configuration("ValidatingWebhookConfiguration", "svc", "unused")
            .Replace("\"url\":\"unused\"", $"\"service\":{{\"name\":\"hook\",\"namespace\":\"{Ns}\",\"path\":\"/deny\"}}");
        await Apply(service);
        await cluster.Eventually(async () =>
        {
            var refused = await cluster.Kubectl("create", "configmap", "bad-through-service", "-n", Ns, "--from-literal=a=b");
            output.WriteLine(refused.ToString());
            Assert.Contains("admission webhook \"svc.example.com\" denied the request: configmap bad-through-service is not welcome here", refused.Error);
        }, "the service-based webhook denies through the relay pod", TimeSpan.FromSeconds(60));
        await K("create", "configmap", "fine-through-service", "-n", Ns, "--from-literal=a=b");
    }

    [Fact]
    public async Task An_unreachable_webhook_under_failurePolicy_Ignore_lets_the_create_through()
    {
        await Apply(Configuration("ValidatingWebhookConfiguration", "gone", "https://127.0.0.1:1/gone", failurePolicy: "Ignore"));
        await K("create", "configmap", "passes", "-n", Ns, "--from-literal=a=b");
        Assert.Equal("passes", await K("get", "configmap", "passes", "-n", Ns, "-o", "jsonpath={.metadata.name}"));
    }

    [Fact]
    public async Task A_validating_webhook_sees_a_pods_defaults_as_kube_decodes_them()
    {
        var configuration = Configuration("ValidatingWebhookConfiguration", "cluster-first", $"https://127.0.0.1:{_port}/cluster-first")
            .Replace("\"resources\":[\"configmaps\"]", "\"resources\":[\"pods\"]");
        await Apply(configuration);
        // no dnsPolicy in the manifest: the webhook sees kube's default, ClusterFirst (a server-side dry run: nothing runs)
        const string pod = """{"apiVersion":"v1","kind":"Pod","metadata":{"name":"plain"},"spec":{"containers":[{"name":"c","image":"busybox:latest"}]}}""";
        // (Eventually: the namespace's default ServiceAccount, which admission requires, comes from its controller)
        await cluster.Eventually(async () =>
        {
            var admitted = await cluster.KubectlWithInput(pod, "create", "-n", Ns, "--dry-run=server", "-f", "-");
            output.WriteLine(admitted.ToString());
            Assert.True(admitted.ExitCode == 0, $"refused: {admitted}");
        }, "a pod that leaves dnsPolicy out is admitted", TimeSpan.FromSeconds(30));
        Assert.Contains("cluster-first CREATE plain", _seen);
        var refused = await cluster.KubectlWithInput(pod.Replace("\"containers\"", "\"dnsPolicy\":\"Default\",\"containers\""),
            "create", "-n", Ns, "--dry-run=server", "-f", "-");
        output.WriteLine(refused.ToString());
        Assert.Contains("admission webhook \"cluster-first.example.com\" denied the request: dnsPolicy must be ClusterFirst", refused.Error);
    }

    [Fact]
    public async Task A_mutating_webhook_labels_the_pods_of_kubectl_create_deployment()
    {
        var configuration = Configuration("MutatingWebhookConfiguration", "inject", $"https://127.0.0.1:{_port}/inject")
            .Replace("\"operations\":[\"CREATE\",\"UPDATE\"]", "\"operations\":[\"CREATE\"]").Replace("\"resources\":[\"configmaps\"]", "\"resources\":[\"pods\"]");
        await Apply(configuration);
        await K("create", "deployment", "injected", "-n", Ns, "--image=busybox:latest", "--replicas=2", "--", "sleep", "3600");
        await cluster.Eventually(async () =>
        {
            var labels = await K("get", "pods", "-n", Ns, "-l", "app=injected", "-o", "jsonpath={.items[*].metadata.labels.injected}");
            Assert.Equal("yes yes", labels.Trim());
        }, "the deployment's pods carry the webhook's label", TimeSpan.FromSeconds(60));
        Assert.Contains("inject CREATE pods system:serviceaccount:kube-system:replicaset-controller", _users);
    }
}
