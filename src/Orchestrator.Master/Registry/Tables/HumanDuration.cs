namespace Orchestrator.Master.Registry.Tables;

/// <summary>
/// Ages the way the Kubernetes printers write them (apimachinery's duration.HumanDuration): seconds up to two
/// minutes, then minutes with seconds below ten minutes, hours with minutes below eight hours, days with hours
/// below eight days, then days, then years.
/// </summary>
internal static class HumanDuration
{
    public static string Format(TimeSpan d)
    {
        var seconds = (long)Math.Floor(d.TotalSeconds);
        if (seconds < -1) return "<invalid>";
        if (seconds < 0) return "0s";
        if (seconds < 120) return $"{seconds}s";

        var minutes = seconds / 60;
        if (minutes < 10) return seconds % 60 == 0 ? $"{minutes}m" : $"{minutes}m{seconds % 60}s";
        if (minutes < 180) return $"{minutes}m";

        var hours = minutes / 60;
        if (hours < 8) return minutes % 60 == 0 ? $"{hours}h" : $"{hours}h{minutes % 60}m";
        if (hours < 48) return $"{hours}h";

        var days = hours / 24;
        if (hours < 24 * 8) return hours % 24 == 0 ? $"{days}d" : $"{days}d{hours % 24}h";
        if (hours < 24 * 365 * 2) return $"{days}d";

        var years = days / 365;
        if (hours < 24 * 365 * 8) return days % 365 == 0 ? $"{years}y" : $"{years}y{days % 365}d";
        return $"{years}y";
    }

    /// <summary>The age of a timestamp, "&lt;unknown&gt;" when it is missing.</summary>
    public static string Since(DateTime? timestamp, DateTime now) =>
        timestamp is null || timestamp.Value == default
            ? "<unknown>"
            : Format(now - Utc(timestamp.Value));

    public static DateTime Utc(DateTime t) =>
        t.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(t, DateTimeKind.Utc) : t.ToUniversalTime();
}
