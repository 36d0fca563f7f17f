using System.Net;
using System.Net.Http;
using System.Text;
using System.Text.Json.Nodes;
using Xunit;

namespace Orchestrator.E2E;

/// <summary>
/// Reads and watches on every master from its own replica of the store (docs/multi-master.md), on the three-master lab:
/// a client reads its write at once on the master it wrote through, watches and versioned reads on another master see
/// it, and with the leader cut off a follower still answers reads of any version (resourceVersion=0) from its replica
/// while a consistent read, which needs the leader's version, is refused with 504.
/// </summary>
[TestCaseOrderer(StepOrderer.TypeName, StepOrderer.AssemblyName)]
public sealed class MultiMasterReplicaTests(MultiMasterLabFixture lab) : IClassFixture<MultiMasterLabFixture>
{
    private readonly string _ns = "replica-" + Guid.NewGuid().ToString("N")[..6];

    private HttpClient Client(int master, int seconds = 20) => new(new HttpClientHandler
    {
        // the lab's CA signs every master's serving certificate; the test trusts the lab
        ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator,
    })
    {
        BaseAddress = MultiMasterLabFixture.Server(master),
        Timeout = TimeSpan.FromSeconds(seconds),
        DefaultRequestHeaders = { Authorization = new("Bearer", lab.Token) },
    };

    private static async Task<JsonNode> Json(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {body}");
        return JsonNode.Parse(body)!;
    }

    private static StringContent Body(string json) => new(json, Encoding.UTF8, "application/json");

    private async Task<string> Create(int master, string path, string json) =>
        (await Json(await Client(master).PostAsync(path, Body(json))))["metadata"]!["resourceVersion"]!.GetValue<string>();

    [Fact, Step(1)]
    public async Task A_write_through_a_follower_is_read_at_once_there_and_seen_by_the_other_masters()
    {
        for (var i = 1; i <= MultiMasterLabFixture.Masters; i++)
        {
            var master = i;
            await lab.Eventually(async () => Assert.Matches(@"(?m)^lab-node-1\s+Ready\s", await lab.Kubectl(master, "get", "nodes", "--no-headers")),
                $"master-{master} shows lab-node-1 Ready");
        }
        await Create(2, "/api/v1/namespaces", $$$"""{"metadata":{"name":"{{{_ns}}}"}}""");
        // read-your-writes on the master written through: no retry
        for (var i = 0; i < 10; i++)
        {
            var rv = await Create(2, $"/api/v1/namespaces/{_ns}/configmaps", $$$"""{"metadata":{"name":"cm-{{{i}}}"},"data":{"i":"{{{i}}}"}}""");
            var read = await Json(await Client(2).GetAsync($"/api/v1/namespaces/{_ns}/configmaps/cm-{i}"));
            Assert.Equal(rv, read["metadata"]!["resourceVersion"]!.GetValue<string>());
            // another master, at that version or later
            var other = await Json(await Client(3).GetAsync($"/api/v1/namespaces/{_ns}/configmaps/cm-{i}?resourceVersion={rv}"));
            Assert.Equal(rv, other["metadata"]!["resourceVersion"]!.GetValue<string>());
        }
        var list = await Json(await Client(3).GetAsync($"/api/v1/namespaces/{_ns}/configmaps"));
        // the namespace's kube-root-ca.crt is there too
        Assert.Equal(10, list["items"]!.AsArray().Count(i => i!["metadata"]!["name"]!.GetValue<string>().StartsWith("cm-", StringComparison.Ordinal)));
    }

    [Fact, Step(2)]
    public async Task A_watch_on_one_follower_sees_a_create_through_the_other()
    {
        var ns = _ns + "-w";
        var from = await Create(2, "/api/v1/namespaces", $$$"""{"metadata":{"name":"{{{ns}}}"}}""");
        using var watcher = Client(3, 60);
        using var response = await watcher.GetAsync($"/api/v1/namespaces/{ns}/configmaps?watch=1&resourceVersion={from}&timeoutSeconds=30",
            HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var rv = await Create(2, $"/api/v1/namespaces/{ns}/configmaps", """{"metadata":{"name":"watched"}}""");
        JsonNode change;
        do change = JsonNode.Parse((await reader.ReadLineAsync())!)!; // the namespace's kube-root-ca.crt may come first
        while (change["object"]!["metadata"]!["name"]!.GetValue<string>() != "watched");
        Assert.Equal("ADDED", change["type"]!.GetValue<string>());
        Assert.Equal(("watched", rv), (change["object"]!["metadata"]!["name"]!.GetValue<string>(),
            change["object"]!["metadata"]!["resourceVersion"]!.GetValue<string>()));
    }

    [Fact, Step(3)]
    public async Task With_the_leader_cut_off_a_follower_answers_reads_of_any_version_and_refuses_consistent_ones()
    {
        await Create(2, "/api/v1/namespaces", $$$"""{"metadata":{"name":"{{{_ns}}}-p"}}""");
        var pause = await lab.Lab("pause-master", "master-1");
        Assert.True(pause.ExitCode == 0, pause.ToString());
        try
        {
            var any = await Client(2).GetAsync($"/api/v1/namespaces/{_ns}-p?resourceVersion=0");
            Assert.Equal(HttpStatusCode.OK, any.StatusCode);
            var consistent = await Client(2).GetAsync($"/api/v1/namespaces/{_ns}-p");
            Assert.True(consistent.StatusCode is HttpStatusCode.GatewayTimeout or HttpStatusCode.ServiceUnavailable,
                $"{(int)consistent.StatusCode}: {await consistent.Content.ReadAsStringAsync()}");
        }
        finally
        {
            await lab.Lab("resume-master", "master-1");
        }
    }
}
