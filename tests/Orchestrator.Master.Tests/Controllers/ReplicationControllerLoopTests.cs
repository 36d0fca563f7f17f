using k8s.Models;
using Orchestrator.Master.Controllers;
using Orchestrator.Master.Store;
using Orchestrator.Master.Tests.Controllers.Support;
using Xunit;
using Xunit.Abstractions;
using static Orchestrator.Master.Tests.Controllers.Support.Objects;

namespace Orchestrator.Master.Tests.Controllers;

/// <summary>
/// The seed's replication controller loop (section 4), one step per test: it starts; finds the pods its
/// selector matches; compares their number with the replicas; deletes surplus pods (Kubernetes' ranking makes the
/// choice deterministic); creates missing pods from the template; and goes back to step 2 forever — with
/// selector, replica count and template all changeable at any time.
/// </summary>
public sealed class ReplicationControllerLoopTests(ITestOutputHelper output) : ControllerTestKit(output)
{
    private static readonly TimeSpan Resync = TimeSpan.FromMinutes(5);

    private static V1ReplicationController Rc(string name, int replicas, string app) => new()
    {
        ApiVersion = "v1",
        Kind = "ReplicationController",
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default" },
        Spec = new V1ReplicationControllerSpec { Replicas = replicas, Selector = App(app), Template = Template(App(app)) },
    };

    private IReadOnlyList<V1Pod> PodsOf(V1ReplicationController rc) =>
        All<V1Pod>().Where(p => p.Metadata.OwnerReferences?.Any(o => o.Uid == rc.Metadata.Uid && o.Controller == true) == true).ToList();

    private void Start() => Sys.ActorOf(ReplicationControllerController.Props(Store, Resync));

    [Fact]
    public void Step1_a_started_controller_reports_observed_generation_and_counts()
    {
        var rc = Seed(Rc("http", 0, "http"));
        Start();

        AwaitAssert(() =>
        {
            var status = Find<V1ReplicationController>("http")!.Status;
            Assert.NotNull(status);
            Assert.Equal((rc.Metadata.Generation, 0), (status.ObservedGeneration, status.Replicas));
        });
    }

    [Fact]
    public void Step2_pods_matching_the_selector_are_found_and_adopted_instead_of_duplicated()
    {
        Seed(Pod("loose-1", App("http"), "n1", "Running", ready: true));
        Seed(Pod("loose-2", App("http"), "n1", "Running", ready: true));
        Seed(Pod("other", App("db"), "n1", "Running", ready: true));
        var rc = Seed(Rc("http", 2, "http"));
        Start();

        AwaitAssert(() => Assert.Equal(["loose-1", "loose-2"], PodsOf(rc).Select(p => p.Metadata.Name).Order()));
        Writes.ReceiveWhile<object>(TimeSpan.FromSeconds(1), m => m);
        Assert.Equal(3, All<V1Pod>().Count);
        Assert.Null(Find<V1Pod>("other")!.Metadata.OwnerReferences);
    }

    [Fact]
    public void Step3_the_count_is_compared_with_replicas_and_status_reports_it()
    {
        Seed(Pod("a", App("http"), "n1", "Running", ready: true));
        var rc = Seed(Rc("http", 1, "http"));
        Writes.ReceiveWhile<object>(TimeSpan.FromMilliseconds(300), m => m); // the seeding writes
        Start();

        AwaitAssert(() => Assert.Equal((1, 1), (Find<V1ReplicationController>("http")!.Status.Replicas,
            Find<V1ReplicationController>("http")!.Status.ReadyReplicas ?? 0)));
        Assert.Single(PodsOf(rc));
        Assert.DoesNotContain(Writes.ReceiveWhile<object>(TimeSpan.FromSeconds(1), m => m), m => m is CreateObject { Resource: "pods" });
    }

    [Fact]
    public void Step4_surplus_pods_are_deleted_unscheduled_then_pending_then_not_ready_first()
    {
        var now = DateTime.UtcNow;
        Seed(Pod("running-ready", App("http"), "n1", "Running", ready: true, readySince: now.AddHours(-1)));
        Seed(Pod("unscheduled", App("http")));
        Seed(Pod("pending", App("http"), "n1", "Pending"));
        Seed(Pod("running-not-ready", App("http"), "n1", "Running", ready: false));
        var rc = Seed(Rc("http", 1, "http"));
        Start();

        AwaitAssert(() => Assert.Equal(["running-ready"], PodsOf(rc).Select(p => p.Metadata.Name)));
        AwaitAssert(() => Assert.Equal(["running-ready"], All<V1Pod>().Select(p => p.Metadata.Name)));
    }

    [Fact]
    public void Step5_missing_pods_are_created_from_the_template()
    {
        var rc = Rc("http", 3, "http");
        rc.Spec.Template.Spec.Containers[0].Image = "katacoda/docker-http-server:v1";
        rc = Seed(rc);
        Start();

        AwaitAssert(() => Assert.Equal(3, PodsOf(rc).Count));
        Assert.All(PodsOf(rc), p =>
        {
            Assert.StartsWith("http-", p.Metadata.Name);
            Assert.Equal("katacoda/docker-http-server:v1", p.Spec.Containers.Single().Image);
            Assert.Equal("ReplicationController", p.Metadata.OwnerReferences.Single().Kind);
        });
    }

    [Fact]
    public void Step6_the_loop_runs_forever_a_deleted_pod_is_replaced()
    {
        var rc = Seed(Rc("http", 2, "http"));
        Start();
        AwaitAssert(() => Assert.Equal(2, PodsOf(rc).Count));
        var victim = PodsOf(rc)[0].Metadata.Name;

        Write(new DeleteObject(new ResourceKey("pods", "default", victim)));

        AwaitAssert(() =>
        {
            var names = PodsOf(rc).Select(p => p.Metadata.Name).ToList();
            Assert.Equal(2, names.Count);
            Assert.DoesNotContain(victim, names);
        });
    }

    [Fact]
    public void Replicas_template_and_selector_can_all_change_at_any_time()
    {
        var rc = Seed(Rc("http", 1, "http"));
        Start();
        AwaitAssert(() => Assert.Single(PodsOf(rc)));
        var first = PodsOf(rc).Single().Metadata.Name;

        // The replica count: scaled up.
        var changed = Find<V1ReplicationController>("http")!;
        changed.Spec.Replicas = 2;
        changed.Spec.Template.Spec.Containers[0].Image = "img:v2"; // the template: only new pods use it
        Write(new UpdateObject("replicationcontrollers", changed));
        AwaitAssert(() => Assert.Equal(2, PodsOf(rc).Count));
        Assert.Equal("img:v2", PodsOf(rc).Single(p => p.Metadata.Name != first).Spec.Containers[0].Image);
        Assert.Equal("katacoda/docker-http-server:latest", PodsOf(rc).Single(p => p.Metadata.Name == first).Spec.Containers[0].Image);

        // The selector (and the template's labels with it): old pods are released, new ones created.
        changed = Find<V1ReplicationController>("http")!;
        changed.Spec.Selector = App("http2");
        changed.Spec.Template.Metadata.Labels = App("http2");
        Write(new UpdateObject("replicationcontrollers", changed));
        AwaitAssert(() =>
        {
            var owned = PodsOf(rc);
            Assert.Equal(2, owned.Count);
            Assert.All(owned, p => Assert.Equal("http2", p.Metadata.Labels["app"]));
        });
        AwaitAssert(() => Assert.Equal(2, All<V1Pod>().Count(p => p.Metadata.Labels["app"] == "http" && p.Metadata.OwnerReferences is not { Count: > 0 })));
    }
}
