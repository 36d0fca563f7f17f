using System.Net;
using System.Text.Json.Nodes;
using k8s.Models;
using Orchestrator.Master.Registry.Kinds.Events;
using Xunit;

namespace Orchestrator.Master.Tests.Api;

/// <summary>events.k8s.io/v1 and core/v1 events are one storage, as in Kubernetes (in-memory server, real ObjectStore).</summary>
public sealed class EventsApiTests : IAsyncLifetime
{
    private ApiTestServer _server = null!;

    public async Task InitializeAsync() => _server = await ApiTestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private const string CoreEvents = "/api/v1/namespaces/default/events";
    private const string V1Events = "/apis/events.k8s.io/v1/namespaces/default/events";

    private async Task<JsonNode> Created(string path, string body)
    {
        var (status, result) = await _server.SendAsync(HttpMethod.Post, path, body);
        Assert.True(status == HttpStatusCode.Created, $"{status}: {result}");
        return result!;
    }

    private async Task<JsonArray> Items(string path)
    {
        var (status, list) = await _server.SendAsync(HttpMethod.Get, path);
        Assert.True(status == HttpStatusCode.OK, $"{status}: {list}");
        return list!["items"]!.AsArray();
    }

    [Fact]
    public async Task An_event_recorded_through_either_group_is_read_through_both()
    {
        await Created(V1Events, """
            {"apiVersion":"events.k8s.io/v1","kind":"Event","metadata":{"name":"op.1"},"eventTime":"2026-12-05T01:00:00.000000Z",
             "regarding":{"kind":"Widget","name":"w1","namespace":"default"},"note":"reconciled","reason":"Synced","type":"Normal",
             "action":"Reconcile","reportingController":"example.com/operator","reportingInstance":"operator-0"}
            """);
        await Created(CoreEvents, """
            {"apiVersion":"v1","kind":"Event","metadata":{"name":"kubelet.1"},"involvedObject":{"kind":"Pod","name":"p1","namespace":"default"},
             "message":"Started container","reason":"Started","type":"Normal","source":{"component":"kubelet","host":"n1"},"count":2,
             "firstTimestamp":"2026-12-05T01:00:00Z","lastTimestamp":"2026-12-05T01:00:05Z"}
            """);

        var core = (await Items(CoreEvents)).ToDictionary(e => e!["metadata"]!["name"]!.ToString());
        Assert.Equal(2, core.Count);
        var op = core["op.1"]!;
        Assert.Equal(("v1", "reconciled", "w1", "example.com/operator"), (op["apiVersion"]!.ToString(), op["message"]!.ToString(),
            op["involvedObject"]!["name"]!.ToString(), op["reportingComponent"]!.ToString()));

        var v1 = (await Items(V1Events)).ToDictionary(e => e!["metadata"]!["name"]!.ToString());
        Assert.Equal(2, v1.Count);
        var kubelet = v1["kubelet.1"]!;
        Assert.Equal(("events.k8s.io/v1", "Started container", "p1", "kubelet", 2), (kubelet["apiVersion"]!.ToString(),
            kubelet["note"]!.ToString(), kubelet["regarding"]!["name"]!.ToString(),
            kubelet["deprecatedSource"]!["component"]!.ToString(), kubelet["deprecatedCount"]!.GetValue<int>()));
        Assert.Null(kubelet["message"]);

        // a get of each through the other group, after the lists were kept by the store's read view
        var (_, got) = await _server.SendAsync(HttpMethod.Get, $"{V1Events}/kubelet.1");
        Assert.Equal("events.k8s.io/v1", got!["apiVersion"]!.ToString());
        (_, got) = await _server.SendAsync(HttpMethod.Get, $"{CoreEvents}/op.1");
        Assert.Equal("v1", got!["apiVersion"]!.ToString());
    }

