using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Xunit;
using Xunit.Abstractions;

namespace Orchestrator.E2E;

/// <summary>
/// The container images deploy/images/orchestrator.sh builds from the published binaries: the master's serves /version
/// (and keeps /metrics behind its token) on the host's network with its data in a mounted directory; the node's runs
/// and knows its flags. Ports 17443 and 17050 are used by no cluster the scripts start.
/// </summary>
public sealed class ContainerImageTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly string _container = $"orchestrator-image-smoke-{Guid.NewGuid().ToString("N")[..6]}";
    private readonly string _data = Directory.CreateTempSubdirectory("orchestrator-image-").FullName;
    private static readonly IReadOnlyDictionary<string, string> NoEnvironment = new Dictionary<string, string>();

    public async Task InitializeAsync()
    {
        var build = await Command.Run("bash", [Path.Combine(ClusterFixture.FindRepoRoot(), "deploy", "images", "orchestrator.sh")], NoEnvironment, TimeSpan.FromMinutes(15));
        output.WriteLine(build.ToString());
        Assert.True(build.ExitCode == 0, build.ToString());
    }

    public async Task DisposeAsync()
    {
        await Command.Run("docker", ["rm", "-f", _container], NoEnvironment, TimeSpan.FromMinutes(1));
        try { Directory.Delete(_data, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    [Fact]
    public async Task The_master_image_serves_version_and_the_node_image_runs()
    {
        var run = await Command.Run("docker", ["run", "-d", "--name", _container, "--network", "host", "-v", $"{_data}:/var/lib/orchestrator",
            "orchestrator/master:latest", "--api-port", "17443", "--cluster-port", "17050", "--log-format", "json"], NoEnvironment, TimeSpan.FromMinutes(1));
        Assert.True(run.ExitCode == 0, run.ToString());

        var ca = Path.Combine(_data, "master", "ca.crt");
        JsonNode? version = null;
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (version is null)
        {
            try
            {
                if (File.Exists(ca))
                {
                    using var http = Https(ca);
                    version = JsonNode.Parse(await http.GetStringAsync("https://127.0.0.1:17443/version"));
                    using var metrics = await http.GetAsync("https://127.0.0.1:17443/metrics");
                    Assert.Equal(HttpStatusCode.Unauthorized, metrics.StatusCode);
                }
            }
            // not serving yet, or too slow to answer while it starts on a loaded machine: ask again until the deadline
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { }
            if (version is null)
            {
                if (DateTime.UtcNow > deadline)
                {
                    var logs = await Command.Run("docker", ["logs", "--tail", "40", _container], NoEnvironment, TimeSpan.FromMinutes(1));
                    Assert.Fail($"the master's container did not serve /version within 90 s\n{logs}");
                }
                await Task.Delay(500);
            }
        }
        output.WriteLine(version.ToJsonString());
        Assert.StartsWith("v1.", (string?)version["gitVersion"]);
        var logLines = await Command.Run("docker", ["logs", _container], NoEnvironment, TimeSpan.FromMinutes(1));
        Assert.Contains("\"Category\":\"Akka\"", logLines.Output); // --log-format json, Akka's events included

        var node = await Command.Run("docker", ["run", "--rm", "orchestrator/node:latest", "--help"], NoEnvironment, TimeSpan.FromMinutes(1));
        Assert.True(node.ExitCode == 0, node.ToString());
        Assert.Contains("--cluster-cert", node.Output);
        var ip = await Command.Run("docker", ["run", "--rm", "--entrypoint", "ip", "orchestrator/node:latest", "-V"], NoEnvironment, TimeSpan.FromMinutes(1));
        Assert.True(ip.ExitCode == 0, ip.ToString()); // the node manages ClusterIP and DNS addresses with it
    }

    private static HttpClient Https(string caFile)
    {
        var ca = X509CertificateLoader.LoadCertificateFromFile(caFile);
        return new HttpClient(new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, certificate, chain, _) =>
            {
                if (certificate is null || chain is null) return false;
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(ca);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(certificate);
            },
        }) { Timeout = TimeSpan.FromSeconds(5) };
    }
}
