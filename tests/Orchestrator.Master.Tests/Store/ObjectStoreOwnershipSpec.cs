using k8s;
using k8s.Models;
using Orchestrator.Master.Api.Storage;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Controllers.ReplicaSets;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;
using Xunit;

namespace Orchestrator.Master.Tests.Store;

/// <summary>
/// Who owns a write's object. A request's object is copied by the store unless its sender handed it over
/// (<see cref="UpdateObject.HandedOver"/>); the senders that hand over must give an object nothing else references and
/// that they never touch or resend again. Each test fails if a caller's later change of its request, a resent request,
/// or a handed-over object still shared with another object could reach a stored object.
/// </summary>
public class ObjectStoreOwnershipSpec() : StoreSpecBase(new ObjectStoreSettings(SnapshotEvery: 1000, WatchWindow: 50))
{
    private IKubernetesObject<V1ObjectMeta> Get(string resource, string name) =>
        Stored(new GetObject(new ResourceKey(resource, "default", name)));

    [Fact]
    public void A_create_not_handed_over_leaves_the_request_alone_and_a_later_change_of_it_never_reaches_the_stored_object()
    {
        var request = Objects.ConfigMap("plain");
        var stored = Stored(new CreateObject("configmaps", request));

        Assert.NotSame(request, stored);
        Assert.Null(request.Metadata.Uid);
        Assert.Null(request.Metadata.ResourceVersion);
        request.Data["k"] = "changed by the caller";
        request.Metadata.Labels = new Dictionary<string, string> { ["x"] = "y" };

        var now = (V1ConfigMap)Get("configmaps", "plain");
        Assert.Equal("v", now.Data["k"]);
        Assert.Null(now.Metadata.Labels);
    }

    [Fact]
    public void Updates_not_handed_over_main_resource_and_subresource_leave_the_request_alone()
    {
        Stored(new CreateObject("pods", Objects.Pod("p")));
        var update = (V1Pod)KubeObjects.Clone(Get("pods", "p"));
        update.Metadata.Labels = new Dictionary<string, string> { ["a"] = "1" };
        var updated = Stored(new UpdateObject("pods", update));
        Assert.NotSame(update, updated);
        update.Metadata.Labels["a"] = "changed by the caller";

        var binding = new V1Pod
        {
            ApiVersion = "v1", Kind = "Pod",
            Metadata = new V1ObjectMeta { Name = "p", NamespaceProperty = "default" },
            Spec = new V1PodSpec { NodeName = "node-1" },
        };
        var bound = Stored(new UpdateObject("pods", binding, "binding"));
        Assert.NotSame(binding, bound);
        Assert.Null(binding.Metadata.ResourceVersion);
        binding.Spec.NodeName = "node-2";

        var now = (V1Pod)Get("pods", "p");
        Assert.Equal("1", now.Metadata.Labels["a"]);
        Assert.Equal("node-1", now.Spec.NodeName);
    }

    [Fact]
    public void A_handed_over_object_is_planned_in_place_and_stored_without_a_copy()
    {
        var given = Objects.ConfigMap("given");
        var stored = Stored(new CreateObject("configmaps", given) { HandedOver = true });

        // the ownership the flag grants: no copy; this is why a sender may hand over only what it never touches again
        Assert.Same(given, stored);
        Assert.Same(given, Get("configmaps", "given"));
    }

    [Fact]
    public void The_APIs_hand_over_copies_per_attempt_so_a_resent_request_is_the_clients_object_and_never_a_stored_one()
    {
        var request = Objects.ConfigMap("");
        request.Metadata.Name = null;
        request.Metadata.GenerateName = "gen-";
        var message = new CreateObject("configmaps", request);

        var first = Stored(ObjectStoreClient.HandOver(message));
        // the admission retry sends the same message again: the store must see the client's object, not the first attempt's
        Assert.Null(request.Metadata.Name);
        Assert.Null(request.Metadata.Uid);
        Assert.Null(request.Metadata.ResourceVersion);
        var second = Stored(ObjectStoreClient.HandOver(message));

        Assert.NotSame(request, first);
        Assert.NotSame(first, second);
        Assert.NotEqual(first.Metadata.Name, second.Metadata.Name);
        Assert.NotEqual(first.Metadata.Uid, second.Metadata.Uid);
        // the caller's object stays its own: changing it reaches neither stored object
        request.Data["k"] = "changed by the caller";
        Assert.Equal("v", ((V1ConfigMap)Get("configmaps", first.Metadata.Name!)).Data["k"]);
        Assert.Equal("v", ((V1ConfigMap)Get("configmaps", second.Metadata.Name!)).Data["k"]);

        var update = (V1ConfigMap)KubeObjects.Clone(first);
        update.Data["k"] = "w";
        var updateMessage = new UpdateObject("configmaps", update);
        var updated = Stored(ObjectStoreClient.HandOver(updateMessage));
        Assert.NotSame(update, updated);
        Assert.Equal(first.Metadata.ResourceVersion, update.Metadata.ResourceVersion);
        update.Data["k"] = "changed by the caller";
        Assert.Equal("w", ((V1ConfigMap)Get("configmaps", first.Metadata.Name!)).Data["k"]);
    }

