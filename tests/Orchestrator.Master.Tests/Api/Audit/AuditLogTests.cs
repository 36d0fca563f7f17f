using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Orchestrator.Master.Api.Audit;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Audit;

/// <summary>The audit log through the API: events per stage with user, verb, objectRef, status and annotations; files rotate.</summary>
public sealed class AuditLogTests
{
    private const string Policy = """
        apiVersion: audit.k8s.io/v1
        kind: Policy
        rules:
        - level: None
          nonResourceURLs: ["/readyz*", "/healthz*", "/livez*"]
        - level: RequestResponse
          resources:
          - group: ""
            resources: ["pods"]
        - level: Metadata
        """;

    private static async Task<List<JsonObject>> EventsAsync(string path, Func<JsonObject, bool> until)
    {
        // the log is written off the request path: wait for the line to arrive
        for (var waited = 0; ; waited += 50)
        {
            var events = File.Exists(path)
                ? (await File.ReadAllLinesAsync(path)).Where(l => l.Length > 0).Select(l => JsonNode.Parse(l)!.AsObject()).ToList()
                : [];
            if (events.Any(until) || waited > 30_000) return events;
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task Creating_and_deleting_a_pod_is_logged_with_who_what_and_the_answer()
    {
        var directory = Directory.CreateTempSubdirectory("audit-").FullName;
        var logPath = Path.Combine(directory, "audit.log");
        var policy = AuditPolicy.Parse(Encoding.UTF8.GetBytes(Policy));
        await using var server = await ApiTestServer.StartAsync(beforeApi: (
            services => services.AddSingleton(new AuditConfiguration(policy, new AuditLogFile(new AuditLogOptions(logPath)))),
            _ => { }));

        using var create = new HttpRequestMessage(HttpMethod.Post, "/api/v1/namespaces/default/pods")
        {
            Content = new StringContent("""{"apiVersion":"v1","kind":"Pod","metadata":{"name":"audited"},"spec":{"containers":[{"name":"c","image":"i"}]}}""",
                Encoding.UTF8, "application/json"),
        };
        create.Headers.UserAgent.ParseAdd("kubectl/v1.32.0");
        using var created = await server.Client.SendAsync(create);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var auditId = created.Headers.GetValues("Audit-Id").Single();
        Assert.Equal(HttpStatusCode.OK, (await server.SendAsync(HttpMethod.Delete, "/api/v1/namespaces/default/pods/audited")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await server.SendAsync(HttpMethod.Get, "/api/v1/namespaces/default/pods/missing")).Status);

        var events = await EventsAsync(logPath, e => e["verb"]?.ToString() == "get" && e["stage"]?.ToString() == "ResponseComplete");

        var stages = events.Where(e => e["auditID"]!.ToString() == auditId).ToList();
        Assert.Equal(["RequestReceived", "ResponseComplete"], stages.Select(e => e["stage"]!.ToString()));
        var complete = stages[1];
        Assert.Equal("audit.k8s.io/v1", complete["apiVersion"]!.ToString());
        Assert.Equal("RequestResponse", complete["level"]!.ToString());
        Assert.Equal("create", complete["verb"]!.ToString());
        Assert.Equal("/api/v1/namespaces/default/pods", complete["requestURI"]!.ToString());
        Assert.Equal("kubectl/v1.32.0", complete["userAgent"]!.ToString());
        Assert.Equal("admin", complete["user"]!["username"]!.ToString());
        Assert.Contains("system:masters", complete["user"]!["groups"]!.AsArray().Select(g => g!.ToString()));
        Assert.Equal("""{"resource":"pods","namespace":"default","name":"audited","apiVersion":"v1"}""", complete["objectRef"]!.ToJsonString());
        Assert.Equal(201, complete["responseStatus"]!["code"]!.GetValue<int>());
        Assert.Equal("audited", complete["requestObject"]!["metadata"]!["name"]!.ToString());
        Assert.Equal("Pod", complete["responseObject"]!["kind"]!.ToString());
        Assert.Equal("allow", complete["annotations"]!["authorization.k8s.io/decision"]!.ToString());
        Assert.Equal("privileged:latest", complete["annotations"]!["pod-security.kubernetes.io/enforce-policy"]!.ToString());
        Assert.NotNull(complete["requestReceivedTimestamp"]);
        Assert.NotNull(complete["stageTimestamp"]);
        Assert.Null(stages[0]["responseStatus"]);

        var deleted = events.Single(e => e["verb"]!.ToString() == "delete" && e["stage"]!.ToString() == "ResponseComplete");
        Assert.Equal("audited", deleted["objectRef"]!["name"]!.ToString());
        var missing = events.Single(e => e["verb"]!.ToString() == "get" && e["stage"]!.ToString() == "ResponseComplete");
        var status = missing["responseStatus"]!;
        Assert.Equal((404, "Failure", "pods \"missing\" not found", "NotFound"),
            (status["code"]!.GetValue<int>(), status["status"]!.ToString(), status["message"]!.ToString(), status["reason"]!.ToString()));
        Assert.Contains("\"message\":\"pods \\\"missing\\\" not found\"", (await File.ReadAllTextAsync(logPath)));
        Assert.DoesNotContain(events, e => e["requestURI"]!.ToString().StartsWith("/readyz", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_full_file_is_rotated_and_old_backups_beyond_maxbackup_removed()
    {
        var directory = Directory.CreateTempSubdirectory("audit-rotate-").FullName;
        var path = Path.Combine(directory, "audit.log");
        var line = new string('x', 300 * 1024);
        await using (var log = new AuditLogFile(new AuditLogOptions(path, MaxSizeMegabytes: 1, MaxBackups: 1)))
            for (var i = 0; i < 12; i++) log.Write(line); // about 3.6 MB: three rotations

        var backups = Directory.GetFiles(directory, "audit-*.log");
        Assert.Single(backups);
        Assert.Matches(@"audit-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{3}\.log$", backups[0]);
        Assert.True(new FileInfo(path).Length <= 1024 * 1024);
    }
}
