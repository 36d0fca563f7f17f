using Akka.Actor;
using k8s.Models;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;
using Xunit;

namespace Orchestrator.Master.Tests.Store;

/// <summary>Delete propagation as far as the store carries it; the garbage collector does the rest.</summary>
public class ObjectStoreDeleteSpec : StoreSpecBase
{
    private V1Pod OwnedPod(string name, V1Deployment owner)
    {
        var pod = Objects.Pod(name);
        pod.Metadata.OwnerReferences =
        [
            new V1OwnerReference { ApiVersion = "apps/v1", Kind = "Deployment", Name = owner.Metadata.Name, Uid = owner.Metadata.Uid },
            new V1OwnerReference { ApiVersion = "v1", Kind = "ConfigMap", Name = "other", Uid = "other-uid" },
        ];
        return (V1Pod)Stored(new CreateObject("pods", pod));
    }

    private static ResourceKey Key(string resource, string name) => new(resource, "default", name);

    [Fact]
    public void Background_delete_removes_the_object_at_once_and_leaves_dependents_to_the_gc()
    {
        var owner = (V1Deployment)Stored(new CreateObject("deployments", Objects.Deployment("web")));
        OwnedPod("p", owner);
        var deleted = Stored(new DeleteObject(Key("deployments", "web")));
        Assert.Equal(Rv(deleted), CurrentResourceVersion());
        Failed(new GetObject(Key("deployments", "web")));
        Assert.Equal(2, ((V1Pod)Stored(new GetObject(Key("pods", "p")))).Metadata.OwnerReferences.Count);
    }

    [Fact]
    public void Orphan_delete_removes_the_owner_reference_from_dependents()
    {
        var owner = (V1Deployment)Stored(new CreateObject("deployments", Objects.Deployment("web")));
        OwnedPod("p", owner);
        Stored(new DeleteObject(Key("deployments", "web"), PropagationPolicy: "Orphan"));

        Failed(new GetObject(Key("deployments", "web")));
        var pod = (V1Pod)Stored(new GetObject(Key("pods", "p")));
        Assert.Equal(["other-uid"], pod.Metadata.OwnerReferences.Select(r => r.Uid));
    }

    [Fact]
    public void Foreground_delete_marks_the_owner_and_removing_the_finalizer_deletes_it()
    {
        Stored(new CreateObject("deployments", Objects.Deployment("web")));
        var marked = (V1Deployment)Stored(new DeleteObject(Key("deployments", "web"), PropagationPolicy: "Foreground"));
        Assert.NotNull(marked.Metadata.DeletionTimestamp);
        Assert.Equal(["foregroundDeletion"], marked.Metadata.Finalizers);
        Assert.NotNull(Stored(new GetObject(Key("deployments", "web"))));

        var watcher = CreateTestProbe();
        Store.Tell(new WatchObjects("deployments", null, null, watcher));
        ExpectMsg<WatchStarted>();
        var finished = KubeObjects.Clone(marked);
        finished.Metadata.Finalizers = [];
        Stored(new UpdateObject("deployments", finished));
        Assert.Equal("DELETED", watcher.ExpectMsg<ObjectChanged>().Type);
        Failed(new GetObject(Key("deployments", "web")));
    }

    [Fact]
    public void An_object_with_finalizers_is_only_marked()
    {
        var cm = Objects.ConfigMap("c");
        cm.Metadata.Finalizers = ["example.com/keep"];
        Stored(new CreateObject("configmaps", cm));
        var marked = Stored(new DeleteObject(Key("configmaps", "c")));
        Assert.NotNull(marked.Metadata.DeletionTimestamp);
        Assert.NotNull(Stored(new GetObject(Key("configmaps", "c"))));
    }

    [Fact]
    public void Deleting_a_namespace_marks_it_terminating_and_leaves_its_content_to_the_namespace_controller()
    {
        Stored(new CreateObject("namespaces", Objects.Namespace("team")));
        Stored(new CreateObject("configmaps", Objects.ConfigMap("c", "team")));
        var marked = (V1Namespace)Stored(new DeleteObject(new ResourceKey("namespaces", null, "team")));

        Assert.NotNull(marked.Metadata.DeletionTimestamp);
        Assert.Equal("Terminating", marked.Status.Phase);
        Assert.Equal(["kubernetes"], marked.Spec.Finalizers);
        Assert.NotNull(Stored(new GetObject(new ResourceKey("configmaps", "team", "c"))));
    }