    [Fact]
    public async Task Each_group_selects_by_its_own_field_names()
    {
        await Created(CoreEvents, """
            {"apiVersion":"v1","kind":"Event","metadata":{"name":"e1"},"involvedObject":{"kind":"Pod","name":"p1","namespace":"default"},
             "reason":"Started","type":"Normal","source":{"component":"kubelet"}}
            """);
        await Created(CoreEvents, """
            {"apiVersion":"v1","kind":"Event","metadata":{"name":"e2"},"involvedObject":{"kind":"Pod","name":"p2","namespace":"default"},
             "reason":"Pulled","type":"Normal","source":{"component":"other"}}
            """);

        Assert.Equal("e1", Assert.Single(await Items($"{V1Events}?fieldSelector=regarding.name%3Dp1"))!["metadata"]!["name"]!.ToString());
        Assert.Equal("e1", Assert.Single(await Items($"{V1Events}?fieldSelector=source%3Dkubelet"))!["metadata"]!["name"]!.ToString());
        Assert.Equal("e2", Assert.Single(await Items($"{CoreEvents}?fieldSelector=involvedObject.name%3Dp2"))!["metadata"]!["name"]!.ToString());
        Assert.Equal("e1", Assert.Single(await Items($"{CoreEvents}?fieldSelector=source%3Dkubelet"))!["metadata"]!["name"]!.ToString());

        var (status, error) = await _server.SendAsync(HttpMethod.Get, $"{CoreEvents}?fieldSelector=regarding.name%3Dp1");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("field label not supported: regarding.name", error!["message"]!.ToString());
        (status, error) = await _server.SendAsync(HttpMethod.Get, $"{V1Events}?fieldSelector=involvedObject.name%3Dp1");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("field label not supported: involvedObject.name", error!["message"]!.ToString());
    }

    [Fact]
    public async Task A_list_of_a_converted_version_is_of_that_version_after_the_stored_versions_list()
    {
        const string v2 = "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers";
        await Created(v2, """
            {"apiVersion":"autoscaling/v2","kind":"HorizontalPodAutoscaler","metadata":{"name":"web"},
             "spec":{"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"web"},"minReplicas":1,"maxReplicas":3}}
            """);
        Assert.Equal("autoscaling/v2", Assert.Single(await Items(v2))!["apiVersion"]!.ToString());
        Assert.Equal("autoscaling/v2", Assert.Single(await Items(v2))!["apiVersion"]!.ToString()); // kept by the read view now
        Assert.Equal("autoscaling/v1",
            Assert.Single(await Items("/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers"))!["apiVersion"]!.ToString());
    }

    private async Task<IReadOnlyList<string>> Refused(HttpMethod method, string path, string body)
    {
        var (status, result) = await _server.SendAsync(method, path, body);
        Assert.True(status == HttpStatusCode.UnprocessableEntity, $"{status}: {result}");
        Assert.Equal("Invalid", result!["reason"]!.ToString());
        return result["details"]!["causes"]!.AsArray().Select(c => $"{c!["field"]}: {c["message"]}").ToList();
    }

    [Fact]
    public async Task The_strict_rules_hold_only_for_events_k8s_io_while_every_event_passes_the_legacy_ones()
    {
        // an old-style event with its deprecated fields and no eventTime: fine through core/v1, refused through events.k8s.io/v1
        const string old = """
            {"apiVersion":"v1","kind":"Event","metadata":{"name":"old.1"},"involvedObject":{"kind":"Pod","name":"p1","namespace":"default"},
             "reason":"Started","type":"Custom","source":{"component":"kubelet"},"count":1,"firstTimestamp":"2026-12-05T01:00:00Z"}
            """;
        await Created(CoreEvents, old);
        var causes = await Refused(HttpMethod.Post, V1Events, """
            {"apiVersion":"events.k8s.io/v1","kind":"Event","metadata":{"name":"old.2"},"regarding":{"kind":"Pod","name":"p1","namespace":"default"},
             "reason":"Started","type":"Custom","deprecatedSource":{"component":"kubelet"},"deprecatedCount":1,"deprecatedFirstTimestamp":"2026-12-05T01:00:00Z"}
            """);
        Assert.Equal(["eventTime: Required value", "type: Invalid value: \"\": has invalid value: Custom",
            "firstTimestamp: Invalid value: \"\": needs to be unset", "count: Invalid value: \"\": needs to be unset",
            "source: Invalid value: \"\": needs to be unset"], causes);

        // an event about an object of another namespace, through either group
        causes = await Refused(HttpMethod.Post, CoreEvents, """
            {"apiVersion":"v1","kind":"Event","metadata":{"name":"x.1"},"involvedObject":{"kind":"Pod","name":"p1","namespace":"other"},"reason":"R"}
            """);
        Assert.Equal(["involvedObject.namespace: Invalid value: \"other\": does not match event.namespace"], causes);

        // an event with an eventTime names who reported it and what it did, through core/v1 too
        causes = await Refused(HttpMethod.Post, CoreEvents, """
            {"apiVersion":"v1","kind":"Event","metadata":{"name":"new.1"},"involvedObject":{"kind":"Pod","name":"p1","namespace":"default"},
             "eventTime":"2026-12-05T01:00:00.000000Z","type":"Normal"}
            """);
        Assert.Equal("reportingController: Required value", causes[0]);
        Assert.Contains("reportingInstance: Required value", causes);
        Assert.Contains("action: Required value", causes);
        Assert.Contains("reason: Required value", causes);
        Assert.Empty(await Items($"{CoreEvents}?fieldSelector=metadata.name%3Dnew.1"));
    }

