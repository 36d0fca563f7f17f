using Akka.Actor;
using Akka.Event;
using k8s;
using k8s.Models;
using Orchestrator.Master.Controllers.CronJobs;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Controllers;

/// <summary>
/// Runs batch/v1 CronJobs as Kubernetes 1.32's CronJob controller (v2) does: at each time the schedule fires (cron
/// syntax through Cronos, in spec.timeZone or the master's zone) it creates the Job
/// <c>&lt;cronjob&gt;-&lt;minutes since the epoch&gt;</c> from the job template, controlled by the CronJob and annotated with
/// its scheduled time; applies concurrencyPolicy (Allow, Forbid: skip while one runs, Replace: delete the running
/// ones), startingDeadlineSeconds (a start too late is missed, with a MissSchedule event), suspend; after a pause
/// (e.g. a master restart) starts only the most recent missed run, warning beyond 100 missed; keeps
/// successful/failedJobsHistoryLimit finished Jobs; writes status.active, lastScheduleTime and lastSuccessfulTime.
/// Its Jobs are those it controls that carry the scheduled-time annotation (a Job made with
/// <c>kubectl create job --from=cronjob/x</c> is not one of its runs, as in Kubernetes: an UnexpectedJob event).
/// </summary>
internal sealed class CronJobController : ControllerActor
{
    public const string Component = "cronjob-controller";
    private const string CronJobs = "cronjobs";
    private const string Jobs = "jobs";

    private readonly EventRecorder _events;
    private readonly Func<DateTime> _clock;
    private readonly HashSet<string> _warnedUnexpected = new();

    private sealed record CreateTag(ResourceKey CronJob, V1CronJob Object, string JobName);

    public CronJobController(IActorRef store, TimeSpan resync, Func<DateTime>? clock = null) : base(store, [CronJobs, Jobs], resync)
    {
        _events = new EventRecorder(store, Component);
        _clock = clock ?? (() => DateTime.UtcNow);
    }

    public static Props Props(IActorRef store, TimeSpan resync, Func<DateTime>? clock = null) =>
        Akka.Actor.Props.Create(() => new CronJobController(store, resync, clock));

    protected override IEnumerable<ResourceKey> AllKeys() => Cache.Keys(CronJobs);

    protected override void OnChanged(string resource, IKubernetesObject<V1ObjectMeta>? old, IKubernetesObject<V1ObjectMeta>? current)
    {
        if (resource == CronJobs)
        {
            Enqueue(ObjectCache.KeyOf(resource, (current ?? old)!));
            return;
        }
        foreach (var job in new[] { old, current })
            if (job is not null && OwnerReferences.ControllerOf(job) is { Kind: "CronJob" } owner)
                Enqueue(new ResourceKey(CronJobs, job.Metadata.NamespaceProperty, owner.Name));
    }

    private static bool Finished(V1Job job, out string? type)
    {
        type = job.Status?.Conditions?.FirstOrDefault(c => c.Type is "Complete" or "Failed" && c.Status == "True")?.Type;
        return type is not null;
    }