    [Fact]
    public async Task A_requests_object_made_for_one_attempt_is_handed_over_itself_and_an_admission_retry_makes_it_again()
    {
        var store = CreateTestProbe();
        var client = new ObjectStoreClient(Sys, _ => Task.FromResult(store.Ref), TimeSpan.FromSeconds(10));
        var context = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        var made = new List<V1ConfigMap>();
        CreateObject Make()
        {
            made.Add(Objects.ConfigMap("again"));
            return new CreateObject("configmaps", made[^1]);
        }
        var request = Objects.ConfigMap("again");

        var write = client.WriteStoredAsync(context, new CreateObject("configmaps", request), Orchestrator.Master.Registry.Kinds.Core.CoreResources.ConfigMaps,
            "again", again: Make);
        // the first attempt takes the request's own object: no copy
        var first = store.ExpectMsg<CreateObject>();
        Assert.Same(request, first.Object);
        Assert.True(first.HandedOver);
        // a refusal that may pass shortly: the second attempt must not be the first one's object, which the store planned on
        store.Reply(new StoreFailed(new StoreError(403, "Forbidden", "not yet") { RetryAfter = TimeSpan.FromMilliseconds(1) }));
        var second = store.ExpectMsg<CreateObject>();
        Assert.Same(Assert.Single(made), second.Object);
        Assert.True(second.HandedOver);
        var stored = Objects.ConfigMap("again");
        store.Reply(new ObjectStored(stored));
        Assert.Same(stored, (await write).Object);

        // without a way to make it again, each attempt is a copy and the caller's object is left alone
        var kept = Objects.ConfigMap("kept");
        var copied = client.WriteStoredAsync(context, new CreateObject("configmaps", kept), Orchestrator.Master.Registry.Kinds.Core.CoreResources.ConfigMaps, "kept");
        var sent = store.ExpectMsg<CreateObject>();
        Assert.NotSame(kept, sent.Object);
        Assert.True(sent.HandedOver);
        store.Reply(new ObjectStored(sent.Object));
        await copied;
    }

    [Fact]
    public void A_replica_sets_new_pod_shares_nothing_with_its_owner_so_planning_it_in_place_cannot_change_the_stored_owner()
    {
        var stored = Stored(new CreateObject("deployments", Objects.Deployment("web")));
        var deployment = (V1Deployment)stored;
        var before = KubeObjects.Serialize(deployment);
        var owner = new ReplicaOwner(deployment, LabelSelector.FromLabelSelector(deployment.Spec.Selector), deployment.Spec.Template, 1, 0);

        var pod = PodReplicaSync.NewPod(owner);
        // the store defaults and fills a handed-over pod in place; here, every part a plan could change
        Stored(new CreateObject("pods", pod) { HandedOver = true });
        pod.Metadata.Labels!["app"] = "changed";
        pod.Metadata.OwnerReferences[0].Name = "changed";
        pod.Spec.Containers[0].Image = "changed";
        pod.Spec.Containers.Add(new V1Container { Name = "more", Image = "busybox" });

        Assert.Equal(before, KubeObjects.Serialize(deployment));
        Assert.Equal(before, KubeObjects.Serialize(Get("deployments", "web")));
    }

