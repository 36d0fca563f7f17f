using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Orchestrator.Master.Tests.Api.Hostile;
using Xunit;

namespace Orchestrator.Master.Tests.Controllers;

/// <summary>A real orchestrator-master process writes a ValidatingAdmissionPolicy's status as kube-controller-manager
/// does: the type checking's warnings and the generation they were found at, again when the spec changes.</summary>
public sealed class ValidatingAdmissionPolicyStatusTests
{
    private const string Path = "apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies";

    private static string Policy(string expression) => $$$"""
        {"apiVersion":"admissionregistration.k8s.io/v1","kind":"ValidatingAdmissionPolicy","metadata":{"name":"replicas.example.com"},
         "spec":{"failurePolicy":"Fail","matchConstraints":{"resourceRules":[{"apiGroups":["apps"],"apiVersions":["v1"],
           "operations":["CREATE","UPDATE"],"resources":["deployments"]}]},
           "validations":[{"expression":"{{{expression}}}"}]}}
        """;

    [Fact]
    public async Task The_master_writes_type_checking_warnings_and_the_observed_generation_into_the_status()
    {
        await using var master = await MasterProcess.StartAsync();
        using var client = master.Client();
        using var created = await client.PostAsync(Path, new StringContent(Policy("object.spec.replicass <= 5"), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        var status = await StatusAtAsync(client, 1);
        var warning = Assert.Single(status["typeChecking"]!["expressionWarnings"]!.AsArray())!;
        Assert.Equal("spec.validations[0].expression", (string?)warning["fieldRef"]);
        Assert.Equal("apps/v1, Kind=Deployment: ERROR: <input>:1:12: undefined field 'replicass'\n" +
                     " | object.spec.replicass <= 5\n | ...........^\n", (string?)warning["warning"]);

        var policy = await client.GetFromJsonAsync<JsonObject>($"{Path}/replicas.example.com");
        Assert.Contains(policy!["metadata"]!["managedFields"]!.AsArray(), entry =>
            (string?)entry!["manager"] == "validatingadmissionpolicy-status" && (string?)entry["subresource"] == "status");

        var fix = new StringContent("""{"spec":{"validations":[{"expression":"object.spec.replicas <= 5"}]}}""", Encoding.UTF8,
            "application/merge-patch+json");
        using var patched = await client.PatchAsync($"{Path}/replicas.example.com", fix);
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        var fixedStatus = await StatusAtAsync(client, 2);
        Assert.Equal("{}", fixedStatus["typeChecking"]!.ToJsonString());
    }

    /// <summary>The policy's status once it observed <paramref name="generation"/>.</summary>
    private static async Task<JsonObject> StatusAtAsync(HttpClient client, long generation)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        while (true)
        {
            var policy = await client.GetFromJsonAsync<JsonObject>($"{Path}/replicas.example.com", cts.Token);
            if (policy!["status"] is JsonObject status && (long?)status["observedGeneration"] == generation) return status;
            await Task.Delay(100, cts.Token);
        }
    }
}
