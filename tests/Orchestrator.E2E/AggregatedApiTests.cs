using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Logging;
using Xunit;
using Xunit.Abstractions;

namespace Orchestrator.E2E;

/// <summary>
/// The aggregation layer against a real cluster and kubectl 1.32: an extension API server (Kestrel in this process, HTTPS
/// with a certificate for ext.NAMESPACE.svc, its PEM the APIService's caBundle) that, as sample-apiserver, requires a
/// client certificate chaining to the requestheader CA of kube-system/extension-apiserver-authentication with an allowed
/// name and reads the user from X-Remote-User. The APIService's Service selects a BusyBox <c>nc</c> relay pod on the
/// host's network that forwards to this process on loopback, so the master reaches it through the node's kubelet
/// (port-forward) and TLS runs end to end. <c>kubectl get apiservices</c> shows it Available; <c>kubectl get --raw</c>
/// and <c>kubectl get flunders</c> (its resource, from aggregated discovery) reach the extension server.
/// </summary>
[Collection(SharedClusterCollection.Name)]
public sealed class AggregatedApiTests(ClusterFixture cluster, ITestOutputHelper output) : IAsyncLifetime
{
    private readonly string _suffix = Guid.NewGuid().ToString("N")[..6];
    private string Ns => "aggregated-" + _suffix;
    private string Group => $"e2e{_suffix}.example.com";
    private string ApiService => "v1alpha1." + Group;
    private WebApplication _server = null!;
    private string _pem = "";
    private int _port;
    private readonly ConcurrentQueue<string> _users = new();