    [Fact]
    public void A_terminating_namespace_refuses_new_content_but_not_updates()
    {
        Stored(new CreateObject("namespaces", Objects.Namespace("team")));
        var cm = Stored(new CreateObject("configmaps", Objects.ConfigMap("c", "team")));
        Stored(new DeleteObject(new ResourceKey("namespaces", null, "team")));

        var refused = Failed(new CreateObject("configmaps", Objects.ConfigMap("d", "team")));
        Assert.Equal(403, refused.Code);
        Assert.Equal("Forbidden", refused.Reason);
        Assert.Equal("configmaps \"d\" is forbidden: unable to create new content in namespace team because it is being terminated",
            refused.Message);
        Assert.Equal("NamespaceTerminating", Assert.Single(refused.Causes!).Reason);

        var changed = KubeObjects.Clone((V1ConfigMap)cm);
        changed.Data = new Dictionary<string, string> { ["k"] = "v" };
        Stored(new UpdateObject("configmaps", changed));
    }

    [Fact]
    public void Creating_in_a_missing_namespace_is_not_found()
    {
        var error = Failed(new CreateObject("configmaps", Objects.ConfigMap("c", "nowhere")));
        Assert.Equal(404, error.Code);
        Assert.Equal("namespaces \"nowhere\" not found", error.Message);
    }

    [Fact]
    public void Finalizing_a_terminating_namespace_removes_it()
    {
        Stored(new CreateObject("namespaces", Objects.Namespace("team")));
        var marked = (V1Namespace)Stored(new DeleteObject(new ResourceKey("namespaces", null, "team")));
        var again = Failed(new DeleteObject(new ResourceKey("namespaces", null, "team")));
        Assert.Equal(409, again.Code);
        Assert.Contains("The system is ensuring all content is removed from this namespace", again.Message);

        var finalized = KubeObjects.Clone(marked);
        finalized.Spec.Finalizers = [];
        Stored(new UpdateObject("namespaces", finalized, "finalize"));
        Assert.Equal(404, Failed(new GetObject(new ResourceKey("namespaces", null, "team"))).Code);
    }

    [Fact]
    public void Spec_finalizers_change_only_through_finalize()
    {
        var ns = (V1Namespace)Stored(new CreateObject("namespaces", Objects.Namespace("team")));
        var changed = KubeObjects.Clone(ns);
        changed.Spec.Finalizers = [];
        var updated = (V1Namespace)Stored(new UpdateObject("namespaces", changed));
        Assert.Equal(["kubernetes"], updated.Spec.Finalizers);
    }

    [Fact]
    public void Namespace_finalizers_must_be_standard_or_fully_qualified_on_create_and_finalize()
    {
        var bad = Objects.Namespace("odd");
        bad.Spec = new V1NamespaceSpec { Finalizers = ["mine"] };
        var refused = Failed(new CreateObject("namespaces", bad));
        Assert.Equal(422, refused.Code);
        Assert.Equal("Namespace \"odd\" is invalid: spec.finalizers: Invalid value: \"mine\": name is neither a standard " +
                     "finalizer name nor is it fully qualified", refused.Message);

        var ns = (V1Namespace)Stored(new CreateObject("namespaces", Objects.Namespace("team")));
        var finalized = KubeObjects.Clone(ns);
        finalized.Spec.Finalizers = ["kubernetes", "example.com/mine", "mine"];
        Assert.Equal(422, Failed(new UpdateObject("namespaces", finalized, "finalize")).Code);
        finalized.Spec.Finalizers = ["kubernetes", "example.com/mine"];
        Assert.Equal(["kubernetes", "example.com/mine"], ((V1Namespace)Stored(new UpdateObject("namespaces", finalized, "finalize"))).Spec.Finalizers);
    }

    [Theory]
    [InlineData("default")]
    [InlineData("kube-system")]
    [InlineData("kube-public")]
    public void System_namespaces_may_not_be_deleted(string name)
    {
        var error = Failed(new DeleteObject(new ResourceKey("namespaces", null, name)));   // created at the store's first start
        Assert.Equal(403, error.Code);
        Assert.Equal($"namespaces \"{name}\" is forbidden: this namespace may not be deleted", error.Message);
    }

    [Fact]
    public void A_failed_uid_precondition_is_a_conflict()
    {
        Stored(new CreateObject("configmaps", Objects.ConfigMap("c")));
        var error = Failed(new DeleteObject(Key("configmaps", "c"), PreconditionUid: "nope"));
        Assert.Equal(409, error.Code);
        Assert.Contains("Precondition failed: UID in precondition: nope", error.Message);
    }
}
