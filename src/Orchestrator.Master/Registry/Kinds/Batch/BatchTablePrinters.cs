using k8s.Models;
using Orchestrator.Master.Registry.Tables;

namespace Orchestrator.Master.Registry.Kinds.Batch;

/// <summary>NAME STATUS COMPLETIONS DURATION AGE; wide: CONTAINERS IMAGES SELECTOR (kubectl 1.32's printJob).</summary>
internal sealed class JobTablePrinter : TablePrinter<V1Job>
{
    public override IReadOnlyList<TableColumnDefinition> Columns { get; } =
    [
        TableColumnDefinition.NameColumn,
        TableColumnDefinition.Text("Status", "Status of the job."),
        TableColumnDefinition.Text("Completions", "The completion status of the job."),
        TableColumnDefinition.Text("Duration", "Time required to complete the job."),
        TableColumnDefinition.AgeColumn,
        TableColumnDefinition.Text("Containers", "Names of each container in the template.", 1),
        TableColumnDefinition.Text("Images", "Images referenced by each container in the template.", 1),
        TableColumnDefinition.Text("Selector", "A label query over pods that should match the pod count.", 1),
    ];

    protected override IReadOnlyList<object> Cells(V1Job job, DateTime now) =>
    [
        job.Metadata.Name, Status(job), Completions(job), Duration(job, now), Age(job, now),
        ContainerNames(job.Spec?.Template), ContainerImages(job.Spec?.Template), FormatSelector(job.Spec?.Selector),
    ];

    private static bool Has(V1Job job, string type) => job.Status?.Conditions?.Any(c => c.Type == type && c.Status == "True") == true;

    public static string Status(V1Job job) =>
        Has(job, "Complete") ? "Complete"
        : Has(job, "Failed") ? "Failed"
        : job.Metadata.DeletionTimestamp is not null ? "Terminating"
        : Has(job, "SuccessCriteriaMet") ? "SuccessCriteriaMet"
        : Has(job, "Suspended") ? "Suspended"
        : Has(job, "FailureTarget") ? "FailureTarget"
        : "Running";

    private static string Completions(V1Job job)
    {
        var succeeded = job.Status?.Succeeded ?? 0;
        if (job.Spec?.Completions is { } completions) return $"{succeeded}/{completions}";
        var parallelism = job.Spec?.Parallelism ?? 0;
        return parallelism > 1 ? $"{succeeded}/1 of {parallelism}" : $"{succeeded}/1";
    }

    private static string Duration(V1Job job, DateTime now)
    {
        if (job.Status?.StartTime is not { } start) return "";
        return job.Status.CompletionTime is { } completed
            ? HumanDuration.Format(HumanDuration.Utc(completed) - HumanDuration.Utc(start))
            : HumanDuration.Elapsed(HumanDuration.Utc(start), now);
    }
}

/// <summary>NAME SCHEDULE TIMEZONE SUSPEND ACTIVE LAST SCHEDULE AGE; wide: CONTAINERS IMAGES SELECTOR.</summary>
internal sealed class CronJobTablePrinter : TablePrinter<V1CronJob>
{
    public override IReadOnlyList<TableColumnDefinition> Columns { get; } =
    [
        TableColumnDefinition.NameColumn,
        TableColumnDefinition.Text("Schedule", "The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron."),
        TableColumnDefinition.Text("Timezone", "The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones."),
        TableColumnDefinition.Text("Suspend", "This flag tells the controller to suspend subsequent executions, it does not apply to already started executions."),
        TableColumnDefinition.Integer("Active", "A list of pointers to currently running jobs."),
        TableColumnDefinition.Text("Last Schedule", "Information when was the last time the job was successfully scheduled."),
        TableColumnDefinition.AgeColumn,
        TableColumnDefinition.Text("Containers", "Names of each container in the template.", 1),
        TableColumnDefinition.Text("Images", "Images referenced by each container in the template.", 1),
        TableColumnDefinition.Text("Selector", "A label query over pods that should match the pod count.", 1),
    ];

    protected override IReadOnlyList<object> Cells(V1CronJob cronJob, DateTime now) =>
    [
        cronJob.Metadata.Name, cronJob.Spec?.Schedule ?? "", OrNone(cronJob.Spec?.TimeZone),
        cronJob.Spec?.Suspend == true ? "True" : "False", (long)(cronJob.Status?.Active?.Count ?? 0),
        cronJob.Status?.LastScheduleTime is { } last ? HumanDuration.Since(last, now) : None, Age(cronJob, now),
        ContainerNames(cronJob.Spec?.JobTemplate?.Spec?.Template), ContainerImages(cronJob.Spec?.JobTemplate?.Spec?.Template),
        FormatSelector(cronJob.Spec?.JobTemplate?.Spec?.Selector),
    ];
}
