using Orchestrator.Master.Admission.PodSecurity;
using Xunit;

namespace Orchestrator.Master.Tests.Admission.PodSecurity;

/// <summary>Namespace labels read as kube's PolicyToEvaluate reads them.</summary>
public sealed class PodSecurityLabelsTests
{
    private static (NamespacePolicy, IReadOnlyList<LabelError>) Of(params (string Key, string Value)[] labels) =>
        PodSecurityLabels.PolicyOf(labels.ToDictionary(l => PodSecurityLabels.Prefix + l.Key, l => l.Value), NamespacePolicy.Privileged);

    [Fact]
    public void No_labels_is_privileged()
    {
        var (policy, errors) = Of();
        Assert.True(policy.FullyPrivileged);
        Assert.Empty(errors);
    }

    [Fact]
    public void Warn_follows_a_stricter_enforce_level_and_its_version()
    {
        var (policy, _) = Of(("enforce", "restricted"), ("enforce-version", "v1.30"));
        Assert.Equal("restricted:v1.30", policy.Enforce.ToString());
        Assert.Equal("restricted:v1.30", policy.Warn.ToString());
        Assert.Equal("privileged:latest", policy.Audit.ToString());
    }

    [Fact]
    public void An_explicit_warn_level_is_kept()
    {
        var (policy, _) = Of(("enforce", "restricted"), ("warn", "baseline"));
        Assert.Equal("baseline:latest", policy.Warn.ToString());
    }

    [Fact]
    public void Bad_values_are_errors_with_kubes_messages_and_fail_closed_for_enforce_only()
    {
        var (policy, errors) = Of(("enforce", "strict"), ("warn", "loud"), ("audit-version", "1.25"));
        Assert.Equal(PodSecurityLevel.Restricted, policy.Enforce.Level);
        Assert.Equal(PodSecurityLevel.Privileged, policy.Warn.Level);
        Assert.Equal(
        [
            "metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: \"strict\": must be one of privileged, baseline, restricted",
            "metadata.labels[pod-security.kubernetes.io/audit-version]: Invalid value: \"1.25\": must be \"latest\" or \"v1.x\"",
            "metadata.labels[pod-security.kubernetes.io/warn]: Invalid value: \"loud\": must be one of privileged, baseline, restricted",
        ], errors.Select(e => $"{e.Field}: {e.Message}"));
    }

    [Theory]
    [InlineData("v1.0", true)]
    [InlineData("v1.32", true)]
    [InlineData("v1.01", false)]
    [InlineData("v2.1", false)]
    [InlineData("latest", true)]
    [InlineData("v1.", false)]
    public void Versions_are_latest_or_v1_minor(string version, bool valid)
    {
        var (_, errors) = Of(("enforce", "baseline"), ("enforce-version", version));
        Assert.Equal(valid, errors.Count == 0);
    }
}
