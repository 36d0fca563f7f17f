using k8s.Models;
using Orchestrator.Master.ControlLoop;
using Xunit;

namespace Orchestrator.Master.Tests.ControlLoop;

/// <summary>Taint and toleration matching as kube's Toleration.ToleratesTaint, GetMatchingTolerations and
/// getMinTolerationTime.</summary>
public sealed class TolerationsTests
{
    private static readonly V1Taint Gpu = new() { Key = "dedicated", Value = "gpu", Effect = "NoExecute" };

    [Theory]
    [InlineData("dedicated", "Equal", "gpu", "NoExecute", true)]
    [InlineData("dedicated", null, "gpu", "NoExecute", true)]     // no operator: Equal
    [InlineData("dedicated", "Equal", "cpu", "NoExecute", false)]
    [InlineData("dedicated", "Exists", null, "NoExecute", true)]
    [InlineData("dedicated", "Exists", null, "", true)]           // every effect
    [InlineData("dedicated", "Exists", null, "NoSchedule", false)]
    [InlineData("", "Exists", null, "", true)]                    // everything
    [InlineData("other", "Exists", null, "NoExecute", false)]
    [InlineData("dedicated", "Gt", "gpu", "NoExecute", false)]
    public void A_toleration_tolerates_a_taint_as_kubes(string key, string? op, string? value, string effect, bool expected) =>
        Assert.Equal(expected, Tolerations.Tolerates(new V1Toleration { Key = key, OperatorProperty = op, Value = value, Effect = effect }, Gpu));

    [Fact]
    public void The_first_matching_toleration_of_each_taint_is_used_and_any_untolerated_taint_fails_them_all()
    {
        var other = new V1Taint { Key = "other", Effect = "NoExecute" };
        var forever = new V1Toleration { Key = "dedicated", OperatorProperty = "Exists", Effect = "NoExecute" };
        var brief = new V1Toleration { Key = "dedicated", OperatorProperty = "Exists", Effect = "NoExecute", TolerationSeconds = 10 };
        var (all, used) = Tolerations.Matching([Gpu], [forever, brief]);
        Assert.True(all);
        Assert.Same(forever, Assert.Single(used));
        Assert.Null(Tolerations.MinTolerationTime(used));

        (all, used) = Tolerations.Matching([Gpu, other], [brief]);
        Assert.False(all);
        Assert.Empty(used);
    }

    [Fact]
    public void The_smallest_toleration_seconds_count_and_zero_or_less_is_at_once()
    {
        V1Toleration Seconds(long? s) => new() { OperatorProperty = "Exists", TolerationSeconds = s };
        Assert.Equal(TimeSpan.FromSeconds(30), Tolerations.MinTolerationTime([Seconds(null), Seconds(300), Seconds(30)]));
        Assert.Equal(TimeSpan.Zero, Tolerations.MinTolerationTime([Seconds(300), Seconds(-5)]));
        Assert.Equal(TimeSpan.Zero, Tolerations.MinTolerationTime([]));
        Assert.Null(Tolerations.MinTolerationTime([Seconds(null)]));
    }
}
