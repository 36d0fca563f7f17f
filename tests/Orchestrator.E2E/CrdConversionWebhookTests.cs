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
/// CRD conversion webhooks against a real cluster and kubectl 1.32: a real HTTPS conversion webhook (Kestrel in this
/// process; its self-signed certificate is the caBundle) converts Foos between v1 (<c>spec.color</c>, stored) and v2
/// (<c>spec.colour</c>). kubectl applies the two-version definition, creates objects in one version and
/// <c>kubectl get foos.VERSION.GROUP</c> shows them converted in the other; a webhook named by clientConfig.service is
/// reached through the node's kubelet and a relay pod, as in <see cref="AdmissionWebhookTests"/>. Each test has its own
/// group and namespace; everything is deleted at the end.
/// </summary>
[Collection(SharedClusterCollection.Name)]
public sealed class CrdConversionWebhookTests(ClusterFixture cluster, ITestOutputHelper output) : IAsyncLifetime
{
    private readonly string _suffix = Guid.NewGuid().ToString("N")[..6];
    private string Ns => "conversion-" + _suffix;
    private string Group => $"conv{_suffix}.example.com";
    private WebApplication _hook = null!;
    private string _pem = "";
    private int _port;
    private readonly ConcurrentQueue<string> _seen = new();

    public async Task InitializeAsync()
    {
        var (certificate, pem) = TestServingCertificate.Create("conversion-e2e", $"converter.{Ns}.svc", loopback: true);
        _pem = pem;
        var builder = WebApplication.CreateBuilder();
        builder.Logging.ClearProviders();
        // every address: the service-based test's relay pod reaches it at the node's address
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Any, 0, l => l.UseHttps(certificate)));
        _hook = builder.Build();
        _hook.MapPost("/convert", async (HttpContext context) =>
        {
            var review = (await JsonNode.ParseAsync(context.Request.Body))!.AsObject();
            var req = review["request"]!;
            var desired = req["desiredAPIVersion"]!.GetValue<string>();
            var converted = new JsonArray();
            foreach (var item in req["objects"]!.AsArray())
            {
                var obj = item!.DeepClone().AsObject();
                _seen.Enqueue($"{obj["apiVersion"]} -> {desired} {obj["metadata"]!["name"]}");
                obj["apiVersion"] = desired;
                var (from, to) = desired.EndsWith("/v2") ? ("color", "colour") : ("colour", "color");
                if (obj["spec"] is JsonObject spec && spec[from] is { } value)
                {
                    spec.Remove(from);
                    spec[to] = value.DeepClone();
                }
                converted.Add(obj);
            }
            return Results.Json(new JsonObject
            {
                ["apiVersion"] = "apiextensions.k8s.io/v1", ["kind"] = "ConversionReview",
                ["response"] = new JsonObject
                {
                    ["uid"] = req["uid"]!.GetValue<string>(), ["result"] = new JsonObject { ["status"] = "Success" }, ["convertedObjects"] = converted,
                },
            });
        });
        await _hook.StartAsync();
        _port = new Uri(_hook.Urls.First()).Port;
        await K("create", "namespace", Ns);
    }

    public async Task DisposeAsync()
    {
        await cluster.Kubectl("delete", "namespace", Ns, "--wait=false", "--ignore-not-found");
        await cluster.Kubectl("delete", "crd", $"foos.{Group}", "--wait=false", "--ignore-not-found");
        await _hook.DisposeAsync();
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

    /// <summary>The two-version definition, converted by the webhook at <paramref name="clientConfig"/> (JSON).</summary>
    private string Definition(string clientConfig) => """
        {"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"foos.GROUP"},
         "spec":{"group":"GROUP","scope":"Namespaced","names":{"plural":"foos","singular":"foo","kind":"Foo"},
           "conversion":{"strategy":"Webhook","webhook":{"conversionReviewVersions":["v1"],"clientConfig":CLIENT}},
           "versions":[
             {"name":"v1","served":true,"storage":true,"schema":{"openAPIV3Schema":{"type":"object","properties":{
               "spec":{"type":"object","properties":{"color":{"type":"string"}}}}}}},
             {"name":"v2","served":true,"storage":false,"schema":{"openAPIV3Schema":{"type":"object","properties":{
               "spec":{"type":"object","properties":{"colour":{"type":"string"}}}}}},
              "additionalPrinterColumns":[{"name":"Colour","type":"string","jsonPath":".spec.colour"}]}]}}
        """.Replace("GROUP", Group).Replace("CLIENT", clientConfig);

    private string Foo(string version, string name, string field, string value) => $$$"""
        {"apiVersion":"{{{Group}}}/{{{version}}}","kind":"Foo","metadata":{"name":"{{{name}}}","namespace":"{{{Ns}}}"},"spec":{"{{{field}}}":"{{{value}}}"}}
        """;

    private string CaBundle => Convert.ToBase64String(Encoding.UTF8.GetBytes(_pem));

    [Fact]
    public async Task Kubectl_gets_an_object_created_in_v1_as_v2_and_one_created_in_v2_as_v1()
    {
        await Apply(Definition($$$"""{"url":"https://127.0.0.1:{{{_port}}}/convert","caBundle":"{{{CaBundle}}}"}"""));
        await K("wait", "--for=condition=Established", $"crd/foos.{Group}", "--timeout=60s");
        await cluster.Eventually(async () => Assert.Equal(0, (await cluster.Kubectl("get", $"foos.v2.{Group}", "-n", Ns)).ExitCode),
            "the v2 resource is served", TimeSpan.FromSeconds(30));

        await Apply(Foo("v1", "old-style", "color", "red"));
        Assert.Equal($"{Group}/v2 red", await K("get", $"foos.v2.{Group}", "old-style", "-n", Ns, "-o", "jsonpath={.apiVersion} {.spec.colour}"));
        Assert.Contains($"{Group}/v1 -> {Group}/v2 old-style", _seen);

        await Apply(Foo("v2", "new-style", "colour", "blue"));
        Assert.Equal($"{Group}/v1 blue", await K("get", $"foos.v1.{Group}", "new-style", "-n", Ns, "-o", "jsonpath={.apiVersion} {.spec.color}"));

        // kubectl's preferred version is v2: the list is converted, its printer column reads v2's field
        var table = await K("get", $"foos.{Group}", "-n", Ns);
        Assert.Matches(@"old-style\s+red", table);
        Assert.Matches(@"new-style\s+blue", table);
    }

    [Fact]
    public async Task A_service_conversion_webhook_is_reached_through_the_kubelet_and_a_real_pod()
    {
        // on the host's network, so the relay reaches this process's server on loopback
        var relayPort = 20000 + Random.Shared.Next(20000);
        await Apply($$$"""
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"relay","namespace":"{{{Ns}}}","labels":{"app":"relay"}},
             "spec":{"hostNetwork":true,"containers":[{"name":"nc","image":"busybox:latest","imagePullPolicy":"IfNotPresent",
               "command":["nc","-lk","-p","{{{relayPort}}}","-e","nc","127.0.0.1","{{{_port}}}"],"ports":[{"containerPort":{{{relayPort}}}}]}]}}
            """);
        await Apply($$$"""
            {"apiVersion":"v1","kind":"Service","metadata":{"name":"converter","namespace":"{{{Ns}}}"},
             "spec":{"selector":{"app":"relay"},"ports":[{"port":443,"targetPort":{{{relayPort}}}}]}}
            """);
        await K("wait", "--for=condition=Ready", "pod/relay", "-n", Ns, "--timeout=90s");
        await Apply(Definition($$$"""{"service":{"name":"converter","namespace":"{{{Ns}}}","path":"/convert"},"caBundle":"{{{CaBundle}}}"}"""));
        await K("wait", "--for=condition=Established", $"crd/foos.{Group}", "--timeout=60s");
        Assert.Equal("443", await K("get", "crd", $"foos.{Group}", "-o", "jsonpath={.spec.conversion.webhook.clientConfig.service.port}"));

        await cluster.Eventually(async () =>
        {
            var created = await cluster.KubectlWithInput(Foo("v2", "through-service", "colour", "green"), "apply", "-f", "-");
            output.WriteLine(created.ToString());
            Assert.Equal(0, created.ExitCode);
        }, "a v2 object is converted through the service webhook", TimeSpan.FromSeconds(60));
        Assert.Equal($"{Group}/v1 green", await K("get", $"foos.v1.{Group}", "through-service", "-n", Ns, "-o", "jsonpath={.apiVersion} {.spec.color}"));
        Assert.Equal($"{Group}/v2 green", await K("get", $"foos.v2.{Group}", "through-service", "-n", Ns, "-o", "jsonpath={.apiVersion} {.spec.colour}"));
    }
}