    [Fact]
    public async Task An_update_through_events_k8s_io_may_change_the_series_but_not_what_happened()
    {
        var created = await Created(V1Events, """
            {"apiVersion":"events.k8s.io/v1","kind":"Event","metadata":{"name":"op.2"},"eventTime":"2026-12-05T01:00:00.000000Z",
             "regarding":{"kind":"Widget","name":"w1","namespace":"default"},"note":"reconciled","reason":"Synced","type":"Normal",
             "action":"Reconcile","reportingController":"example.com/operator","reportingInstance":"operator-0"}
            """);
        created["series"] = JsonNode.Parse("""{"count":2,"lastObservedTime":"2026-12-05T01:00:05.000000Z"}""");
        var (status, updated) = await _server.SendAsync(HttpMethod.Put, $"{V1Events}/op.2", created.ToJsonString());
        Assert.True(status == HttpStatusCode.OK, $"{status}: {updated}");

        updated!["note"] = "something else";
        updated["series"]!["count"] = 1;
        var causes = await Refused(HttpMethod.Put, $"{V1Events}/op.2", updated.ToJsonString());
        Assert.Equal(["series.count: Invalid value: \"\": should be at least 2", "message: Invalid value: \"something else\": field is immutable"], causes);

        // core/v1 keeps its legacy freedom: the recorder's repeats change count and message in place
        var (_, core) = await _server.SendAsync(HttpMethod.Get, $"{CoreEvents}/op.2");
        core!["message"] = "reconciled again";
        (status, var result) = await _server.SendAsync(HttpMethod.Put, $"{CoreEvents}/op.2", core.ToJsonString());
        Assert.True(status == HttpStatusCode.OK, $"{status}: {result}");
    }

    [Fact]
    public void The_conversion_maps_every_field_both_ways()
    {
        var at = new DateTime(2026, 12, 5, 1, 2, 3, DateTimeKind.Utc);
        var v1 = new Eventsv1Event
        {
            ApiVersion = "events.k8s.io/v1", Kind = "Event", Metadata = new V1ObjectMeta { Name = "e", NamespaceProperty = "default" },
            Action = "A", EventTime = at, Note = "N", Reason = "R", Type = "Warning", ReportingController = "C", ReportingInstance = "I",
            Regarding = new V1ObjectReference { Kind = "Pod", Name = "p" }, Related = new V1ObjectReference { Kind = "Node", Name = "n" },
            Series = new Eventsv1EventSeries { Count = 3, LastObservedTime = at }, DeprecatedSource = new V1EventSource { Component = "k" },
            DeprecatedCount = 4, DeprecatedFirstTimestamp = at, DeprecatedLastTimestamp = at,
        };
        var core = EventsV1Conversion.ToCore(v1);
        Assert.Equal(("v1", "A", "N", "R", "Warning", "C", "I", "p", "n", 3, "k", 4), (core.ApiVersion, core.Action, core.Message,
            core.Reason, core.Type, core.ReportingComponent, core.ReportingInstance, core.InvolvedObject.Name, core.Related.Name,
            core.Series.Count!.Value, core.Source.Component, core.Count!.Value));
        Assert.Equal([at, at, at, at], new[] { core.EventTime!.Value, core.Series.LastObservedTime!.Value, core.FirstTimestamp!.Value, core.LastTimestamp!.Value });
        Assert.NotSame(v1.Metadata, core.Metadata);
        Assert.Equal(k8s.KubernetesJson.Serialize(v1), k8s.KubernetesJson.Serialize(EventsV1Conversion.ToV1(core)));
    }
}
