namespace Orchestrator.Master.Registry.Tables;

/// <summary>
/// Ages the way the Kubernetes printers write them (apimachinery's duration.HumanDuration): seconds up to two
/// minutes, then minutes with seconds below ten minutes, hours with minutes below eight hours, days with hours
/// below eight days, then days, then years.
/// </summary>
internal static class HumanDuration
{
    /// <summary>A duration as text. For an age (a duration up to now) use <see cref="Since"/> or <see cref="Elapsed"/>:
    /// those note when their text changes (<see cref="Track"/>), this does not.</summary>
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
            : Elapsed(Utc(timestamp.Value), now);

    /// <summary>The time from <paramref name="start"/> (UTC) to <paramref name="now"/> as text.</summary>
    public static string Elapsed(DateTime start, DateTime now)
    {
        var d = now - start;
        if (t_tracking) Note(now, d);
        return Format(d);
    }

    // Ages noted on this thread since Track: the earliest moment at which one of them would be written differently.
    [ThreadStatic] private static bool t_tracking;
    [ThreadStatic] private static DateTime t_until;

    /// <summary>Notes, on this thread until the scope is disposed, until when every age written through <see cref="Since"/>
    /// and <see cref="Elapsed"/> keeps its text as now goes on: Table rows are a function of the object and of those ages
    /// alone (printers read now only through them), so rows written at one now are those of any later now before
    /// <see cref="Tracking.Until"/>.</summary>
    public static Tracking Track() => new();

    public sealed class Tracking : IDisposable
    {
        private readonly bool _outer;
        private readonly DateTime _outerUntil;

        internal Tracking()
        {
            (_outer, _outerUntil) = (t_tracking, t_until);
            (t_tracking, t_until) = (true, DateTime.MaxValue);
        }

        /// <summary>The earliest moment at which an age noted so far changes its text (MaxValue: none noted).</summary>
        public DateTime Until => t_until;

        public void Dispose()
        {
            var until = t_until;
            (t_tracking, t_until) = (_outer, _outer && _outerUntil < until ? _outerUntil : until);
        }
    }

    private static void Note(DateTime now, TimeSpan d)
    {
        // Format's text is a function of the whole seconds of d, and above ten minutes of coarser units: the next
        // boundary of the unit it shows is where it may change (for days and years, the next day: earlier is safe).
        var seconds = (long)Math.Floor(d.TotalSeconds);
        long next = seconds < 600 ? seconds + 1
            : seconds < 8 * 3600 ? (seconds / 60 + 1) * 60
            : seconds < 8 * 86400 ? (seconds / 3600 + 1) * 3600
            : (seconds / 86400 + 1) * 86400;
        // A microsecond short of the boundary: Format's floor of the seconds as a double must not reach it earlier.
        var left = next * TimeSpan.TicksPerSecond - d.Ticks - TimeSpan.TicksPerMicrosecond;
        var until = left <= 0 || now.Ticks > DateTime.MaxValue.Ticks - left ? now : now.AddTicks(left);
        if (until < t_until) t_until = until;
    }

    public static DateTime Utc(DateTime t) =>
        t.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(t, DateTimeKind.Utc) : t.ToUniversalTime();
}
