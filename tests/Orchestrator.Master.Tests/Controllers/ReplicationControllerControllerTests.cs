using k8s.Models;
using Orchestrator.Master.Controllers;
using Orchestrator.Master.Tests.Controllers.Support;
using Xunit;
using Xunit.Abstractions;
using static Orchestrator.Master.Tests.Controllers.Support.Objects;

namespace Orchestrator.Master.Tests.Controllers;

public sealed class ReplicationControllerControllerTests(ITestOutputHelper output) : ControllerTestKit(output)
{
    [Fact]
    public void A_replication_controller_gets_its_pods_and_status()
    {
        var rc = Seed(new V1ReplicationController
        {
            Metadata = new V1ObjectMeta { Name = "http", NamespaceProperty = "default" },
            Spec = new V1ReplicationControllerSpec
            {
                Replicas = 2,
                Selector = App("http"),
                Template = Template(App("http")),
            },
        });
        Sys.ActorOf(ReplicationControllerController.Props(Store, TimeSpan.FromMinutes(5)));

        AwaitAssert(() => Assert.Equal(2, All<V1Pod>().Count(p =>
            p.Metadata.OwnerReferences?.Single().Kind == "ReplicationController" && p.Metadata.OwnerReferences[0].Uid == rc.Metadata.Uid)));
        AwaitAssert(() => Assert.Equal(2, Find<V1ReplicationController>("http")!.Status.Replicas));
        AwaitAssert(() => Assert.Contains(All<Corev1Event>(), e => e.Source.Component == "replication-controller"
            && e.Reason == "SuccessfulCreate" && e.InvolvedObject.Kind == "ReplicationController"));
    }
}