    public async Task InitializeAsync()
    {
        await K("create", "namespace", Ns);
        var requestHeaderCa = await K("get", "configmap", "extension-apiserver-authentication", "-n", "kube-system",
            "-o", "jsonpath={.data.requestheader-client-ca-file}");
        var allowed = JsonNode.Parse(await K("get", "configmap", "extension-apiserver-authentication", "-n", "kube-system",
            "-o", "jsonpath={.data.requestheader-allowed-names}"))!.AsArray().Select(n => n!.GetValue<string>()).ToList();
        var trusted = new X509Certificate2Collection();
        trusted.ImportFromPem(requestHeaderCa);

        var (certificate, pem) = TestServingCertificate.Create("ext", $"ext.{Ns}.svc", loopback: false);
        _pem = pem;
        var builder = WebApplication.CreateBuilder();
        builder.Logging.ClearProviders();
        // every address: the relay pod reaches it at the node's address
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Any, 0, l => l.UseHttps(new HttpsConnectionAdapterOptions
        {
            ServerCertificate = certificate,
            ClientCertificateMode = ClientCertificateMode.RequireCertificate,
            ClientCertificateValidation = (client, _, _) =>
            {
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.AddRange(trusted);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(client) && allowed.Contains(client.GetNameInfo(X509NameType.SimpleName, false));
            },
        })));
        _server = builder.Build();
        _server.Run(Serve);
        await _server.StartAsync();
        _port = new Uri(_server.Urls.First()).Port;
    }

    public async Task DisposeAsync()
    {
        await cluster.Kubectl("delete", "apiservice", ApiService, "--ignore-not-found");
        await cluster.Kubectl("delete", "namespace", Ns, "--wait=false", "--ignore-not-found");
        await _server.DisposeAsync();
    }

    /// <summary>Discovery of the group version (flunders, namespaced) and a list of one flunder annotated with the user.</summary>
    private async Task Serve(HttpContext context)
    {
        var user = context.Request.Headers["X-Remote-User"].ToString();
        var path = context.Request.Path.Value ?? "";
        _users.Enqueue($"{path} {user}");
        JsonObject body;
        if (path == $"/apis/{Group}/v1alpha1")
            body = new JsonObject
            {
                ["kind"] = "APIResourceList", ["apiVersion"] = "v1", ["groupVersion"] = $"{Group}/v1alpha1",
                ["resources"] = new JsonArray(new JsonObject
                {
                    ["name"] = "flunders", ["singularName"] = "flunder", ["namespaced"] = true, ["kind"] = "Flunder",
                    ["verbs"] = new JsonArray("get", "list"),
                }),
            };
        else if (path == $"/apis/{Group}/v1alpha1/namespaces/{Ns}/flunders")
            body = new JsonObject
            {
                ["apiVersion"] = $"{Group}/v1alpha1", ["kind"] = "FlunderList", ["metadata"] = new JsonObject { ["resourceVersion"] = "1" },
                ["items"] = new JsonArray(new JsonObject
                {
                    ["apiVersion"] = $"{Group}/v1alpha1", ["kind"] = "Flunder",
                    ["metadata"] = new JsonObject
                    {
                        ["name"] = "from-the-extension-server", ["namespace"] = Ns, ["creationTimestamp"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ"),
                        ["annotations"] = new JsonObject { ["seen-as"] = user },
                    },
                }),
            };
        else
        {
            context.Response.StatusCode = 404;
            return;
        }
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString(), Encoding.UTF8);
    }

    [Fact]
    public async Task An_extension_api_server_behind_a_service_is_available_and_kubectl_reaches_it()
    {
        var relayPort = 20000 + Random.Shared.Next(20000);
        await Apply($$$"""
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"relay","namespace":"{{{Ns}}}","labels":{"app":"relay"}},
             "spec":{"hostNetwork":true,"containers":[{"name":"nc","image":"busybox:latest","imagePullPolicy":"IfNotPresent",
               "command":["nc","-lk","-p","{{{relayPort}}}","-e","nc","127.0.0.1","{{{_port}}}"],"ports":[{"containerPort":{{{relayPort}}}}]}]}}
            """);
        await Apply($$$"""
            {"apiVersion":"v1","kind":"Service","metadata":{"name":"ext","namespace":"{{{Ns}}}"},
             "spec":{"selector":{"app":"relay"},"ports":[{"name":"https","port":443,"targetPort":{{{relayPort}}}}]}}
            """);
        await K("wait", "--for=condition=Ready", "pod/relay", "-n", Ns, "--timeout=90s");
        await Apply($$$"""
            {"apiVersion":"apiregistration.k8s.io/v1","kind":"APIService","metadata":{"name":"{{{ApiService}}}"},
             "spec":{"group":"{{{Group}}}","version":"v1alpha1","groupPriorityMinimum":1000,"versionPriority":15,
               "service":{"name":"ext","namespace":"{{{Ns}}}"},"caBundle":"{{{Convert.ToBase64String(Encoding.UTF8.GetBytes(_pem))}}}"}}
            """);
        await cluster.Eventually(async () =>
            Assert.Matches($@"(?m)^{ApiService.Replace(".", @"\.")}\s+{Ns}/ext\s+True\s+\d+s", await K("get", "apiservices", ApiService)),
            "the APIService is Available", TimeSpan.FromSeconds(90));

        var raw = JsonNode.Parse(await K("get", "--raw", $"/apis/{Group}/v1alpha1/namespaces/{Ns}/flunders"))!;
        Assert.Equal("from-the-extension-server", raw["items"]![0]!["metadata"]!["name"]!.GetValue<string>());
        var user = raw["items"]![0]!["metadata"]!["annotations"]!["seen-as"]!.GetValue<string>();
        Assert.False(string.IsNullOrEmpty(user), "the extension server read the user from X-Remote-User");
        Assert.DoesNotContain(_users, u => u.EndsWith(' ')); // every request came with a user

        Assert.Contains($"flunders", await K("api-resources", "--api-group", Group));
        await cluster.Eventually(async () =>
            Assert.Contains("from-the-extension-server", await K("get", "flunders", "-n", Ns)), "kubectl get flunders", TimeSpan.FromSeconds(30));
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
}
