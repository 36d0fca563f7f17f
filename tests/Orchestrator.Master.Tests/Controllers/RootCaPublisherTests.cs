using k8s.Models;
using Orchestrator.Master.Controllers;
using Orchestrator.Master.Store;
using Orchestrator.Master.Tests.Controllers.Support;
using Orchestrator.Shared.Api;
using Xunit;
using Xunit.Abstractions;

namespace Orchestrator.Master.Tests.Controllers;

public sealed class RootCaPublisherTests(ITestOutputHelper output) : ControllerTestKit(output)
{
    private static readonly TimeSpan Resync = TimeSpan.FromMinutes(5);
    private const string Ca = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

    private V1ConfigMap? RootCaIn(string ns) =>
        All<V1ConfigMap>().FirstOrDefault(c => c.Metadata.NamespaceProperty == ns && c.Metadata.Name == "kube-root-ca.crt");

    [Fact]
    public void Every_namespace_gets_the_api_servers_ca_new_ones_too()
    {
        Sys.ActorOf(RootCaPublisher.Props(Store, Resync, Ca));
        AwaitAssert(() =>
        {
            foreach (var ns in new[] { "default", "kube-system", "kube-public", "kube-node-lease" })
                Assert.Equal(Ca, RootCaIn(ns)?.Data?["ca.crt"]);
        });
        Assert.Equal(RootCaPublisher.Description, RootCaIn("default")!.Metadata.Annotations[RootCaPublisher.DescriptionAnnotation]);

        Seed(new V1Namespace { Metadata = new V1ObjectMeta { Name = "team" } });
        AwaitAssert(() => Assert.Equal(Ca, RootCaIn("team")?.Data?["ca.crt"]));
    }

    [Fact]
    public void An_edited_or_deleted_copy_is_put_back()
    {
        Sys.ActorOf(RootCaPublisher.Props(Store, Resync, Ca));
        AwaitAssert(() => Assert.NotNull(RootCaIn("default")));

        var edited = KubeObjects.Clone(RootCaIn("default")!);
        edited.Data = new Dictionary<string, string> { ["ca.crt"] = "forged", ["extra"] = "x" };
        Write(new UpdateObject("configmaps", edited));
        AwaitAssert(() => Assert.Equal(new Dictionary<string, string> { ["ca.crt"] = Ca }, RootCaIn("default")?.Data));

        var first = RootCaIn("kube-public")!;
        Write(new DeleteObject(new ResourceKey("configmaps", "kube-public", "kube-root-ca.crt")));
        AwaitAssert(() => Assert.NotEqual(first.Metadata.Uid, RootCaIn("kube-public")?.Metadata.Uid ?? first.Metadata.Uid));
    }
}