    [Fact]
    public void An_event_is_handed_over_as_a_copy_equal_to_the_recorders_own_and_sharing_nothing_with_it()
    {
        var recorder = new EventRecorder(TestActor, "test-controller", "host-1", () => new DateTime(2026, 12, 4, 7, 58, 1, 123, DateTimeKind.Utc).AddTicks(4567));
        var involved = new V1ObjectReference
        {
            ApiVersion = "v1", Kind = "Pod", Name = "p", NamespaceProperty = "default", Uid = "u", ResourceVersion = "7", FieldPath = "spec.containers{web}",
        };
        var first = Assert.IsType<CreateObject>(recorder.Prepare(involved, EventRecorder.Normal, "Pulled", "pulled"));
        var repeat = Assert.IsType<UpdateObject>(recorder.Prepare(involved, EventRecorder.Normal, "Pulled", "pulled"));
        Assert.True(first.HandedOver && repeat.HandedOver);

        foreach (var sent in new[] { (Corev1Event)first.Object, (Corev1Event)repeat.Object })
        {
            // what the store's own copy (a JSON round trip) would have stored, field for field and in memory
            var roundTrip = KubeObjects.Clone(sent);
            Assert.Equal(KubeObjects.Serialize(roundTrip), KubeObjects.Serialize(sent));
            Assert.Equal(roundTrip.FirstTimestamp, sent.FirstTimestamp);
            Assert.Equal(roundTrip.LastTimestamp, sent.LastTimestamp);
            Assert.NotSame(involved, sent.InvolvedObject);
        }
        Assert.Equal(2, ((Corev1Event)repeat.Object).Count);

        // the store plans on the handed-over event in place; the recorder's kept event (the next repeat's base) and the
        // caller's reference must not change with it
        var stored = (Corev1Event)Stored(first);
        var keptBefore = KubeObjects.Serialize(((Corev1Event)repeat.Object).InvolvedObject);
        stored.InvolvedObject.Name = "changed";
        stored.Source.Component = "changed";
        Assert.Equal("p", involved.Name);
        var third = (Corev1Event)Assert.IsType<UpdateObject>(recorder.Prepare(involved, EventRecorder.Normal, "Pulled", "pulled")).Object;
        Assert.Equal(3, third.Count);
        Assert.Equal("test-controller", third.Source.Component);
        Assert.Equal(keptBefore, KubeObjects.Serialize(third.InvolvedObject));
    }

    [Fact]
    public void A_node_leases_renewals_are_handed_over_and_share_nothing_with_the_node_or_the_cached_lease()
    {
        var node = new V1Node { ApiVersion = "v1", Kind = "Node", Metadata = new V1ObjectMeta { Name = "node-1", Uid = "n-uid" } };
        var now = new DateTime(2026, 12, 4, 12, 0, 0, DateTimeKind.Utc);
        var create = Assert.IsType<CreateObject>(NodeLeases.Renewal(node, null, now));
        Assert.True(create.HandedOver);
        var lease = (V1Lease)Stored(create);
        Assert.Equal("node-1", lease.Spec.HolderIdentity);

        var renewal = Assert.IsType<UpdateObject>(NodeLeases.Renewal(node, lease, now.AddSeconds(10)));
        Assert.True(renewal.HandedOver);
        var renewed = (V1Lease)renewal.Object;
        Assert.NotSame(lease.Metadata, renewed.Metadata);
        Assert.NotSame(lease.Spec, renewed.Spec);
        Assert.NotSame(lease.Metadata.OwnerReferences[0], renewed.Metadata.OwnerReferences[0]);
        Stored(renewal);
        // planned in place: the lease the renewal was made from (the cache's) keeps its time and resourceVersion
        Assert.Equal(now, lease.Spec.RenewTime);
        Assert.NotEqual(lease.Metadata.ResourceVersion, renewed.Metadata.ResourceVersion);
        var stored = (V1Lease)Stored(new GetObject(new ResourceKey(NodeLeases.Resource, NodeLeases.Namespace, "node-1")));
        Assert.Equal(now.AddSeconds(10), stored.Spec.RenewTime);
    }

    [Fact]
    public void A_status_write_of_only_the_status_handed_over_keeps_the_stored_spec_and_metadata()
    {
        var created = (V1Pod)Stored(new CreateObject("pods", Objects.Pod("p")));
        var before = KubeObjects.Serialize(created);
        var write = new V1Pod
        {
            ApiVersion = "v1", Kind = "Pod",
            Metadata = new V1ObjectMeta { Name = "p", NamespaceProperty = "default" },
            Status = new V1PodStatus { Phase = "Running" },
        };

        var updated = (V1Pod)Stored(new UpdateObject("pods", write, "status") { HandedOver = true });

        Assert.Equal("Running", updated.Status.Phase);
        Assert.Equal(KubeObjects.Serialize(created.Spec), KubeObjects.Serialize(updated.Spec));
        Assert.Equal((created.Metadata.Uid, created.Metadata.Labels), (updated.Metadata.Uid, updated.Metadata.Labels));
        Assert.Equal(created.Metadata.CreationTimestamp, updated.Metadata.CreationTimestamp);
        Assert.True(long.Parse(updated.Metadata.ResourceVersion) > long.Parse(created.Metadata.ResourceVersion));
        Assert.Equal(before, KubeObjects.Serialize(created)); // the stored pod before the write is not changed by it
    }
}
