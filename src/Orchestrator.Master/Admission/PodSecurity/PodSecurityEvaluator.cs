using k8s.Models;

namespace Orchestrator.Master.Admission.PodSecurity;

/// <summary>The failures of one evaluation, formatted as kube's AggregateCheckResult.</summary>
internal sealed record PodSecurityResult(IReadOnlyList<CheckFailure> Failures)
{
    public bool Allowed => Failures.Count == 0;

    /// <summary>"host namespaces, privileged" — what the namespace check prints per pod.</summary>
    public string ForbiddenReason => string.Join(", ", Failures.Select(f => f.Reason));

    /// <summary>"host namespaces (hostNetwork=true), privileged (container \"c\" must not set …)".</summary>
    public string ForbiddenDetail =>
        string.Join(", ", Failures.Select(f => f.Detail.Length > 0 ? $"{f.Reason} ({f.Detail})" : f.Reason));
}

/// <summary>
/// Runs the checks of a level at a policy version, as kube's checkRegistry: baseline checks for baseline; for
/// restricted, the restricted checks in force plus the baseline checks they do not override; baseline checks first,
/// each group in the order of its ids (so messages come out in kube's order). Versions past 1.32, and "latest",
/// evaluate as 1.32.
/// </summary>
internal static class PodSecurityEvaluator
{
    private static readonly IReadOnlyList<PodSecurityCheck> Baseline =
        BaselineChecks.All.OrderBy(c => c.Id, StringComparer.Ordinal).ToList();
    private static readonly IReadOnlyList<PodSecurityCheck> Restricted =
        RestrictedChecks.All.OrderBy(c => c.Id, StringComparer.Ordinal).ToList();

    public static PodSecurityResult Evaluate(LevelVersion policy, V1ObjectMeta? meta, V1PodSpec spec)
    {
        if (policy.Level == PodSecurityLevel.Privileged) return new PodSecurityResult([]);
        var minor = policy.Version.EffectiveMinor;
        meta ??= new V1ObjectMeta();
        var checks = new List<VersionedCheck>();
        var restricted = policy.Level == PodSecurityLevel.Restricted
            ? Restricted.Select(c => c.At(minor)).OfType<VersionedCheck>().ToList()
            : [];
        var overridden = restricted.SelectMany(c => c.Overrides ?? []).ToHashSet();
        foreach (var check in Baseline)
            if (!overridden.Contains(check.Id) && check.At(minor) is { } versioned)
                checks.Add(versioned);
        checks.AddRange(restricted);
        return new PodSecurityResult(checks.Select(c => c.Check(meta, spec)).OfType<CheckFailure>().ToList());
    }
}
