using k8s.Models;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Controllers.CronJobs;

/// <summary>
/// The time rules of Kubernetes' CronJob controller (cronjob/utils.go), pure: the schedule's time zone, the most recent
/// time the schedule fired that has not been started (and how many were missed), the next one, the Jobs' names
/// (<c>&lt;cronjob&gt;-&lt;scheduled time in minutes since the epoch&gt;</c>).
/// </summary>
internal static class CronJobTimes
{
    public const string ScheduledTimestampAnnotation = "batch.kubernetes.io/cronjob-scheduled-timestamp";

    /// <summary>The zone of spec.timeZone, or (unset) the controller's local zone, as kube-controller-manager's.</summary>
    public static TimeZoneInfo? Zone(V1CronJob cronJob)
    {
        if (cronJob.Spec.TimeZone is not { } name) return TimeZoneInfo.Local;
        if (name == "UTC") return TimeZoneInfo.Utc;
        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(name);
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            return null;
        }
    }

    public static DateTime Utc(DateTime time) => time.Kind switch
    {
        DateTimeKind.Utc => time,
        DateTimeKind.Local => time.ToUniversalTime(),
        _ => DateTime.SpecifyKind(time, DateTimeKind.Utc),
    };

    /// <summary>Kubernetes' mostRecentScheduleTime: the latest firing in (earliest, now] — earliest being the last
    /// schedule time, else the creation, moved up to now − startingDeadlineSeconds — and the number of firings in
    /// that window (counted up to 101: Kubernetes warns beyond 100).</summary>
    public static (DateTime? Time, int Missed) MostRecent(CronSchedule schedule, TimeZoneInfo zone, DateTime earliest, DateTime now)
    {
        earliest = Utc(earliest);
        now = Utc(now);
        var missed = 0;
        DateTime? last = null;
        for (var t = schedule.Next(earliest, zone); t is { } at && at <= now && missed <= 100; t = schedule.Next(at, zone))
        {
            missed++;
            last = at;
        }
        if (missed <= 100) return (last, missed);
        // Many missed: find the latest firing by looking back from now in growing steps.
        var step = TimeSpan.FromMinutes(1);
        var from = now - step;
        while (from > earliest && schedule.Next(from, zone) is { } first && first > now)
        {
            step *= 2;
            from = now - step;
        }
        if (from < earliest) from = earliest;
        for (var t = schedule.Next(from, zone); t is { } at && at <= now; t = schedule.Next(at, zone)) last = at;
        return (last, missed);
    }

    /// <summary>The Job name for a scheduled time (Kubernetes' getJobName).</summary>
    public static string JobName(V1CronJob cronJob, DateTime scheduled) =>
        $"{cronJob.Metadata.Name}-{new DateTimeOffset(Utc(scheduled)).ToUnixTimeSeconds() / 60}";

    /// <summary>The scheduled time a Job of the CronJob records in its annotation, if it does.</summary>
    public static DateTime? ScheduledTime(V1Job job) =>
        job.Metadata.Annotations?.TryGetValue(ScheduledTimestampAnnotation, out var text) == true
        && DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var at)
            ? at.UtcDateTime
            : null;

    /// <summary>RFC 3339 in the schedule's zone, as Go's time.Format(time.RFC3339) on a time in that location.</summary>
    public static string Rfc3339(DateTime utc, TimeZoneInfo zone)
    {
        var local = TimeZoneInfo.ConvertTimeFromUtc(Utc(utc), zone);
        var offset = zone.GetUtcOffset(Utc(utc));
        return offset == TimeSpan.Zero
            ? local.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture)
            : new DateTimeOffset(local, offset).ToString("yyyy-MM-dd'T'HH:mm:sszzz", System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Go's RFC1123Z, as the MissSchedule event prints the time.</summary>
    public static string Rfc1123Z(DateTime utc) =>
        Utc(utc).ToString("ddd, dd MMM yyyy HH:mm:ss '+0000'", System.Globalization.CultureInfo.InvariantCulture);
}
