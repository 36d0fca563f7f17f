using System.Net;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Protobuf;

/// <summary>The bodies that are not a resource's objects — a DELETE's options, pods/binding, pods/eviction, a scale
/// update — sent as protobuf, as client-go's typed clients send them when configured with the protobuf content type
/// (hand-encoded with Kubernetes' field numbers). Before, a protobuf DeleteOptions was skipped as if absent (its
/// preconditions, grace period and dry run ignored) and the subresources answered 415.</summary>
public sealed class SubresourceBodyTests : IAsyncLifetime
{
    private const string Protobuf = "application/vnd.kubernetes.protobuf";
    private ApiTestServer _server = null!;

    public async Task InitializeAsync() => _server = await ApiTestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<string> CreatedUid(string path, string body)
    {
        var (status, created) = await _server.SendAsync(HttpMethod.Post, path, body);
        Assert.Equal(HttpStatusCode.Created, status);
        return created!["metadata"]!["uid"]!.ToString();
    }

    private Task<string> PendingPod(string name) => CreatedUid("/api/v1/namespaces/default/pods",
        $$$"""{"apiVersion":"v1","kind":"Pod","metadata":{"name":"{{{name}}}"},"spec":{"containers":[{"name":"c","image":"i"}]}}""");

    /// <summary>DeleteOptions: gracePeriodSeconds 1, preconditions 2 (uid 1, resourceVersion 2), dryRun 5.</summary>
    private static ProtoWriter DeleteOptions(string? uid = null, bool dryRun = false)
    {
        var options = new ProtoWriter();
        if (uid is not null) options.Message(2, p => p.String(1, uid));
        if (dryRun) options.String(5, "All");
        return options;
    }

    [Fact]
    public async Task A_protobuf_delete_options_body_keeps_its_preconditions_and_dry_run()
    {
        const string path = "/api/v1/namespaces/default/configmaps/settings";
        var uid = await CreatedUid("/api/v1/namespaces/default/configmaps", """{"metadata":{"name":"settings"}}""");

        var (status, refused) = await _server.SendBytesAsync(HttpMethod.Delete, path,
            ProtoWriter.Envelope("v1", "DeleteOptions", DeleteOptions(uid: "not-" + uid)), Protobuf);
        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Contains("Precondition failed: UID in precondition", refused!["message"]!.ToString());

        (status, _) = await _server.SendBytesAsync(HttpMethod.Delete, path, ProtoWriter.Envelope("v1", "DeleteOptions", DeleteOptions(dryRun: true)), Protobuf);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(HttpStatusCode.OK, (await _server.SendAsync(HttpMethod.Get, path)).Status);

        // DeleteOptions is registered in every group version: client-go names its client's
        (status, _) = await _server.SendBytesAsync(HttpMethod.Delete, path, ProtoWriter.Envelope("apps/v1", "DeleteOptions", DeleteOptions(uid: uid)), Protobuf);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(HttpStatusCode.NotFound, (await _server.SendAsync(HttpMethod.Get, path)).Status);
    }

    [Fact]
    public async Task A_protobuf_delete_body_of_another_kind_or_not_protobuf_at_all_is_400_and_deletes_nothing()
    {
        const string path = "/api/v1/namespaces/default/configmaps/kept";
        await CreatedUid("/api/v1/namespaces/default/configmaps", """{"metadata":{"name":"kept"}}""");

        var (status, refused) = await _server.SendBytesAsync(HttpMethod.Delete, path, ProtoWriter.Envelope("v1", "Pod", DeleteOptions()), Protobuf);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("this request takes a DeleteOptions", refused!["message"]!.ToString());
        (status, refused) = await _server.SendBytesAsync(HttpMethod.Delete, path, "{}"u8.ToArray(), Protobuf);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("does not start with the Kubernetes prefix", refused!["message"]!.ToString());
        Assert.Equal(HttpStatusCode.OK, (await _server.SendAsync(HttpMethod.Get, path)).Status);
    }

    [Fact]
    public async Task A_protobuf_binding_binds_the_pod_to_its_target_node()
    {
        await PendingPod("bound");
        // Binding: metadata 1 (name 1), target 2 (an ObjectReference: kind 1, name 3)
        var (status, _) = await _server.SendBytesAsync(HttpMethod.Post, "/api/v1/namespaces/default/pods/bound/binding",
            ProtoWriter.Envelope("v1", "Binding", new ProtoWriter()
                .Message(1, m => m.String(1, "bound"))
                .Message(2, t => t.String(1, "Node").String(3, "node-a"))), Protobuf);
        Assert.Equal(HttpStatusCode.Created, status);
        var (_, pod) = await _server.SendAsync(HttpMethod.Get, "/api/v1/namespaces/default/pods/bound");
        Assert.Equal("node-a", pod!["spec"]!["nodeName"]!.ToString());
    }

    [Fact]
    public async Task A_protobuf_eviction_keeps_its_delete_options_preconditions()
    {
        var uid = await PendingPod("evicted");
        ProtoWriter Eviction(string preconditionUid) => new ProtoWriter()
            .Message(1, m => m.String(1, "evicted"))
            .Message(2, DeleteOptions(uid: preconditionUid));

        var (status, _) = await _server.SendBytesAsync(HttpMethod.Post, "/api/v1/namespaces/default/pods/evicted/eviction",
            ProtoWriter.Envelope("policy/v1", "Eviction", Eviction("not-" + uid)), Protobuf);
        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal(HttpStatusCode.OK, (await _server.SendAsync(HttpMethod.Get, "/api/v1/namespaces/default/pods/evicted")).Status);

        (status, _) = await _server.SendBytesAsync(HttpMethod.Post, "/api/v1/namespaces/default/pods/evicted/eviction",
            ProtoWriter.Envelope("policy/v1", "Eviction", Eviction(uid)), Protobuf);
        Assert.Equal(HttpStatusCode.Created, status);
    }

    [Fact]
    public async Task A_protobuf_scale_sets_the_replicas_and_a_body_of_another_kind_is_400()
    {
        await CreatedUid("/apis/apps/v1/namespaces/default/deployments",
            """{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":1,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"i"}]}}}}""");
        const string scale = "/apis/apps/v1/namespaces/default/deployments/web/scale";
        // Scale: metadata 1 (name 1, namespace 3), spec 2 (replicas 1)
        var body = new ProtoWriter().Message(1, m => m.String(1, "web").String(3, "default")).Message(2, s => s.Varint(1, 3));

        var (status, refused) = await _server.SendBytesAsync(HttpMethod.Put, scale, ProtoWriter.Envelope("apps/v1", "Deployment", body), Protobuf);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("does not match the expected", refused!["message"]!.ToString());

        (status, _) = await _server.SendBytesAsync(HttpMethod.Put, scale, ProtoWriter.Envelope("autoscaling/v1", "Scale", body), Protobuf);
        Assert.Equal(HttpStatusCode.OK, status);
        var (_, deployment) = await _server.SendAsync(HttpMethod.Get, "/apis/apps/v1/namespaces/default/deployments/web");
        Assert.Equal(3, (int)deployment!["spec"]!["replicas"]!);
    }
}
