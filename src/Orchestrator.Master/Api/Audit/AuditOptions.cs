using System.Globalization;

namespace Orchestrator.Master.Api.Audit;

/// <summary>The audit flags, as kube-apiserver's: both --audit-policy-file and --audit-log-path are needed for a log.</summary>
internal static class AuditOptions
{
    /// <summary>The policy (loaded: <see cref="FormatException"/> for a bad file) and the log options, each null when
    /// its flag is not given.</summary>
    public static (AuditPolicy? Policy, AuditLogOptions? Log) From(IConfiguration configuration)
    {
        var policyFile = configuration["audit-policy-file"];
        var policy = string.IsNullOrEmpty(policyFile) ? null : AuditPolicy.Load(policyFile);
        var path = configuration["audit-log-path"];
        if (string.IsNullOrEmpty(path)) return (policy, null);
        return (policy, new AuditLogOptions(path, Number(configuration, "audit-log-maxsize"), Number(configuration, "audit-log-maxbackup"),
            Number(configuration, "audit-log-maxage")));
    }

    private static int Number(IConfiguration configuration, string flag)
    {
        var text = configuration[flag];
        if (string.IsNullOrEmpty(text)) return 0;
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new FormatException($"--{flag} {text}: must be a whole number, 0 or more");
    }
}
