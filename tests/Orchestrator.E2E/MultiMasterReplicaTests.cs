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
/// Steps 5 to 9 of <see cref="MultiMasterLabTests"/> (this file is a part of that class): they run on its lab after its
/// drills, which need a lab whose first master holds the control plane and whose masters were never cut off; its last
/// drill restarts every master in order, so master-1 holds the control plane again when these begin (one lab start
/// for both, about 25 s of CI's run, instead of one each). They use namespaces of their own.
/// </summary>
public sealed partial class MultiMasterLabTests
{
    private readonly string _ns = "replica-" + Guid.NewGuid().ToString("N")[..6];

    private HttpClient ReplicaClient(int master, int seconds = 20) => new(new HttpClientHandler
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
        (await Json(await ReplicaClient(master).PostAsync(path, Body(json))))["metadata"]!["resourceVersion"]!.GetValue<string>();

    [Fact, Step(5)]
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
            var read = await Json(await ReplicaClient(2).GetAsync($"/api/v1/namespaces/{_ns}/configmaps/cm-{i}"));
            Assert.Equal(rv, read["metadata"]!["resourceVersion"]!.GetValue<string>());
            // another master, at that version or later
            var other = await Json(await ReplicaClient(3).GetAsync($"/api/v1/namespaces/{_ns}/configmaps/cm-{i}?resourceVersion={rv}"));
            Assert.Equal(rv, other["metadata"]!["resourceVersion"]!.GetValue<string>());
        }
        var list = await Json(await ReplicaClient(3).GetAsync($"/api/v1/namespaces/{_ns}/configmaps"));
        // the namespace's kube-root-ca.crt is there too
        Assert.Equal(10, list["items"]!.AsArray().Count(i => i!["metadata"]!["name"]!.GetValue<string>().StartsWith("cm-", StringComparison.Ordinal)));
    }

    [Fact, Step(6)]
    public async Task A_watch_on_one_follower_sees_a_create_through_the_other()
    {
        var ns = _ns + "-w";
        var from = await Create(2, "/api/v1/namespaces", $$$"""{"metadata":{"name":"{{{ns}}}"}}""");
        using var watcher = ReplicaClient(3, 60);
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

    /// <summary>The custom resources' namespace and group, one for the run (xunit makes an instance per test).</summary>
    private static readonly string CustomNs = "replica-cr-" + Guid.NewGuid().ToString("N")[..6];
    private static string Group => $"{CustomNs}.example.com";

    [Fact, Step(7)]
    public async Task A_custom_resource_defined_through_a_follower_is_read_there_at_once()
    {
        var ns = CustomNs;
        await Create(2, "/api/v1/namespaces", $$$"""{"metadata":{"name":"{{{ns}}}"}}""");
        await Create(2, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", """
            {"metadata":{"name":"widgets.GROUP"},
             "spec":{"group":"GROUP","scope":"Namespaced","names":{"plural":"widgets","singular":"widget","kind":"Widget"},
               "versions":[{"name":"v1","served":true,"storage":true,
                 "schema":{"openAPIV3Schema":{"type":"object","properties":{"spec":{"type":"object","properties":{"size":{"type":"integer"}}}}}},
                 "additionalPrinterColumns":[{"name":"Size","type":"integer","jsonPath":".spec.size"}]}]}}
            """.Replace("GROUP", Group));
        // described on this follower once the create returned: a list is answered at once, from its replica
        var empty = await Json(await ReplicaClient(2).GetAsync($"/apis/{Group}/v1/namespaces/{ns}/widgets"));
        Assert.Equal("WidgetList", empty["kind"]!.GetValue<string>());
        // the leader serves the resource once its controller established it
        string rv = "";
        await lab.Eventually(async () => rv = await Create(2, $"/apis/{Group}/v1/namespaces/{ns}/widgets",
            $$$"""{"apiVersion":"{{{Group}}}/v1","kind":"Widget","metadata":{"name":"w1"},"spec":{"size":3}}"""), "a Widget is created");
        var read = await Json(await ReplicaClient(2).GetAsync($"/apis/{Group}/v1/namespaces/{ns}/widgets/w1"));
        Assert.Equal(rv, read["metadata"]!["resourceVersion"]!.GetValue<string>());
        using var table = new HttpRequestMessage(HttpMethod.Get, $"/apis/{Group}/v1/namespaces/{ns}/widgets?resourceVersion={rv}");
        table.Headers.Accept.ParseAdd("application/json;as=Table;v=v1;g=meta.k8s.io");
        var rows = await Json(await ReplicaClient(3).SendAsync(table));
        Assert.Equal(["Name", "Size"], rows["columnDefinitions"]!.AsArray().Select(c => c!["name"]!.GetValue<string>()));
        Assert.Equal(3, rows["rows"]![0]!["cells"]![1]!.GetValue<int>());
    }

    [Fact, Step(8)]
    public async Task A_continue_token_from_one_master_gives_the_next_page_on_another()
    {
        var ns = _ns + "-page";
        await Create(2, "/api/v1/namespaces", $$$"""{"metadata":{"name":"{{{ns}}}"}}""");
        foreach (var name in new[] { "a", "b", "c", "d", "e" })
            await Create(2, $"/api/v1/namespaces/{ns}/configmaps", $$$"""{"metadata":{"name":"{{{name}}}"}}""");
        var selector = "fieldSelector=" + Uri.EscapeDataString("metadata.name!=kube-root-ca.crt");
        var first = await Json(await ReplicaClient(2).GetAsync($"/api/v1/namespaces/{ns}/configmaps?limit=2&{selector}"));
        var version = first["metadata"]!["resourceVersion"]!.GetValue<string>();
        // a write before the token's key: the rest of the list is the same
        await Create(2, $"/api/v1/namespaces/{ns}/configmaps", """{"metadata":{"name":"a0"}}""");
        var token = Uri.EscapeDataString(first["metadata"]!["continue"]!.GetValue<string>());
        var second = await Json(await ReplicaClient(3).GetAsync($"/api/v1/namespaces/{ns}/configmaps?limit=2&{selector}&continue={token}"));
        Assert.Equal(["c", "d"], second["items"]!.AsArray().Select(i => i!["metadata"]!["name"]!.GetValue<string>()));
        Assert.Equal(version, second["metadata"]!["resourceVersion"]!.GetValue<string>());
        // and on the leader
        token = Uri.EscapeDataString(second["metadata"]!["continue"]!.GetValue<string>());
        var third = await Json(await ReplicaClient(1).GetAsync($"/api/v1/namespaces/{ns}/configmaps?limit=2&{selector}&continue={token}"));
        Assert.Equal(["e"], third["items"]!.AsArray().Select(i => i!["metadata"]!["name"]!.GetValue<string>()));
        // a change from the key on: another master cannot give that list's rest — 410 Expired, never another list's page
        await Create(2, $"/api/v1/namespaces/{ns}/configmaps", """{"metadata":{"name":"dd"}}""");
        var gone = await ReplicaClient(1).GetAsync($"/api/v1/namespaces/{ns}/configmaps?limit=2&{selector}&continue={token}");
        var status = JsonNode.Parse(await gone.Content.ReadAsStringAsync())!;
        Assert.Equal((HttpStatusCode.Gone, "Expired"), (gone.StatusCode, status["reason"]!.GetValue<string>()));
    }

    [Fact, Step(9)]
    public async Task With_the_leader_cut_off_a_follower_answers_reads_of_any_version_and_refuses_consistent_ones()
    {
        await Create(2, "/api/v1/namespaces", $$$"""{"metadata":{"name":"{{{_ns}}}-p"}}""");
        var pause = await lab.Lab("pause-master", "master-1");
        Assert.True(pause.ExitCode == 0, pause.ToString());
        try
        {
            // first: once the others have downed the paused leader (about 10 s on a loaded machine) master-2 leads
            var consistent = await ReplicaClient(2).GetAsync($"/api/v1/namespaces/{_ns}-p");
            Assert.True(consistent.StatusCode is HttpStatusCode.GatewayTimeout or HttpStatusCode.ServiceUnavailable,
                $"{(int)consistent.StatusCode}: {await consistent.Content.ReadAsStringAsync()}");
            var any = await ReplicaClient(2).GetAsync($"/api/v1/namespaces/{_ns}-p?resourceVersion=0");
            Assert.Equal(HttpStatusCode.OK, any.StatusCode);
            // custom resources too are served from the follower's replica
            var widgets = await ReplicaClient(2).GetAsync($"/apis/{Group}/v1/namespaces/{CustomNs}/widgets/w1?resourceVersion=0");
            Assert.True(widgets.StatusCode == HttpStatusCode.OK, $"{(int)widgets.StatusCode}: {await widgets.Content.ReadAsStringAsync()}");
            // then the others down the paused leader and one of them takes the control plane: consistent reads through
            // the follower are answered again (and master-1, resumed below, rejoins as a new incarnation rather than
            // having to be told apart from a master that was never downed)
            await lab.Eventually(async () =>
            {
                var again = await ReplicaClient(2).GetAsync($"/api/v1/namespaces/{_ns}-p");
                Assert.True(again.StatusCode == HttpStatusCode.OK, $"{(int)again.StatusCode}: {await again.Content.ReadAsStringAsync()}");
            }, "a consistent read through master-2 once the paused leader is downed", TimeSpan.FromSeconds(60));
        }
        finally
        {
            await lab.Lab("resume-master", "master-1");
        }
    }
}