    protected override void Reconcile(ResourceKey key)
    {
        var cronJob = Cache.Get<V1CronJob>(key.Resource, key.Namespace, key.Name);
        if (cronJob is null) return;
        var now = _clock();
        var jobs = Cache.List<V1Job>(Jobs, key.Namespace).Where(j => OwnerReferences.IsControlledBy(j, cronJob)).ToList();
        var status = KubeObjects.Clone(cronJob.Status ?? new V1CronJobStatus());
        var activeUids = (status.Active ?? []).Select(r => r.Uid).ToHashSet();

        // Which Jobs run now: those recorded, and those it created (scheduled-time annotation) whose status write it missed.
        var active = new List<V1Job>();
        foreach (var job in jobs)
        {
            var finished = Finished(job, out var condition);
            var recorded = activeUids.Contains(job.Metadata.Uid);
            if (!finished && (recorded || CronJobTimes.ScheduledTime(job) is not null)) active.Add(job);
            else if (!finished && _warnedUnexpected.Add(job.Metadata.Uid))
                _events.Record(cronJob, EventRecorder.Warning, "UnexpectedJob",
                    $"Saw a job that the controller did not create or forgot: {job.Metadata.Name}", Self);
            if (finished && recorded)
                _events.Record(cronJob, EventRecorder.Normal, "SawCompletedJob", $"Saw completed job: {job.Metadata.Name}, condition: {condition}", Self);
            if (condition == "Complete" && job.Status?.CompletionTime is { } completed
                && (status.LastSuccessfulTime is null || CronJobTimes.Utc(completed) > CronJobTimes.Utc(status.LastSuccessfulTime.Value)))
                status.LastSuccessfulTime = completed;
            if (CronJobTimes.ScheduledTime(job) is { } scheduledAt
                && (status.LastScheduleTime is null || scheduledAt > CronJobTimes.Utc(status.LastScheduleTime.Value)))
                status.LastScheduleTime = scheduledAt;
        }

        if (cronJob.Metadata.DeletionTimestamp is null)
        {
            CleanUpHistory(cronJob, jobs);
            Schedule(key, cronJob, status, active, now);
        }

        status.Active = active.Count == 0 ? null : active.OrderBy(j => j.Metadata.Name, StringComparer.Ordinal).Select(Reference).ToList();
        if (KubeObjects.Serialize(status) != KubeObjects.Serialize(cronJob.Status ?? new V1CronJobStatus()))
        {
            var updated = KubeObjects.Clone(cronJob);
            updated.Status = status;
            updated.Metadata.ResourceVersion = null; // status has one writer: this loop
            SendAndForget(new UpdateObject(CronJobs, updated, "status"));
        }
    }

    private static V1ObjectReference Reference(V1Job job) => new()
    {
        ApiVersion = "batch/v1", Kind = "Job", Name = job.Metadata.Name, NamespaceProperty = job.Metadata.NamespaceProperty,
        Uid = job.Metadata.Uid, ResourceVersion = job.Metadata.ResourceVersion,
    };

    /// <summary>Starts the run due now, if one is (Kubernetes' syncCronJob after the bookkeeping), and wakes up for the next.</summary>
    private void Schedule(ResourceKey key, V1CronJob cronJob, V1CronJobStatus status, List<V1Job> active, DateTime now)
    {
        var spec = cronJob.Spec;
        if (spec.Suspend == true) return;
        if (!CronSchedule.TryParse(spec.Schedule ?? "", out var schedule, out var error))
        {
            _events.Record(cronJob, EventRecorder.Warning, "UnparseableSchedule", $"unparseable schedule: \"{spec.Schedule}\" : {error}", Self);
            return;
        }
        if (CronJobTimes.Zone(cronJob) is not { } zone)
        {
            _events.Record(cronJob, EventRecorder.Warning, "UnknownTimeZone", $"invalid timeZone: \"{spec.TimeZone}\"", Self);
            return;
        }
        if (schedule!.Next(now, zone) is { } next) RequeueAfter(key, next - now + TimeSpan.FromMilliseconds(100));

        var earliest = CronJobTimes.Utc(status.LastScheduleTime ?? cronJob.Metadata.CreationTimestamp ?? now);
        if (spec.StartingDeadlineSeconds is { } deadline && now.AddSeconds(-deadline) > earliest) earliest = now.AddSeconds(-deadline);
        // A schedule that parses but never fires ("59 23 31 2 *": 31 February) is refused as Kubernetes' controller
        // refuses it: its cron library finds no next time, so two consecutive times are less than a second apart.
        if (schedule.Next(earliest, zone) is null)
        {
            _events.Record(cronJob, EventRecorder.Warning, "InvalidSchedule",
                $"invalid schedule: {spec.Schedule} : time difference between two schedules is less than 1 second", Self);
            return;
        }
        var (scheduled, missed) = CronJobTimes.MostRecent(schedule, zone, earliest, now);
        if (scheduled is not { } at) return;
        if (missed > 100)
            _events.Record(cronJob, EventRecorder.Warning, "TooManyMissedTimes",
                "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew", Self);
        if (spec.StartingDeadlineSeconds is { } d && at.AddSeconds(d) < now)
        {
            _events.Record(cronJob, EventRecorder.Warning, "MissSchedule", $"Missed scheduled time to start a job: {CronJobTimes.Rfc1123Z(at)}", Self);
            return;
        }
        var name = CronJobTimes.JobName(cronJob, at);
        if (Cache.Get<V1Job>(Jobs, key.Namespace, name) is not null) return; // this run was started
        if (spec.ConcurrencyPolicy == "Forbid" && active.Count > 0)
        {
            Log.Debug("{0}: not starting {1}: a run is still active and concurrencyPolicy is Forbid", key, name);
            return;
        }
        if (spec.ConcurrencyPolicy == "Replace")
        {
            foreach (var job in active)
            {
                SendAndForget(new DeleteObject(new ResourceKey(Jobs, job.Metadata.NamespaceProperty, job.Metadata.Name), PreconditionUid: job.Metadata.Uid));
                _events.Record(cronJob, EventRecorder.Normal, "SuccessfulDelete", $"Deleted job {job.Metadata.Name}", Self);
            }
            active.Clear();
        }
        Send(new CreateObject(Jobs, NewJob(cronJob, name, at, zone)), new CreateTag(key, cronJob, name));
    }

