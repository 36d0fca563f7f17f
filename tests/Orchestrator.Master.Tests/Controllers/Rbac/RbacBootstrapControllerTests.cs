using Akka.Actor;
using k8s.Models;
using Orchestrator.Master.Controllers.Rbac;
using Orchestrator.Master.Store;
using Orchestrator.Master.Tests.Controllers.Support;
using Xunit;
using Xunit.Abstractions;

namespace Orchestrator.Master.Tests.Controllers.Rbac;

public sealed class RbacBootstrapControllerTests(ITestOutputHelper output) : ControllerTestKit(output)
{
    /// <summary>Refuses the first create of one object with 429 (a full write queue) and passes everything else on.</summary>
    private sealed class RefuseFirstCreate : ReceiveActor
    {
        public RefuseFirstCreate(IActorRef target, string resource, string name)
        {
            var refused = false;
            Receive<CreateObject>(c => !refused && c.Resource == resource && c.Object.Metadata.Name == name, _ =>
            {
                refused = true;
                Sender.Tell(new StoreFailed(StoreErrors.TooManyRequests()));
            });
            ReceiveAny(message => target.Forward(message));
        }
    }

    [Fact]
    public void A_default_the_store_refused_once_is_created_on_a_later_try()
    {
        var gate = Sys.ActorOf(Props.Create(() => new RefuseFirstCreate(Store, "clusterrolebindings", "system:basic-user")));
        Sys.ActorOf(RbacBootstrapController.Props(gate));

        AwaitAssert(() =>
        {
            var bindings = All<V1ClusterRoleBinding>().Select(b => b.Metadata.Name).ToHashSet();
            Assert.All(BootstrapPolicy.ClusterRoleBindings(), b => Assert.Contains(b.Metadata.Name, bindings));
            var roles = All<V1ClusterRole>().Select(r => r.Metadata.Name).ToHashSet();
            Assert.All(BootstrapPolicy.ClusterRoles(), r => Assert.Contains(r.Metadata.Name, roles));
        }, TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public void A_default_deleted_after_the_start_is_not_created_again_until_the_next_start()
    {
        Sys.ActorOf(RbacBootstrapController.Props(Store));
        AwaitAssert(() => Assert.Contains("system:basic-user", All<V1ClusterRoleBinding>().Select(b => b.Metadata.Name)),
            TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(200));

        Write(new DeleteObject(new ResourceKey("clusterrolebindings", null, "system:basic-user")));
        Thread.Sleep(1500); // longer than the retry interval: a retry loop would have put it back
        Assert.DoesNotContain("system:basic-user", All<V1ClusterRoleBinding>().Select(b => b.Metadata.Name));
    }
}
