using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

namespace Orchestrator.Cli.Commands;

/// <summary>orchctl status: which processes run, and the nodes as the API reports them.</summary>
internal static class StatusCommand
{
    public static async Task<int> RunAsync(ClusterLayout layout, TextWriter stdout)
    {
        var master = layout.RunningPid("master");
        var node = layout.RunningPid("node");
        await stdout.WriteLineAsync($"master: {(master is null ? "not running" : $"running (pid {master}), API {layout.ApiUrl}")}");
        // deploy/up.sh's default runs both in one process (orchestrator-all-in-one): both pid files name it
        await stdout.WriteLineAsync($"node:   {(node is null ? "not running" : node == master ? $"running (pid {node}, the master's process)" : $"running (pid {node})")}");
        if (master is null) return 1;

        var tokenFile = Path.Combine(layout.StateDir, "master", "token");
        var caFile = Path.Combine(layout.StateDir, "master", "ca.crt");
        if (!File.Exists(tokenFile) || !File.Exists(caFile))
        {
            await stdout.WriteLineAsync("API:    credentials not written yet");
            return 1;
        }
        try
        {
            using var http = TrustingOnly(X509Certificate2.CreateFromPem(File.ReadAllText(caFile)));
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", File.ReadAllText(tokenFile).Trim());
            using var nodes = JsonDocument.Parse(await http.GetStringAsync($"{layout.ApiUrl}/api/v1/nodes"));
            foreach (var item in nodes.RootElement.GetProperty("items").EnumerateArray())
            {
                var name = item.GetProperty("metadata").GetProperty("name").GetString();
                var ready = item.GetProperty("status").GetProperty("conditions").EnumerateArray()
                    .FirstOrDefault(c => c.GetProperty("type").GetString() == "Ready");
                var status = ready.ValueKind == JsonValueKind.Undefined ? "Unknown"
                    : ready.GetProperty("status").GetString() == "True" ? "Ready" : "NotReady";
                await stdout.WriteLineAsync($"node {name}: {status}");
            }
            return 0;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException)
        {
            await stdout.WriteLineAsync($"API:    not answering ({e.Message})");
            return 1;
        }
    }

    // Trusts exactly the cluster's own CA, as the generated kubeconfig does.
    private static HttpClient TrustingOnly(X509Certificate2 ca)
    {
        var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, certificate, _, _) =>
            {
                if (certificate is null) return false;
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(ca);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(certificate);
            },
        };
        return new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(5) };
    }
}
