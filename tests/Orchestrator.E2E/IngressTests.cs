using System.Net;
using System.Net.Http;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Xunit;
using Xunit.Abstractions;

namespace Orchestrator.E2E;

/// <summary>
/// Traffic from outside: two Deployments of the demo image behind one Ingress of class orchestrator, by host and by
/// path, over HTTP and HTTPS (a Secret's certificate, chosen by SNI; curl with --resolve), an Ingress changed under a
/// running request stream, a canary Ingress and an affinity cookie, and a LoadBalancer Service that gets an address of
/// the pool and answers on it.
/// </summary>
[TestCaseOrderer(StepOrderer.TypeName, StepOrderer.AssemblyName)]
[Collection(SharedClusterCollection.Name)]
public sealed class IngressTests(ClusterFixture cluster, ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly string Namespace = $"ing-{Guid.NewGuid():N}"[..12];
    private const string SecureHost = "secure.ingress.test";
    private static readonly int Http = ClusterFixture.IngressHttpPort;
    private static readonly int Https = ClusterFixture.IngressHttpsPort;
    private string CaFile => Path.Combine(cluster.StateDir, $"{Namespace}-tls.crt");

    public async Task InitializeAsync()
    {
        if ((await cluster.Kubectl("get", "namespace", Namespace)).ExitCode == 0) return;
        await Kubectl("create", "namespace", Namespace);
        foreach (var app in new[] { "alpha", "beta" })
        {
            await Apply($$"""
                apiVersion: apps/v1
                kind: Deployment
                metadata: { name: {{app}} }
                spec:
                  replicas: 2
                  selector: { matchLabels: { app: {{app}} } }
                  template:
                    metadata: { labels: { app: {{app}} } }
                    spec:
                      containers:
                      - name: web
                        image: katacoda/docker-http-server:latest
                        imagePullPolicy: IfNotPresent
                        ports: [{ containerPort: 80 }]
                ---
                apiVersion: v1
                kind: Service
                metadata: { name: {{app}} }
                spec:
                  selector: { app: {{app}} }
                  ports: [{ name: http, port: 80, targetPort: 80 }]
                """);
        }
        // the Secret's certificate: self-signed for the secure host, trusted by curl through --cacert
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={SecureHost}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(SecureHost);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(7));
        await File.WriteAllTextAsync(CaFile, certificate.ExportCertificatePem());
        var keyFile = Path.Combine(cluster.StateDir, $"{Namespace}-tls.key");
        await File.WriteAllTextAsync(keyFile, key.ExportPkcs8PrivateKeyPem());
        await Kubectl("-n", Namespace, "create", "secret", "tls", "secure-tls", "--cert", CaFile, "--key", keyFile);
        await Apply(IngressYaml(extraPath: false));
        await cluster.Eventually(async () =>
        {
            var ready = await Kubectl("-n", Namespace, "get", "deploy", "alpha", "beta", "-o", "jsonpath={.items[*].status.readyReplicas}");
            Assert.Equal("2 2", ready.Trim());
        }, "both Deployments ready");
    }

    // xUnit makes an instance per test: the namespace lives across the steps and the last one deletes it
    public Task DisposeAsync() => Task.CompletedTask;

    private static string IngressYaml(bool extraPath) => $$"""
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata:
          name: web
        spec:
          tls: [{ hosts: [{{SecureHost}}], secretName: secure-tls }]
          rules:
          - host: alpha.ingress.test
            http: { paths: [{ path: /, pathType: Prefix, backend: { service: { name: alpha, port: { name: http } } } }] }
          - host: beta.ingress.test
            http: { paths: [{ path: /, pathType: Prefix, backend: { service: { name: beta, port: { number: 80 } } } }] }
          - host: paths.ingress.test
            http:
              paths:
              - { path: /alpha, pathType: Prefix, backend: { service: { name: alpha, port: { number: 80 } } } }
              - { path: /beta, pathType: Prefix, backend: { service: { name: beta, port: { number: 80 } } } }
        {{(extraPath ? "      - { path: /extra, pathType: Exact, backend: { service: { name: beta, port: { number: 80 } } } }" : "")}}
          - host: {{SecureHost}}
            http: { paths: [{ path: /, pathType: Prefix, backend: { service: { name: beta, port: { number: 80 } } } }] }
        """;

    [Fact, Step(1)]
    public async Task The_default_IngressClass_is_orchestrator_and_the_Ingress_gets_the_node_address()
    {
        var isDefault = await Kubectl("get", "ingressclass", "orchestrator", "-o",
            "jsonpath={.spec.controller} {.metadata.annotations.ingressclass\\.kubernetes\\.io/is-default-class}");
        Assert.Equal("orchestrator.dev/ingress true", isDefault.Trim());
        Assert.Equal("orchestrator", (await Kubectl("-n", Namespace, "get", "ingress", "web", "-o", "jsonpath={.spec.ingressClassName}")).Trim());
        await cluster.Eventually(async () =>
        {
            var table = await Kubectl("-n", Namespace, "get", "ingress", "web");
            output.WriteLine(table);
            Assert.Contains("127.0.0.1", table);
        }, "the Ingress's ADDRESS");
    }

    [Fact, Step(2)]
    public async Task Hosts_and_paths_reach_their_deployments_over_http()
    {
        await cluster.Eventually(async () =>
        {
            Assert.StartsWith("alpha-", await Curl("alpha.ingress.test", "/"));
            Assert.StartsWith("beta-", await Curl("beta.ingress.test", "/anything"));
            Assert.StartsWith("alpha-", await Curl("paths.ingress.test", "/alpha/x"));
            Assert.StartsWith("beta-", await Curl("paths.ingress.test", "/beta"));
        }, "routes by host and path");
        var unmatched = await CurlRaw(["-s", "-o", "/dev/null", "-w", "%{http_code}", "--resolve", $"paths.ingress.test:{Http}:127.0.0.1",
            $"http://paths.ingress.test:{Http}/gamma"]);
        Assert.Equal("404", unmatched.Output.Trim());
    }

    [Fact, Step(3)]
    public async Task Https_serves_the_secrets_certificate_and_http_redirects_to_it()
    {
        await cluster.Eventually(async () =>
        {
            var result = await CurlRaw(["-sS", "--cacert", CaFile, "--resolve", $"{SecureHost}:{Https}:127.0.0.1", $"https://{SecureHost}:{Https}/"]);
            Assert.True(result.ExitCode == 0, result.ToString());
            Assert.Matches(DemoPage.HostPage, result.Output);
            Assert.Contains("host: beta-", result.Output);
        }, "HTTPS with the Secret's certificate");
        var redirect = await CurlRaw(["-s", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", "--resolve", $"{SecureHost}:{Http}:127.0.0.1",
            $"http://{SecureHost}:{Http}/p?q=1"]);
        Assert.Equal($"308 https://{SecureHost}:{Https}/p?q=1", redirect.Output.Trim());
    }

    [Fact, Step(4)]
    public async Task Changing_the_ingress_under_a_request_stream_loses_no_request()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var url = $"http://127.0.0.1:{Http}/";
        int ok = 0, failed = 0;
        var failures = new List<string>();
        using var stop = new CancellationTokenSource();
        var stream = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    using var request = new HttpRequestMessage(HttpMethod.Get, url);
                    request.Headers.Host = "alpha.ingress.test";
                    using var response = await http.SendAsync(request);
                    var body = await response.Content.ReadAsStringAsync();
                    if (response.StatusCode == HttpStatusCode.OK && body.Contains("host: alpha-")) Interlocked.Increment(ref ok);
                    else { Interlocked.Increment(ref failed); lock (failures) failures.Add($"{(int)response.StatusCode} {body}"); }
                }
                catch (Exception e) { Interlocked.Increment(ref failed); lock (failures) failures.Add(e.Message); }
            }
        });
        for (var i = 0; i < 6; i++)
        {
            await Apply(IngressYaml(extraPath: i % 2 == 0));
            await Task.Delay(500);
        }
        stop.Cancel();
        await stream;
        output.WriteLine($"request stream across 6 Ingress changes: {ok} answered, {failed} lost");
        Assert.True(failed == 0, string.Join("\n", failures.Take(5)));
        Assert.True(ok > 0);
    }

    [Fact, Step(5)]
    public async Task A_canary_takes_its_weight_an_affinity_cookie_sticks_and_unknown_annotations_are_warned_about()
    {
        var applied = await cluster.KubectlWithInput("""
            apiVersion: networking.k8s.io/v1
            kind: Ingress
            metadata:
              name: sticky
              annotations: { orchestrator.dev/affinity: cookie, orchestrator.dev/session-cookie-name: route, orchestrator.dev/not-a-thing: "x" }
            spec:
              rules:
              - host: sticky.ingress.test
                http: { paths: [{ path: /, pathType: Prefix, backend: { service: { name: alpha, port: { number: 80 } } } }] }
              - host: canary.ingress.test
                http: { paths: [{ path: /, pathType: Prefix, backend: { service: { name: alpha, port: { number: 80 } } } }] }
            ---
            apiVersion: networking.k8s.io/v1
            kind: Ingress
            metadata:
              name: sticky-canary
              annotations: { orchestrator.dev/canary: "true", orchestrator.dev/canary-weight: "100", orchestrator.dev/canary-by-header: X-Canary }
            spec:
              rules:
              - host: canary.ingress.test
                http: { paths: [{ path: /, pathType: Prefix, backend: { service: { name: beta, port: { number: 80 } } } }] }
            """, "-n", Namespace, "apply", "-f", "-");
        Assert.True(applied.ExitCode == 0, applied.ToString());
        Assert.Contains("Warning: metadata.annotations[orchestrator.dev/not-a-thing]: annotation orchestrator.dev/not-a-thing is not supported", applied.Error);

        await cluster.Eventually(async () =>
        {
            Assert.StartsWith("beta-", await Curl("canary.ingress.test", "/"));
            Assert.StartsWith("alpha-", await Curl("canary.ingress.test", "/", "X-Canary: never"));
        }, "the canary takes every request but those that say never");

        var first = await CurlRaw(["-sS", "-i", "--resolve", $"sticky.ingress.test:{Http}:127.0.0.1", $"http://sticky.ingress.test:{Http}/"]);
        var cookie = System.Text.RegularExpressions.Regex.Match(first.Output, @"(?mi)^set-cookie: (route=[^;\r\n]+)");
        Assert.True(cookie.Success, first.ToString());
        var pod = DemoPage.HostPage.Match(first.Output).Groups[1].Value;
        for (var i = 0; i < 6; i++) Assert.Equal(pod, await Curl("sticky.ingress.test", "/", $"Cookie: {cookie.Groups[1].Value}"));
    }

    [Fact, Step(6)]
    public async Task A_LoadBalancer_service_gets_a_pool_address_and_answers_on_it()
    {
        try { await LoadBalancerAnswers(); }
        finally { await cluster.Kubectl("delete", "namespace", Namespace, "--wait=false"); }
    }

    private async Task LoadBalancerAnswers()
    {
        await Kubectl("-n", Namespace, "expose", "deployment", "alpha", "--name", "alpha-lb", "--type", "LoadBalancer", "--port", "8080", "--target-port", "80");
        var ip = "";
        await cluster.Eventually(async () =>
        {
            ip = (await Kubectl("-n", Namespace, "get", "svc", "alpha-lb", "-o", "jsonpath={.status.loadBalancer.ingress[0].ip}")).Trim();
            Assert.StartsWith("127.0.101.", ip);
        }, "the LoadBalancer address");
        var table = await Kubectl("-n", Namespace, "get", "svc", "alpha-lb");
        output.WriteLine(table);
        Assert.Contains(ip, table.Split('\n')[1]);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        await cluster.Eventually(async () => Assert.StartsWith("alpha-", await DemoPage.ServedHost(http, $"http://{ip}:8080/")), "the LoadBalancer address answers");
    }

    // ---- helpers ----------------------------------------------------------------------------------------------

    private async Task<string> Curl(string host, string path, string? header = null)
    {
        var result = await CurlRaw(["-sS", "--resolve", $"{host}:{Http}:127.0.0.1", .. header is null ? Array.Empty<string>() : ["-H", header],
            $"http://{host}:{Http}{path}"]);
        var match = DemoPage.HostPage.Match(result.Output);
        Assert.True(match.Success, result.ToString());
        return match.Groups[1].Value;
    }

    private static Task<CommandResult> CurlRaw(string[] args) =>
        Command.Run("curl", ["--max-time", "10", .. args], new Dictionary<string, string>(), TimeSpan.FromSeconds(20));

    private async Task Apply(string yaml)
    {
        var result = await cluster.KubectlWithInput(yaml, "-n", Namespace, "apply", "-f", "-");
        Assert.True(result.ExitCode == 0, result.ToString());
    }

    private async Task<string> Kubectl(params string[] args)
    {
        var result = await cluster.Kubectl(args);
        Assert.True(result.ExitCode == 0, result.ToString());
        return result.Output;
    }
}
