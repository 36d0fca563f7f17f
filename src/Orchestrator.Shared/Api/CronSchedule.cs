using Cronos;

namespace Orchestrator.Shared.Api;

/// <summary>
/// A CronJob schedule as Kubernetes reads it (robfig/cron's ParseStandard): five fields (minute, hour, day of month,
/// month, day of week), the descriptors <c>@yearly</c>, <c>@annually</c>, <c>@monthly</c>, <c>@weekly</c>, <c>@daily</c>,
/// <c>@midnight</c>, <c>@hourly</c>, and <c>@every &lt;duration&gt;</c>. Field parsing and the next occurrence in a time
/// zone are Cronos'; the extensions robfig does not know (L, W, #) are refused as robfig refuses them.
/// </summary>
public sealed class CronSchedule
{
    private static readonly Dictionary<string, string> Descriptors = new(StringComparer.Ordinal)
    {
        ["@yearly"] = "0 0 1 1 *",
        ["@annually"] = "0 0 1 1 *",
        ["@monthly"] = "0 0 1 * *",
        ["@weekly"] = "0 0 * * 0",
        ["@daily"] = "0 0 * * *",
        ["@midnight"] = "0 0 * * *",
        ["@hourly"] = "0 * * * *",
    };

    private readonly CronExpression? _expression;
    private readonly TimeSpan? _every;

    private CronSchedule(CronExpression? expression, TimeSpan? every)
    {
        _expression = expression;
        _every = every;
    }

    /// <summary>Parses a schedule; on failure <paramref name="error"/> is robfig's message for it.</summary>
    public static bool TryParse(string text, out CronSchedule? schedule, out string? error)
    {
        schedule = null;
        error = null;
        var spec = text.Trim();
        if (spec.Length == 0)
        {
            error = "empty spec string";
            return false;
        }
        if (spec.StartsWith('@'))
        {
            if (spec.StartsWith("@every ", StringComparison.Ordinal))
            {
                var duration = spec["@every ".Length..].Trim();
                if (!TryParseGoDuration(duration, out var every))
                {
                    error = $"failed to parse duration {spec}: time: invalid duration \"{duration}\"";
                    return false;
                }
                // robfig rounds to whole seconds, at least one
                every = TimeSpan.FromSeconds(Math.Max(1, Math.Floor(every.TotalSeconds)));
                schedule = new CronSchedule(null, every);
                return true;
            }
            if (!Descriptors.TryGetValue(spec, out var expanded))
            {
                error = $"unrecognized descriptor: {spec}";
                return false;
            }
            spec = expanded;
        }
        var fields = spec.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length != 5)
        {
            error = $"expected exactly 5 fields, found {fields.Length}: [{string.Join(" ", fields)}]";
            return false;
        }
        foreach (var field in fields)
            if (ContainsExtension(field))
            {
                error = $"failed to parse int from {field}: strconv.Atoi: parsing \"{field}\": invalid syntax";
                return false;
            }
        try
        {
            schedule = new CronSchedule(CronExpression.Parse(string.Join(' ', fields), CronFormat.Standard), null);
            return true;
        }
        catch (CronFormatException e)
        {
            error = e.Message;
            return false;
        }
    }

    // L, W and # are Quartz extensions robfig rejects; month and weekday names (JAN, MON, …) are fine.
    private static bool ContainsExtension(string field)
    {
        var upper = field.ToUpperInvariant();
        foreach (var name in new[] { "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
                     "SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT" })
            upper = upper.Replace(name, "");
        return upper.IndexOfAny(['L', 'W', '#']) >= 0;
    }

    /// <summary>The first time the schedule fires strictly after <paramref name="after"/> (UTC), in
    /// <paramref name="zone"/>'s wall clock; null when it never fires again.</summary>
    public DateTime? Next(DateTime after, TimeZoneInfo zone)
    {
        var utc = DateTime.SpecifyKind(after.Kind == DateTimeKind.Local ? after.ToUniversalTime() : after, DateTimeKind.Utc);
        if (_every is { } every)
            return utc.AddTicks(-(utc.Ticks % TimeSpan.TicksPerSecond)) + every;
        return _expression!.GetNextOccurrence(utc, zone, inclusive: false);
    }

    /// <summary>Go's time.ParseDuration (<see cref="GoDuration"/>: a value past its range is invalid, not an overflow),
    /// unsigned and with a unit, e.g. "1h30m".</summary>
    private static bool TryParseGoDuration(string text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        if (text is "" or "0" || text[0] is '+' or '-' || GoDuration.TryParseTimeSpan(text, out _) is not { } parsed) return false;
        duration = parsed;
        return true;
    }
}
