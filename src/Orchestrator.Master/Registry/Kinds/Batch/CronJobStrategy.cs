using System.Text.RegularExpressions;
using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Validation;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Registry.Kinds.Batch;

/// <summary>
/// batch/v1 CronJob: SetDefaults_CronJob (concurrencyPolicy Allow, not suspended, history limits 3 and 1, pod template
/// defaults), the schedule in robfig/cron's standard syntax (<see cref="CronSchedule"/>) without TZ= prefixes, an IANA
/// timeZone, the job template (the Job's spec rules, no selector), non-negative history limits, and names of at most
/// 52 characters (the controller appends an 11-character suffix to name the Jobs).
/// </summary>
internal sealed partial class CronJobStrategy : ModelStrategy<V1CronJob>
{
    [GeneratedRegex(@"^[A-Za-z\.\-_0-9+]{1,14}\z")] private static partial Regex TimeZonePart();

    protected override void PrepareForCreate(V1CronJob cronJob)
    {
        cronJob.Status = new V1CronJobStatus();
        DisabledPodFields.DropFromTemplate(cronJob.Spec?.JobTemplate?.Spec?.Template, null);
    }

    protected override void PrepareForUpdate(V1CronJob cronJob, V1CronJob old) =>
        DisabledPodFields.DropFromTemplate(cronJob.Spec?.JobTemplate?.Spec?.Template, old.Spec?.JobTemplate?.Spec?.Template);

    protected override void Default(V1CronJob cronJob)
    {
        var spec = cronJob.Spec ??= new V1CronJobSpec();
        spec.ConcurrencyPolicy ??= "Allow";
        spec.Suspend ??= false;
        spec.SuccessfulJobsHistoryLimit ??= 3;
        spec.FailedJobsHistoryLimit ??= 1;
        spec.JobTemplate ??= new V1JobTemplateSpec();
        spec.JobTemplate.Spec ??= new V1JobSpec();
        PodSpecs.Default(spec.JobTemplate.Spec.Template?.Spec);
    }

    protected override void Validate(V1CronJob cronJob, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        ValidateSpec(cronJob.Spec!, null, causes);
        if (cronJob.Metadata.Name.Length > 52)
            causes.Add(FieldErrors.Invalid("metadata.name", cronJob.Metadata.Name, "must be no more than 52 characters"));
    }

    protected override void ValidateUpdate(V1CronJob cronJob, V1CronJob old, IAdmissionContext context, List<StoreErrorCause> causes) =>
        ValidateSpec(cronJob.Spec!, old.Spec, causes);

    private static void ValidateSpec(V1CronJobSpec spec, V1CronJobSpec? old, List<StoreErrorCause> causes)
    {
        if (string.IsNullOrEmpty(spec.Schedule)) causes.Add(FieldErrors.Required("spec.schedule"));
        else
        {
            if (!CronSchedule.TryParse(spec.Schedule, out _, out var error))
                causes.Add(FieldErrors.Invalid("spec.schedule", spec.Schedule, error!));
            var allowTz = old?.Schedule?.Contains("TZ") == true;
            if (allowTz && spec.Schedule.Contains("TZ") && spec.TimeZone is not null)
                causes.Add(FieldErrors.Invalid("spec.schedule", spec.Schedule, "cannot use both timeZone field and TZ or CRON_TZ in schedule"));
            else if (!allowTz && spec.Schedule.Contains("TZ"))
                causes.Add(FieldErrors.Invalid("spec.schedule", spec.Schedule, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"));
        }
        WorkloadRules.Nonnegative(spec.StartingDeadlineSeconds, "spec.startingDeadlineSeconds", causes);
        if (old is null || old.TimeZone != spec.TimeZone) ValidateTimeZone(spec.TimeZone, causes);
        switch (spec.ConcurrencyPolicy)
        {
            case "Allow" or "Forbid" or "Replace":
                break;
            case null or "":
                causes.Add(FieldErrors.Required("spec.concurrencyPolicy"));
                break;
            default:
                causes.Add(FieldErrors.NotSupported("spec.concurrencyPolicy", spec.ConcurrencyPolicy, ["Allow", "Forbid", "Replace"]));
                break;
        }
        var jobSpec = spec.JobTemplate?.Spec ?? new V1JobSpec();
        JobStrategy.ValidateSpec(jobSpec, "spec.jobTemplate.spec", causes);
        if (jobSpec.Selector is not null)
            causes.Add(FieldErrors.Invalid("spec.jobTemplate.spec.selector", Selectors.Format(jobSpec.Selector), "`selector` will be auto-generated"));
        if (jobSpec.ManualSelector == true)
            causes.Add(FieldErrors.NotSupported("spec.jobTemplate.spec.manualSelector", true, ["nil", "false"]));
        WorkloadRules.Nonnegative(spec.SuccessfulJobsHistoryLimit, "spec.successfulJobsHistoryLimit", causes);
        WorkloadRules.Nonnegative(spec.FailedJobsHistoryLimit, "spec.failedJobsHistoryLimit", causes);
    }

    private static void ValidateTimeZone(string? timeZone, List<StoreErrorCause> causes)
    {
        if (timeZone is null) return;
        if (timeZone.Length == 0)
        {
            causes.Add(FieldErrors.Invalid("spec.timeZone", timeZone, "timeZone must be nil or non-empty string"));
            return;
        }
        if (timeZone.Split('/').Any(part => part is "." or ".." || part.StartsWith('-') || !TimeZonePart().IsMatch(part)))
        {
            causes.Add(FieldErrors.Invalid("spec.timeZone", timeZone, $"unknown time zone {timeZone}"));
            return;
        }
        if (string.Equals(timeZone, "Local", StringComparison.OrdinalIgnoreCase))
        {
            causes.Add(FieldErrors.Invalid("spec.timeZone", timeZone, "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones"));
            return;
        }
        if (FindZone(timeZone) is null) causes.Add(FieldErrors.Invalid("spec.timeZone", timeZone, $"unknown time zone {timeZone}"));
    }

    /// <summary>An IANA zone from the system's tz database (UTC is always known).</summary>
    public static TimeZoneInfo? FindZone(string name)
    {
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
}
