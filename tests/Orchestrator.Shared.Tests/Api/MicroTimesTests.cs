using k8s;
using k8s.Models;
using Orchestrator.Shared.Api;
using Xunit;

namespace Orchestrator.Shared.Tests.Api;

/// <summary>MicroTime fields carry exactly six fractional digits, as Go reads them; Time fields whole seconds, as
/// kube-apiserver writes a metav1.Time.</summary>
public sealed class MicroTimesTests
{
    private static readonly DateTime Second = new(2026, 12, 5, 2, 0, 0, DateTimeKind.Utc);

    [Fact]
    public void An_event_time_on_an_exact_second_keeps_its_six_zero_digits()
    {
        var json = KubeObjects.Serialize(new Corev1Event
        {
            Metadata = new V1ObjectMeta { Name = "e", CreationTimestamp = Second },
            EventTime = Second, Series = new Corev1EventSeries { Count = 2, LastObservedTime = Second.AddTicks(1_200_000) },
            FirstTimestamp = Second,
        });
        Assert.Contains("\"eventTime\":\"2026-12-05T02:00:00.000000Z\"", json);
        Assert.Contains("\"lastObservedTime\":\"2026-12-05T02:00:00.120000Z\"", json);
        Assert.Contains("\"firstTimestamp\":\"2026-12-05T02:00:00Z\"", json); // a Time, not a MicroTime
        Assert.Contains("\"creationTimestamp\":\"2026-12-05T02:00:00Z\"", json);
    }

    [Fact]
    public void The_events_v1_and_lease_micro_times_too_and_they_read_back()
    {
        var v1 = KubeObjects.Serialize(new Eventsv1Event { Metadata = new V1ObjectMeta { Name = "e" }, EventTime = Second,
            Series = new Eventsv1EventSeries { Count = 1, LastObservedTime = Second } });
        Assert.Contains("\"eventTime\":\"2026-12-05T02:00:00.000000Z\"", v1);
        Assert.Contains("\"lastObservedTime\":\"2026-12-05T02:00:00.000000Z\"", v1);

        var lease = KubeObjects.Serialize(new V1Lease { Metadata = new V1ObjectMeta { Name = "n" },
            Spec = new V1LeaseSpec { RenewTime = Second, AcquireTime = Second.AddTicks(1_234_567) } });
        Assert.Contains("\"renewTime\":\"2026-12-05T02:00:00.000000Z\"", lease);
        Assert.Contains("\"acquireTime\":\"2026-12-05T02:00:00.123456Z\"", lease);
        var back = KubernetesJson.Deserialize<V1Lease>(lease);
        Assert.Equal(Second, back.Spec.RenewTime!.Value.ToUniversalTime());
        Assert.Equal(Second.AddTicks(1_234_560), back.Spec.AcquireTime!.Value.ToUniversalTime());
        Assert.Equal(lease, KubeObjects.Serialize(back));
    }

    [Fact]
    public void An_absent_micro_time_stays_absent_and_any_precision_is_read()
    {
        Assert.DoesNotContain("eventTime", KubeObjects.Serialize(new Corev1Event { Metadata = new V1ObjectMeta { Name = "e" } }));
        var read = KubernetesJson.Deserialize<Corev1Event>("""{"metadata":{"name":"e"},"eventTime":"2026-12-05T02:00:00Z"}""");
        Assert.Equal(Second, read.EventTime!.Value.ToUniversalTime());
    }

    [Fact]
    public void A_time_with_a_fraction_is_written_in_whole_seconds_and_read_with_it()
    {
        var json = KubeObjects.Serialize(new V1Deployment
        {
            Metadata = new V1ObjectMeta { Name = "d", CreationTimestamp = Second.AddTicks(9_999_999) },
            Status = new V1DeploymentStatus
            {
                Conditions = [new V1DeploymentCondition { Type = "Available", Status = "True", LastUpdateTime = Second.AddTicks(2_404_730) }],
            },
        });
        Assert.Contains("\"creationTimestamp\":\"2026-12-05T02:00:00Z\"", json);
        Assert.Contains("\"lastUpdateTime\":\"2026-12-05T02:00:00Z\"", json);
        Assert.DoesNotContain("lastTransitionTime", json);
        var read = KubernetesJson.Deserialize<V1Deployment>("""{"metadata":{"name":"d","creationTimestamp":"2026-12-05T02:00:00.5Z"}}""");
        Assert.Equal(Second.AddTicks(5_000_000), read.Metadata.CreationTimestamp!.Value.ToUniversalTime());
    }
}
