using System.Net;
using System.Text;
using Orchestrator.Master.Api.FlowControl;
using Xunit;

namespace Orchestrator.Master.Tests.Api.FlowControl;

public sealed class PriorityAndFairnessApiTests : IAsyncLifetime
{
    private ApiTestServer _server = null!;

    public async Task InitializeAsync() => _server = await ApiTestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<string> CreateAsync(string path, string json)
    {
        var (status, body) = await _server.SendAsync(HttpMethod.Post, path, json);
        Assert.True(status == HttpStatusCode.Created, $"{path}: {status} {body}");
        return body!["metadata"]!["uid"]!.GetValue<string>();
    }

    private async Task<HttpResponseMessage> GetAsTesterAsync(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("Impersonate-User", "tester");
        request.Headers.Add("Impersonate-Group", "apf-testers");
        return await _server.Client.SendAsync(request);
    }

    [Fact]
    public async Task A_level_without_seats_that_rejects_answers_429_with_the_classification_headers()
    {
        await CreateAsync("/apis/rbac.authorization.k8s.io/v1/clusterroles",
            """{"metadata":{"name":"apf-reader"},"rules":[{"apiGroups":[""],"resources":["configmaps"],"verbs":["get","list"]}]}""");
        await CreateAsync("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
            """{"metadata":{"name":"apf-reader"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"apf-reader"},"subjects":[{"kind":"Group","apiGroup":"rbac.authorization.k8s.io","name":"apf-testers"}]}""");
        // no shares and no borrowing: nothing of this level ever runs
        var levelUid = await CreateAsync("/apis/flowcontrol.apiserver.k8s.io/v1/prioritylevelconfigurations",
            """{"metadata":{"name":"apf-none"},"spec":{"type":"Limited","limited":{"nominalConcurrencyShares":0,"borrowingLimitPercent":0,"limitResponse":{"type":"Reject"}}}}""");
        var schemaUid = await CreateAsync("/apis/flowcontrol.apiserver.k8s.io/v1/flowschemas",
            """{"metadata":{"name":"apf-testers"},"spec":{"matchingPrecedence":200,"priorityLevelConfiguration":{"name":"apf-none"},"distinguisherMethod":{"type":"ByUser"},"rules":[{"subjects":[{"kind":"Group","group":{"name":"apf-testers"}}],"resourceRules":[{"verbs":["*"],"apiGroups":["*"],"resources":["*"],"namespaces":["*"],"clusterScope":true}]}]}}""");

        HttpResponseMessage? response = null;
        for (var attempt = 0; attempt < 100 && response?.StatusCode != HttpStatusCode.TooManyRequests; attempt++)
        {
            if (attempt > 0) await Task.Delay(100); // the RBAC and flow control informers take the new objects
            response = await GetAsTesterAsync("/api/v1/namespaces/default/configmaps");
        }
        Assert.Equal(HttpStatusCode.TooManyRequests, response!.StatusCode);
        Assert.Equal("1", response.Headers.GetValues("Retry-After").Single());
        Assert.Equal("Too many requests, please try again later.\n", await response.Content.ReadAsStringAsync());
        Assert.Equal(schemaUid, response.Headers.GetValues(PriorityAndFairness.FlowSchemaHeader).Single());
        Assert.Equal(levelUid, response.Headers.GetValues(PriorityAndFairness.PriorityLevelHeader).Single());

        // flow control comes before authorization, as in kube's handler chain: a request RBAC would refuse (the testers
        // may not read secrets) takes a seat of the level too, so here it is 429, not 403
        using var forbidden = await GetAsTesterAsync("/api/v1/namespaces/default/secrets");
        Assert.Equal(HttpStatusCode.TooManyRequests, forbidden.StatusCode);
        Assert.Equal(levelUid, forbidden.Headers.GetValues(PriorityAndFairness.PriorityLevelHeader).Single());

        // the administrator is exempt
        using var admin = await _server.Client.GetAsync("/api/v1/namespaces/default/configmaps");
        Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
        Assert.True(admin.Headers.Contains(PriorityAndFairness.FlowSchemaHeader));
    }

    [Fact]
    public async Task Flow_control_objects_are_validated_and_served_as_tables()
    {
        var (status, body) = await _server.SendAsync(HttpMethod.Post, "/apis/flowcontrol.apiserver.k8s.io/v1/prioritylevelconfigurations",
            """{"metadata":{"name":"bad"},"spec":{"type":"Limited","limited":{"limitResponse":{"type":"Queue","queuing":{"queues":2,"handSize":3}}}}}""");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        Assert.Contains("should not be greater than queues (2)", body!["message"]!.GetValue<string>());
        (status, _) = await _server.SendAsync(HttpMethod.Get, "/apis/flowcontrol.apiserver.k8s.io/v1/prioritylevelconfigurations/bad");
        Assert.Equal(HttpStatusCode.NotFound, status);

        await CreateAsync("/apis/flowcontrol.apiserver.k8s.io/v1/prioritylevelconfigurations",
            """{"metadata":{"name":"good"},"spec":{"type":"Limited","limited":{"limitResponse":{"type":"Queue","queuing":{}}}}}""");
        (status, body) = await _server.SendAsync(HttpMethod.Get, "/apis/flowcontrol.apiserver.k8s.io/v1/prioritylevelconfigurations",
            accept: "application/json;as=Table;v=v1;g=meta.k8s.io");
        Assert.Equal(HttpStatusCode.OK, status);
        var names = body!["columnDefinitions"]!.AsArray().Select(c => c!["name"]!.GetValue<string>());
        Assert.Equal(["Name", "Type", "NominalConcurrencyShares", "Queues", "HandSize", "QueueLengthLimit", "Age"], names);
        var row = body["rows"]!.AsArray().Single()!["cells"]!.AsArray();
        Assert.StartsWith("""["good","Limited",30,64,8,50,""", row.ToJsonString());
    }
}
