using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace Orchestrator.Master.Controllers.NodeLifecycle;

/// <summary>How fast the node lifecycle controller taints NotReady nodes NoExecute, per zone (kube-controller-manager's
/// flags, same names and defaults): --node-eviction-rate nodes a second in a healthy zone, --secondary-node-eviction-rate
/// in a partially disrupted zone of more than --large-cluster-size-threshold nodes (none in a smaller one), a zone being
/// partially disrupted when more than 2 of its nodes and at least --unhealthy-zone-threshold of them are NotReady.</summary>
internal sealed record NodeEvictionSettings(double EvictionRate, double SecondaryEvictionRate, float UnhealthyZoneThreshold, int LargeClusterThreshold)
{
    public const string EvictionRateFlag = "node-eviction-rate";
    public const string SecondaryEvictionRateFlag = "secondary-node-eviction-rate";
    public const string UnhealthyZoneThresholdFlag = "unhealthy-zone-threshold";
    public const string LargeClusterThresholdFlag = "large-cluster-size-threshold";

    public static NodeEvictionSettings Default { get; } = new(0.1, 0.01, 0.55f, 50);

    /// <summary>From the master flags (their checks refused bad values before), else kube's defaults.</summary>
    public static NodeEvictionSettings From(IConfiguration configuration)
    {
        double Number(string flag, double fallback) =>
            double.TryParse(configuration[flag], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v >= 0 && double.IsFinite(v) ? v : fallback;
        return new NodeEvictionSettings(
            Number(EvictionRateFlag, Default.EvictionRate),
            Number(SecondaryEvictionRateFlag, Default.SecondaryEvictionRate),
            (float)Number(UnhealthyZoneThresholdFlag, Default.UnhealthyZoneThreshold),
            int.TryParse(configuration[LargeClusterThresholdFlag], NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : Default.LargeClusterThreshold);
    }

    /// <summary>The rates' and the threshold's check (kube's float32 flags; a negative rate or threshold means nothing).</summary>
    public static string? NumberProblem(string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v >= 0 && double.IsFinite(v)
            ? null : "must be a number, 0 or more";

    /// <summary>The large-cluster threshold's check (kube's int32 flag).</summary>
    public static string? WholeNumberProblem(string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out _) ? null : "must be a whole number, 0 or more";
}