    /// <summary>Kubernetes' getJobFromTemplate2: the template's labels, annotations and spec, the scheduled time, the owner.</summary>
    private static V1Job NewJob(V1CronJob cronJob, string name, DateTime scheduled, TimeZoneInfo zone)
    {
        var template = cronJob.Spec.JobTemplate ?? new V1JobTemplateSpec();
        var annotations = template.Metadata?.Annotations is { } a ? new Dictionary<string, string>(a) : new Dictionary<string, string>();
        annotations[CronJobTimes.ScheduledTimestampAnnotation] = CronJobTimes.Rfc3339(scheduled, zone);
        return new V1Job
        {
            ApiVersion = "batch/v1",
            Kind = "Job",
            Metadata = new V1ObjectMeta
            {
                Name = name,
                NamespaceProperty = cronJob.Metadata.NamespaceProperty,
                Labels = template.Metadata?.Labels is { } l ? new Dictionary<string, string>(l) : null,
                Annotations = annotations,
                OwnerReferences = [OwnerReferences.NewControllerRef(cronJob)],
            },
            Spec = KubeObjects.Clone(template.Spec ?? new V1JobSpec()),
        };
    }

    /// <summary>Deletes the oldest finished Jobs beyond the history limits (Kubernetes' cleanupFinishedJobs).</summary>
    private void CleanUpHistory(V1CronJob cronJob, List<V1Job> jobs)
    {
        void Trim(string type, int? limit)
        {
            if (limit is not { } keep) return;
            var finished = jobs.Where(j => Finished(j, out var t) && t == type)
                .OrderBy(j => j.Status?.StartTime ?? j.Metadata.CreationTimestamp ?? DateTime.MinValue).ToList();
            foreach (var job in finished.Take(Math.Max(0, finished.Count - keep)))
            {
                if (job.Metadata.DeletionTimestamp is not null) continue;
                SendAndForget(new DeleteObject(new ResourceKey(Jobs, job.Metadata.NamespaceProperty, job.Metadata.Name), PreconditionUid: job.Metadata.Uid));
                _events.Record(cronJob, EventRecorder.Normal, "SuccessfulDelete", $"Deleted job {job.Metadata.Name}", Self);
            }
        }
        Trim("Complete", cronJob.Spec.SuccessfulJobsHistoryLimit);
        Trim("Failed", cronJob.Spec.FailedJobsHistoryLimit);
    }

    protected override void OnStoreReplied(StoreReplied reply)
    {
        if (reply.Tag is not CreateTag c)
        {
            base.OnStoreReplied(reply);
            return;
        }
        if (reply.Succeeded)
            _events.Record(c.Object, EventRecorder.Normal, "SuccessfulCreate", $"Created job {c.JobName}", Self);
        else if (reply.Failed!.Error.Code != 409)
        {
            _events.Record(c.Object, EventRecorder.Warning, "FailedCreate", $"Error creating job: {reply.Failed.Error.Message}", Self);
            RequeueAfter(c.CronJob, TimeSpan.FromSeconds(10));
        }
    }
}
