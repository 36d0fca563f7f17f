namespace Orchestrator.Master.Admission.PodSecurity;

/// <summary>The Pod Security Standards' levels (k8s.io/pod-security-admission/api), least strict first.</summary>
internal enum PodSecurityLevel { Privileged, Baseline, Restricted }

/// <summary>A policy version: "latest" or v1.MINOR.</summary>
internal readonly record struct PolicyVersion(int Minor, bool Latest)
{
    public static readonly PolicyVersion LatestVersion = new(0, true);

    /// <summary>The newest version whose checks this server knows (Kubernetes 1.32's): later versions evaluate as it.</summary>
    public const int NewestKnownMinor = 32;

    public int EffectiveMinor => Latest ? NewestKnownMinor : Math.Min(Minor, NewestKnownMinor);

    public override string ToString() => Latest ? "latest" : $"v1.{Minor}";
}

/// <summary>A level at a version, printed as kube prints it ("restricted:latest").</summary>
internal readonly record struct LevelVersion(PodSecurityLevel Level, PolicyVersion Version)
{
    public static string Name(PodSecurityLevel level) => level.ToString().ToLowerInvariant();

    public override string ToString() => $"{Name(Level)}:{Version}";
}

/// <summary>The three modes of a namespace's policy.</summary>
internal sealed record NamespacePolicy(LevelVersion Enforce, LevelVersion Audit, LevelVersion Warn)
{
    public static readonly NamespacePolicy Privileged = new(
        new(PodSecurityLevel.Privileged, PolicyVersion.LatestVersion),
        new(PodSecurityLevel.Privileged, PolicyVersion.LatestVersion),
        new(PodSecurityLevel.Privileged, PolicyVersion.LatestVersion));

    public bool FullyPrivileged => Enforce.Level == PodSecurityLevel.Privileged && Audit.Level == PodSecurityLevel.Privileged &&
                                   Warn.Level == PodSecurityLevel.Privileged;
}

/// <summary>A label whose value kube refuses: the field error of PolicyToEvaluate.</summary>
internal sealed record LabelError(string Label, string Value, string Detail)
{
    public string Field => $"metadata.labels[{Label}]";
    public string Message => $"Invalid value: \"{Value}\": {Detail}";
}

/// <summary>
/// The namespace labels <c>pod-security.kubernetes.io/{enforce,audit,warn}[-version]</c> read as kube's
/// PolicyToEvaluate reads them: unset modes take the defaults; a bad enforce level evaluates as restricted, a bad audit
/// or warn level as privileged (fail open), a bad version as latest; warn follows a stricter explicit enforce level.
/// </summary>
internal static class PodSecurityLabels
{
    public const string Prefix = "pod-security.kubernetes.io/";
    public const string Enforce = Prefix + "enforce", EnforceVersion = Prefix + "enforce-version";
    public const string Audit = Prefix + "audit", AuditVersion = Prefix + "audit-version";
    public const string Warn = Prefix + "warn", WarnVersion = Prefix + "warn-version";

    public static (NamespacePolicy Policy, IReadOnlyList<LabelError> Errors) PolicyOf(IDictionary<string, string>? labels,
        NamespacePolicy defaults)
    {
        var errors = new List<LabelError>();
        if (labels is null || labels.Count == 0) return (defaults, errors);
        var (enforce, audit, warn) = (defaults.Enforce, defaults.Audit, defaults.Warn);
        var hasEnforceLevel = false;
        if (labels.TryGetValue(Enforce, out var value))
        {
            var level = ParseLevel(value, errors, Enforce);
            hasEnforceLevel = level is not null;
            enforce = enforce with { Level = level ?? PodSecurityLevel.Restricted };
        }
        if (labels.TryGetValue(EnforceVersion, out value)) enforce = enforce with { Version = ParseVersion(value, errors, EnforceVersion) };
        if (labels.TryGetValue(Audit, out value))
            audit = audit with { Level = ParseLevel(value, errors, Audit) ?? PodSecurityLevel.Privileged };
        if (labels.TryGetValue(AuditVersion, out value)) audit = audit with { Version = ParseVersion(value, errors, AuditVersion) };
        var hasWarnLevel = labels.TryGetValue(Warn, out value);
        if (hasWarnLevel) warn = warn with { Level = ParseLevel(value!, errors, Warn) ?? PodSecurityLevel.Privileged };
        var hasWarnVersion = labels.TryGetValue(WarnVersion, out value);
        if (hasWarnVersion) warn = warn with { Version = ParseVersion(value!, errors, WarnVersion) };
        if (!hasWarnLevel && hasEnforceLevel && enforce.Level > warn.Level)
            warn = new LevelVersion(enforce.Level, hasWarnVersion ? warn.Version : enforce.Version);
        return (new NamespacePolicy(enforce, audit, warn), errors);
    }

    private static PodSecurityLevel? ParseLevel(string value, List<LabelError> errors, string label)
    {
        switch (value)
        {
            case "privileged": return PodSecurityLevel.Privileged;
            case "baseline": return PodSecurityLevel.Baseline;
            case "restricted": return PodSecurityLevel.Restricted;
            default:
                errors.Add(new LabelError(label, value, "must be one of privileged, baseline, restricted"));
                return null;
        }
    }

    private static PolicyVersion ParseVersion(string value, List<LabelError> errors, string label)
    {
        if (value == "latest") return PolicyVersion.LatestVersion;
        // ^v1\.([0-9]|[1-9][0-9]*)$
        var digits = value.StartsWith("v1.", StringComparison.Ordinal) ? value[3..] : "";
        if (digits.Length > 0 && digits.All(char.IsAsciiDigit) && (digits.Length == 1 || digits[0] != '0') &&
            int.TryParse(digits, out var minor))
            return new PolicyVersion(minor, false);
        errors.Add(new LabelError(label, value, "must be \"latest\" or \"v1.x\""));
        return PolicyVersion.LatestVersion;
    }
}
