using k8s.Models;
using Orchestrator.Master.Controllers;
using Orchestrator.Master.Store;
using Orchestrator.Master.Tests.Controllers.Support;
using Orchestrator.Shared.Api;
using Xunit;
using Xunit.Abstractions;

namespace Orchestrator.Master.Tests.Controllers;

public sealed class ApiServiceRegistrationTests(ITestOutputHelper output) : ControllerTestKit(output)
{
    private static readonly TimeSpan Resync = TimeSpan.FromMinutes(5);

    private V1APIService? Named(string name) => All<V1APIService>().FirstOrDefault(a => a.Metadata.Name == name);

    [Fact]
    public void Every_served_built_in_group_version_gets_a_local_available_api_service()
    {
        Sys.ActorOf(ApiServiceRegistration.Props(Store, Resync, Catalog));
        AwaitAssert(() =>
        {
            foreach (var name in new[] { "v1.", "v1.apps", "v1.batch", "v2.autoscaling", "v1.autoscaling", "v1.apiregistration.k8s.io" })
                Assert.True(Named(name) is not null, $"{name} among {string.Join(", ", All<V1APIService>().Select(a => a.Metadata.Name))}");
        });
        var core = Named("v1.")!;
        Assert.Equal("onstart", core.Metadata.Labels[ApiServiceRegistration.AutomanagedLabel]);
        Assert.Null(core.Spec.Service);
        Assert.Equal((18000, 1), (core.Spec.GroupPriorityMinimum, core.Spec.VersionPriority));
        Assert.Contains(core.Status.Conditions, c => c.Type == "Available" && c.Status == "True");
        // only what is served: flowcontrol's v1 (with kube's priorities), no beta versions
        Assert.Equal((16100, 21), Named("v1.flowcontrol.apiserver.k8s.io") is { } flowcontrol
            ? (flowcontrol.Spec.GroupPriorityMinimum, flowcontrol.Spec.VersionPriority) : default);
        Assert.DoesNotContain(All<V1APIService>(), a => a.Spec.Version.Contains("beta") && a.Spec.Group != "metrics.k8s.io");
    }

    [Fact]
    public void A_definitions_served_versions_come_and_go_with_it_and_the_users_own_are_left_alone()
    {
        Sys.ActorOf(ApiServiceRegistration.Props(Store, Resync, Catalog));
        AwaitAssert(() => Assert.NotNull(Named("v1.apps")));
        var mine = Seed(new V1APIService
        {
            ApiVersion = "apiregistration.k8s.io/v1", Kind = "APIService", Metadata = new V1ObjectMeta { Name = "v1.mine.example.com" },
            Spec = new V1APIServiceSpec { Group = "mine.example.com", Version = "v1", GroupPriorityMinimum = 10, VersionPriority = 10 },
        });
        var definition = new V1CustomResourceDefinition
        {
            ApiVersion = "apiextensions.k8s.io/v1", Kind = "CustomResourceDefinition",
            Metadata = new V1ObjectMeta { Name = "crontabs.stable.example.com" },
            Spec = new V1CustomResourceDefinitionSpec
            {
                Group = "stable.example.com", Scope = "Namespaced",
                Names = new V1CustomResourceDefinitionNames { Plural = "crontabs", Singular = "crontab", Kind = "CronTab" },
                Versions =
                [
                    new V1CustomResourceDefinitionVersion { Name = "v1", Served = true, Storage = true, Schema = Schema() },
                    new V1CustomResourceDefinitionVersion { Name = "v1beta1", Served = false, Storage = false, Schema = Schema() },
                ],
            },
        };
        var desired = ApiServiceRegistration.Desired((_, _) => false, [definition]);
        Assert.Equal(["v1.stable.example.com"], desired.Keys);
        Assert.Equal("true", desired["v1.stable.example.com"].Metadata.Labels[ApiServiceRegistration.AutomanagedLabel]);
        Assert.Equal((1000, 100), (desired["v1.stable.example.com"].Spec.GroupPriorityMinimum, desired["v1.stable.example.com"].Spec.VersionPriority));

        // an automanaged one nothing serves any more is deleted; the user's own stays as it is
        Seed(new V1APIService
        {
            ApiVersion = "apiregistration.k8s.io/v1", Kind = "APIService",
            Metadata = new V1ObjectMeta { Name = "v1.gone.example.com", Labels = new Dictionary<string, string> { [ApiServiceRegistration.AutomanagedLabel] = "true" } },
            Spec = new V1APIServiceSpec { Group = "gone.example.com", Version = "v1", GroupPriorityMinimum = 1000, VersionPriority = 100 },
        });
        AwaitAssert(() => Assert.Null(Named("v1.gone.example.com")));
        Assert.Equal(mine.Metadata.Uid, Named("v1.mine.example.com")!.Metadata.Uid);
        Assert.Equal(10, Named("v1.mine.example.com")!.Spec.GroupPriorityMinimum);
    }

    private static V1CustomResourceValidation Schema() => new() { OpenAPIV3Schema = new V1JSONSchemaProps { Type = "object" } };
}
