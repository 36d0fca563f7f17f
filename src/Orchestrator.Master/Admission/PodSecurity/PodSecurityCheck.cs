using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;
using k8s.Models;

namespace Orchestrator.Master.Admission.PodSecurity;

/// <summary>Why a check refuses a pod: a short reason, always shown, and an optional detail (kube's CheckResult).</summary>
internal sealed record CheckFailure(string Reason, string Detail = "");

/// <summary>One revision of a check, for policy versions from <see cref="MinimumMinor"/> on; a restricted revision may
/// replace baseline checks (<see cref="Overrides"/>), as restrictedVolumes replaces hostPathVolumes.</summary>
internal sealed record VersionedCheck(int MinimumMinor, Func<V1ObjectMeta, V1PodSpec, CheckFailure?> Check, string[]? Overrides = null);

/// <summary>A check of the Pod Security Standards (k8s.io/pod-security-admission/policy): its id, level and revisions
/// in increasing version order.</summary>
internal sealed record PodSecurityCheck(string Id, PodSecurityLevel Level, IReadOnlyList<VersionedCheck> Versions)
{
    /// <summary>The revision in force at a policy version, or null when the check is newer.</summary>
    public VersionedCheck? At(int minor) => Versions.LastOrDefault(v => v.MinimumMinor <= minor);
}

/// <summary>A container of any of the three lists, as the checks see it (kube's visitContainers).</summary>
internal sealed record ContainerView(string Name, V1SecurityContext? SecurityContext, IList<V1ContainerPort>? Ports)
{
    /// <summary>Init containers, containers, then ephemeral containers.</summary>
    public static IEnumerable<ContainerView> All(V1PodSpec spec)
    {
        foreach (var c in spec.InitContainers ?? []) yield return new(c.Name ?? "", c.SecurityContext, c.Ports);
        foreach (var c in spec.Containers ?? []) yield return new(c.Name ?? "", c.SecurityContext, c.Ports);
        foreach (var c in spec.EphemeralContainers ?? []) yield return new(c.Name ?? "", c.SecurityContext, c.Ports);
    }
}

/// <summary>kube's message helpers: joinQuote and pluralize.</summary>
internal static class CheckText
{
    public static string JoinQuote(IEnumerable<string> items)
    {
        var list = items.ToList();
        return list.Count == 0 ? "" : "\"" + string.Join("\", \"", list) + "\"";
    }

    public static string Plural(string singular, string plural, int count) => count == 1 ? singular : plural;

    /// <summary>"container \"a\"" / "containers \"a\", \"b\"".</summary>
    public static string Containers(IReadOnlyCollection<string> names) =>
        $"{Plural("container", "containers", names.Count)} {JoinQuote(names)}";

    /// <summary>A Go %q of a string.</summary>
    public static string Quote(string value) => GoQuote.Quote(value);

    public static SortedSet<string> SortedSet() => new(StringComparer.Ordinal);
}
