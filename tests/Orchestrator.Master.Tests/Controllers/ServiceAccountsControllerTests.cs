using k8s.Models;
using Orchestrator.Master.Controllers;
using Orchestrator.Master.Store;
using Orchestrator.Master.Tests.Controllers.Support;
using Xunit;
using Xunit.Abstractions;

namespace Orchestrator.Master.Tests.Controllers;

public sealed class ServiceAccountsControllerTests(ITestOutputHelper output) : ControllerTestKit(output)
{
    private static readonly TimeSpan Resync = TimeSpan.FromMinutes(5);

    private V1ServiceAccount? DefaultIn(string ns) =>
        All<V1ServiceAccount>().FirstOrDefault(sa => sa.Metadata.NamespaceProperty == ns && sa.Metadata.Name == "default");

    private static V1Namespace Namespace(string name) => new() { Metadata = new V1ObjectMeta { Name = name } };

    [Fact]
    public void Every_namespace_gets_a_default_service_account_new_ones_too()
    {
        Sys.ActorOf(ServiceAccountsController.Props(Store, Resync));
        AwaitAssert(() =>
        {
            foreach (var ns in new[] { "default", "kube-system", "kube-public", "kube-node-lease" }) Assert.NotNull(DefaultIn(ns));
        });

        Seed(Namespace("team"));
        AwaitAssert(() => Assert.NotNull(DefaultIn("team")));
        Assert.Single(All<V1ServiceAccount>(), sa => sa.Metadata.NamespaceProperty == "team");
    }

    [Fact]
    public void A_deleted_default_service_account_is_created_again()
    {
        Sys.ActorOf(ServiceAccountsController.Props(Store, Resync));
        AwaitAssert(() => Assert.NotNull(DefaultIn("default")));
        var first = DefaultIn("default")!;

        Write(new DeleteObject(new ResourceKey("serviceaccounts", "default", "default")));
        AwaitAssert(() => Assert.NotEqual(first.Metadata.Uid, DefaultIn("default")?.Metadata.Uid ?? first.Metadata.Uid));
    }

    [Fact]
    public void A_terminating_namespace_gets_none()
    {
        Seed(Namespace("leaving"));
        Write(new DeleteObject(new ResourceKey("namespaces", null, "leaving")));
        Sys.ActorOf(ServiceAccountsController.Props(Store, Resync));

        AwaitAssert(() => Assert.NotNull(DefaultIn("kube-node-lease")));
        Assert.Null(DefaultIn("leaving"));
    }
}
