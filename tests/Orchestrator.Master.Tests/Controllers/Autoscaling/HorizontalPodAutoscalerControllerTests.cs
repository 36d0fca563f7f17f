using k8s.Models;
using Orchestrator.Master.Controllers;
using Orchestrator.Master.ResourceMetrics;
using Orchestrator.Master.Tests.Controllers.Support;
using Xunit;
using Xunit.Abstractions;

namespace Orchestrator.Master.Tests.Controllers.Autoscaling;

public sealed class HorizontalPodAutoscalerControllerTests(ITestOutputHelper output) : ControllerTestKit(output)
{
    private static readonly TimeSpan SyncPeriod = TimeSpan.FromSeconds(5);

    private static V2HorizontalPodAutoscaler Autoscaler(string name, string target) => new()
    {
        ApiVersion = "autoscaling/v2", Kind = "HorizontalPodAutoscaler",
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default" },
        Spec = new V2HorizontalPodAutoscalerSpec
        {
            MinReplicas = 1, MaxReplicas = 3,
            ScaleTargetRef = new V2CrossVersionObjectReference
            {
                ApiVersion = "apps/v1", Kind = "Deployment", Name = target,
            },
            Metrics =
            [
                new V2MetricSpec
                {
                    Type = "Resource",
                    Resource = new V2ResourceMetricSource
                    {
                        Name = "cpu", Target = new V2MetricTarget { Type = "Utilization", AverageUtilization = 50 },
                    },
                },
            ],
        },
    };

    // Kubernetes' controller queues every autoscaler with the sync period as delay, a new one too: a client that
    // creates one, reads it and replaces it at once (the C# client's V2HorizontalPodAutoscalerTestAsync) meets no
    // status write in between, so no conflict.
    [Fact]
    public void A_new_autoscaler_is_first_synced_one_sync_period_after_it_was_seen()
    {
        Seed(Objects.Deployment("web", 1, "web"));
        var created = DateTime.UtcNow;
        Seed(Autoscaler("web", "web"));
        Sys.ActorOf(HorizontalPodAutoscalerController.Props(Store, new ResourceUsageCache(), SyncPeriod));

        AwaitAssert(() => Assert.NotNull(Find<V2HorizontalPodAutoscaler>("web")?.Status?.Conditions),
            TimeSpan.FromSeconds(60));
        var synced = Find<V2HorizontalPodAutoscaler>("web")!.Status.Conditions.Min(c => c.LastTransitionTime!.Value);
        // (condition times are whole seconds: the sync was at least a period after the creation's second began)
        var earliest = created.AddTicks(-(created.Ticks % TimeSpan.TicksPerSecond)) + SyncPeriod;
        Assert.True(synced.ToUniversalTime() >= earliest,
            $"first sync at {synced:O}, created at {created:O}: not a sync period ({SyncPeriod}) later");
    }
}
