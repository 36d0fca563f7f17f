using Akka.Actor;
using Akka.Event;
using k8s;
using k8s.Models;
using Orchestrator.Master.Controllers.Jobs;
using Orchestrator.Master.Controllers.ReplicaSets;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Controllers;

/// <summary>
/// Runs batch/v1 Jobs as Kubernetes 1.32's job controller does (level-triggered over the Job and its pods): keeps
/// min(parallelism, completions − succeeded) pods running, replaces failed pods after an exponential back-off
/// (10 s doubling, at most 6 min), gives Indexed Jobs one pod per pending completion index, applies the
/// podFailurePolicy, backoffLimit, backoffLimitPerIndex/maxFailedIndexes, successPolicy and activeDeadlineSeconds,
/// suspends and resumes, and writes the status: counts, completed/failed indexes, start and completion time, and the
/// conditions — FailureTarget/SuccessCriteriaMet first, Failed/Complete once no pod of the Job is still terminating.
/// As Kubernetes' manageJob, one sync creates or deletes at most 500 pods, the creations in slow-start batches
/// (1, 2, 4, …) that stop at the first refusal. A finished Job with ttlSecondsAfterFinished is deleted (foreground) when it expires (the TTL-after-finished
/// controller). Counts are taken from the pods that exist (the job-tracking finalizer is not used: a pod deleted
/// by hand before the Job finishes is not counted, as with Kubernetes' legacy tracking; completed and failed indexes
/// are kept in the status). Owns the Jobs' pods and status; never changes a Job's spec.
/// </summary>
internal sealed class JobController : ControllerActor
{
    public const string Component = "job-controller";
    private const string Jobs = "jobs";
    private const string Pods = "pods";
    private const int MaxPodCreateDeletePerSync = 500;

    private readonly ControllerExpectations _expectations = new();
    private readonly SlowStartBatches<V1Pod> _creations = new();
    private readonly EventRecorder _events;
    private readonly TimeSpan _backOff;

    private sealed record CreateTag(ResourceKey Job, V1Job Object, long Run);

    private sealed record DeleteTag(ResourceKey Job, V1Job Object, string PodName, string? PodUid);

    private sealed record Finish(string Type, string Reason, string Message);

    public JobController(IActorRef store, TimeSpan resync, TimeSpan backOff) : base(store, [Jobs, Pods], resync)
    {
        _events = new EventRecorder(store, Component);
        _backOff = backOff;
    }

    /// <param name="backOff">The first back-off after a failed pod (Kubernetes: 10 s); tests shorten it.</param>
    public static Props Props(IActorRef store, TimeSpan resync, TimeSpan? backOff = null) =>
        Akka.Actor.Props.Create(() => new JobController(store, resync, backOff ?? JobFacts.DefaultPodFailureBackOff));

    protected override IEnumerable<ResourceKey> AllKeys() => Cache.Keys(Jobs);

    protected override void OnChanged(string resource, IKubernetesObject<V1ObjectMeta>? old, IKubernetesObject<V1ObjectMeta>? current)
    {
        if (resource == Jobs)
        {
            Enqueue(ObjectCache.KeyOf(resource, (current ?? old)!));
            return;
        }
        var oldPod = old as V1Pod;
        var pod = current as V1Pod;
        if (oldPod is null && pod is not null && JobKey(pod) is { } createdFor) _expectations.CreationObserved(createdFor);
        if (oldPod is not null && (pod is null || (pod.Metadata.DeletionTimestamp is not null && oldPod.Metadata.DeletionTimestamp is null))
            && JobKey(oldPod) is { } deletedFrom)
            _expectations.DeletionObserved(deletedFrom, oldPod.Metadata.Uid);
        if ((pod ?? oldPod) is { } changed && JobKey(changed) is { } key) Enqueue(key);
    }

    private static ResourceKey? JobKey(V1Pod pod) =>
        OwnerReferences.ControllerOf(pod) is { Kind: "Job" } r && r.ApiVersion.StartsWith("batch/", StringComparison.Ordinal)
            ? new ResourceKey(Jobs, pod.Metadata.NamespaceProperty, r.Name)
            : null;

    protected override void Reconcile(ResourceKey key)
    {
        var job = Cache.Get<V1Job>(key.Resource, key.Namespace, key.Name);
        if (job is null)
        {
            _expectations.Forget(key);
            _creations.Cancel(key);
            return;
        }
        if (job.Metadata.DeletionTimestamp is not null) return; // the garbage collector takes the pods away
        var now = DateTime.UtcNow;
        if (JobFacts.IsFinished(job))
        {
            ExpireFinished(key, job, now);
            return;
        }

        var spec = job.Spec;
        var indexed = JobFacts.IsIndexed(job);
        var suspended = JobFacts.IsSuspended(job);
        var completions = spec.Completions;
        var pods = Cache.List<V1Pod>(Pods, key.Namespace).Where(p => OwnerReferences.IsControlledBy(p, job)).ToList();
        var active = pods.Where(PodFacts.IsActive).ToList();
        var terminating = pods.Count(JobFacts.IsTerminating);
        var succeededPods = pods.Where(p => p.Status?.Phase == "Succeeded").ToList();

        // Failed pods, through the podFailurePolicy: ignored ones do not count, FailJob fails the Job.
        string? failJobMessage = null;
        var countedFailed = new List<(V1Pod Pod, string? Action)>();
        foreach (var pod in pods.Where(p => JobFacts.IsPodFailed(p, job)).OrderBy(JobFacts.FinishedAt))
        {
            var (message, count, action) = JobFacts.MatchPodFailurePolicy(spec.PodFailurePolicy, pod);
            failJobMessage ??= message;
            if (count) countedFailed.Add((pod, action));
        }

        // Indexes: completed ones are kept in the status (their pods may be gone); failed ones with backoffLimitPerIndex.
        var total = completions ?? 0;
        var succeededIndexes = indexed
            ? IndexSet.ParseLenient(job.Status?.CompletedIndexes, total)
                .With(succeededPods.Select(JobFacts.CompletionIndex).Where(i => i >= 0 && i < total))
            : IndexSet.Empty;
        var perIndex = JobFacts.HasBackoffLimitPerIndex(job);
        var failuresOf = new Dictionary<int, int>();
        var failedIndexes = perIndex ? IndexSet.ParseLenient(job.Status?.FailedIndexes, total) : IndexSet.Empty;
        if (perIndex)
        {
            var newlyFailed = new List<int>();
            foreach (var (pod, action) in countedFailed)
            {
                var index = JobFacts.CompletionIndex(pod);
                if (index < 0 || index >= total || succeededIndexes.Contains(index)) continue;
                failuresOf[index] = failuresOf.GetValueOrDefault(index) + 1;
                if (action == "FailIndex" || failuresOf[index] > spec.BackoffLimitPerIndex) newlyFailed.Add(index);
            }
            failedIndexes = failedIndexes.With(newlyFailed);
        }
        var succeeded = indexed ? succeededIndexes.Count : succeededPods.Count;

        var status = KubeObjects.Clone(job.Status ?? new V1JobStatus());
        var conditions = (status.Conditions ?? []).ToList();
        var events = new List<(string Type, string Reason, string Message)>();
        if (status.StartTime is null && !suspended) status.StartTime = now;

        // Why the Job finishes, if it does: a target already recorded, or one of Kubernetes' reasons in its order.
        var finish = RecordedTarget(job);
        if (finish is null)
        {
            if (failJobMessage is not null) finish = new Finish("Failed", "PodFailurePolicy", failJobMessage);
            else if (countedFailed.Count > (spec.BackoffLimit ?? 6) || JobFacts.PastBackoffLimitOnFailure(job, active))
                finish = new Finish("Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit");
            else if (!suspended && PastDeadline(job, status, now))
                finish = new Finish("Failed", "DeadlineExceeded", "Job was active longer than specified deadline");
            else if (perIndex && spec.MaxFailedIndexes is { } maxFailed && failedIndexes.Count > maxFailed)
                finish = new Finish("Failed", "MaxFailedIndexesExceeded", "Job has exceeded the specified maximal number of failed indexes");
            else if (indexed && JobFacts.MatchSuccessPolicy(spec.SuccessPolicy, total, succeededIndexes) is { } matched)
                finish = new Finish("Complete", "SuccessPolicy", matched);
        }

        var deleted = 0;
        if (finish is not null || suspended)
        {
            // A finishing or suspended Job runs nothing: the rest of a slow-start run is not sent.
            _expectations.LowerCreations(key, _creations.Cancel(key));
            deleted = DeletePods(key, job, active);
            active = [];
        }
        if (finish is null)
        {
            if (suspended)
            {
                if (JobFacts.EnsureCondition(conditions, "Suspended", "True", "JobSuspended", "Job suspended", now))
                    events.Add((EventRecorder.Normal, "Suspended", "Job suspended"));
            }
            else if (JobFacts.EnsureCondition(conditions, "Suspended", "False", "JobResumed", "Job resumed", now))
            {
                events.Add((EventRecorder.Normal, "Resumed", "Job resumed"));
                status.StartTime = now; // activeDeadlineSeconds counts the time the Job is continuously active
            }
            // Kubernetes syncs one Job on one worker at a time: no new writes while a slow-start run is still going.
            if (!suspended && _expectations.Satisfied(key) && !_creations.InProgress(key))
                active = ManagePods(key, job, pods, active, terminating, succeeded, succeededIndexes, failedIndexes, failuresOf, countedFailed, now);

            var complete = indexed
                ? succeededIndexes.Count + failedIndexes.Count >= total && active.Count == 0
                : completions is null ? succeeded > 0 && active.Count == 0 : succeeded >= completions && active.Count == 0;
            if (complete && !suspended)
                finish = failedIndexes.Count > 0
                    ? new Finish("Failed", "FailedIndexes", "Job has failed indexes")
                    : new Finish("Complete", "CompletionsReached", "Reached expected number of succeeded pods");
        }

        if (finish is not null)
        {
            var target = finish.Type == "Failed" ? "FailureTarget" : "SuccessCriteriaMet";
            JobFacts.EnsureCondition(conditions, target, "True", finish.Reason, finish.Message, now);
            if (deleted == 0 && terminating == 0 && active.Count == 0)
            {
                if (finish.Type == "Complete") status.CompletionTime = now;
                JobFacts.EnsureCondition(conditions, finish.Type, "True", finish.Reason, finish.Message, now);
                events.Add(finish.Type == "Complete"
                    ? (EventRecorder.Normal, "Completed", "Job completed")
                    : (EventRecorder.Warning, finish.Reason, finish.Message));
            }
        }

        status.Active = active.Count;
        status.Ready = active.Count(PodFacts.IsReady);
        status.Terminating = terminating;
        status.Succeeded = succeeded;
        status.Failed = countedFailed.Count;
        status.CompletedIndexes = indexed ? succeededIndexes.ToString() : null;
        status.FailedIndexes = perIndex ? failedIndexes.ToString() : null;
        status.UncountedTerminatedPods = new V1UncountedTerminatedPods();
        status.Conditions = conditions.Count == 0 ? null : conditions;
        if (KubeObjects.Serialize(status) != KubeObjects.Serialize(job.Status ?? new V1JobStatus()))
        {
            var updated = KubeObjects.Clone(job);
            updated.Status = status;
            updated.Metadata.ResourceVersion = null; // status has one writer: this loop
            SendAndForget(new UpdateObject(Jobs, updated, "status"));
        }
        foreach (var (type, reason, message) in events) _events.Record(job, type, reason, message, Self);

        if (finish is null && !suspended && spec.ActiveDeadlineSeconds is { } deadline && status.StartTime is { } start)
            RequeueAfter(key, start.AddSeconds(deadline) - now + TimeSpan.FromMilliseconds(100));
        if (finish is not null) RequeueAfter(key, TimeSpan.FromSeconds(1)); // until the final condition is written
    }

    private static Finish? RecordedTarget(V1Job job)
    {
        if (JobFacts.Condition(job, "FailureTarget") is { Status: "True" } failure)
            return new Finish("Failed", failure.Reason ?? "", failure.Message ?? "");
        if (JobFacts.Condition(job, "SuccessCriteriaMet") is { Status: "True" } success)
            return new Finish("Complete", success.Reason ?? "", success.Message ?? "");
        return null;
    }

    private static bool PastDeadline(V1Job job, V1JobStatus status, DateTime now) =>
        job.Spec.ActiveDeadlineSeconds is { } deadline && status.StartTime is { } start
        && now - DateTime.SpecifyKind(start, DateTimeKind.Utc) >= TimeSpan.FromSeconds(deadline);

    /// <summary>Kubernetes' manageJob: creates the missing pods (after the failure back-off) and deletes the surplus;
    /// returns the pods that stay active.</summary>
    private List<V1Pod> ManagePods(ResourceKey key, V1Job job, List<V1Pod> all, List<V1Pod> active, int terminating, int succeeded,
        IndexSet succeededIndexes, IndexSet failedIndexes, Dictionary<int, int> failuresOf,
        List<(V1Pod Pod, string? Action)> countedFailed, DateTime now)
    {
        var spec = job.Spec;
        var parallelism = spec.Parallelism ?? 1;
        var indexed = JobFacts.IsIndexed(job);
        var total = spec.Completions ?? 0;

        // Surplus: for an Indexed Job first the pods of indexes that are done, out of range, or running twice.
        var surplus = new List<V1Pod>();
        if (indexed)
        {
            var seen = new HashSet<int>();
            foreach (var pod in active.OrderByDescending(p => PodFacts.IsReady(p)).ThenBy(p => p.Metadata.CreationTimestamp))
            {
                var index = JobFacts.CompletionIndex(pod);
                if (index < 0 || index >= total || succeededIndexes.Contains(index) || failedIndexes.Contains(index) || !seen.Add(index))
                    surplus.Add(pod);
            }
        }
        var remaining = active.Except(surplus).ToList();
        int wantActive;
        if (indexed) wantActive = Math.Clamp(total - succeededIndexes.Count - failedIndexes.Count, 0, parallelism);
        else if (spec.Completions is null) wantActive = succeeded > 0 ? remaining.Count : parallelism;
        else wantActive = Math.Clamp(spec.Completions.Value - succeeded, 0, parallelism);
        if (remaining.Count > wantActive)
            surplus.AddRange(PodDeletionRanking.PickForDeletion(remaining, remaining.Count - wantActive));
        if (surplus.Count > 0)
        {
            DeletePods(key, job, surplus.Take(MaxPodCreateDeletePerSync).ToList());
            return active.Except(surplus).ToList();
        }

        var diff = wantActive - remaining.Count;
        if (JobFacts.OnlyReplaceFailedPods(job)) diff -= terminating; // terminating pods still hold their place
        if (diff <= 0) return active;

        List<V1Pod> create;
        if (indexed)
        {
            create = [];
            foreach (var index in JobPods.FirstPendingIndexes(total, succeededIndexes, failedIndexes, remaining, diff))
            {
                var failedOfIndex = countedFailed.Where(f => JobFacts.CompletionIndex(f.Pod) == index).Select(f => f.Pod);
                var wait = JobFacts.RemainingBackOff(failedOfIndex, job, now, _backOff);
                if (wait > TimeSpan.Zero)
                {
                    RequeueAfter(key, wait);
                    continue;
                }
                create.Add(JobPods.New(job, index, failuresOf.GetValueOrDefault(index)));
            }
        }
        else
        {
            var wait = JobFacts.RemainingBackOff(all, job, now, _backOff);
            if (wait > TimeSpan.Zero)
            {
                RequeueAfter(key, wait);
                return active;
            }
            create = Enumerable.Range(0, diff).Select(_ => JobPods.New(job)).ToList();
        }
        create = create.Take(MaxPodCreateDeletePerSync).ToList();
        if (create.Count == 0) return active;
        _expectations.ExpectCreations(key, create.Count);
        SendCreations(key, job, _creations.Start(key, create));
        return [.. active, .. create];
    }

    private void SendCreations(ResourceKey key, V1Job job, SlowStartStep<V1Pod> step)
    {
        if (step.Failed)
        {
            // Kubernetes' "Slow-start failure": the pods never sent are not expected; the next sync starts again from one.
            if (step.Skipped > 0) Log.Debug("{0}: slow-start failure, skipping {1} pod creations", key, step.Skipped);
            _expectations.LowerCreations(key, step.Skipped);
            RequeueAfter(key, TimeSpan.FromSeconds(1));
        }
        foreach (var pod in step.Send) Send(new CreateObject(Pods, pod), new CreateTag(key, job, step.Run));
    }

    private int DeletePods(ResourceKey key, V1Job job, IReadOnlyList<V1Pod> pods)
    {
        if (pods.Count == 0) return 0;
        _expectations.ExpectDeletions(key, pods.Select(p => p.Metadata.Uid).Where(u => u is not null)!);
        foreach (var pod in pods)
            Send(new DeleteObject(new ResourceKey(Pods, pod.Metadata.NamespaceProperty, pod.Metadata.Name), PreconditionUid: pod.Metadata.Uid),
                new DeleteTag(key, job, pod.Metadata.Name, pod.Metadata.Uid));
        return pods.Count;
    }

    /// <summary>The TTL-after-finished controller: a finished Job with ttlSecondsAfterFinished goes when it expires.</summary>
    private void ExpireFinished(ResourceKey key, V1Job job, DateTime now)
    {
        if (job.Spec.TtlSecondsAfterFinished is not { } ttl) return;
        var finished = (JobFacts.Condition(job, "Complete") is { Status: "True" } c ? c : JobFacts.Condition(job, "Failed"))?.LastTransitionTime;
        if (finished is null) return;
        var left = DateTime.SpecifyKind(finished.Value, DateTimeKind.Utc).AddSeconds(ttl) - now;
        if (left > TimeSpan.Zero)
        {
            RequeueAfter(key, left + TimeSpan.FromMilliseconds(100));
            return;
        }
        Log.Info("deleting job {0}/{1}: finished more than {2} s ago", key.Namespace, key.Name, ttl);
        SendAndForget(new DeleteObject(key, PreconditionUid: job.Metadata.Uid, PropagationPolicy: "Foreground"));
    }

    protected override void OnStoreReplied(StoreReplied reply)
    {
        switch (reply.Tag)
        {
            case CreateTag c when reply.Succeeded:
                _events.Record(c.Object, EventRecorder.Normal, "SuccessfulCreate", $"Created pod: {reply.Stored!.Object.Metadata.Name}", Self);
                SendCreations(c.Job, c.Object, _creations.Answered(c.Job, c.Run, succeeded: true));
                break;
            case CreateTag c when StoreErrors.IsNamespaceTerminating(reply.Failed!.Error):
                // As Kubernetes: every later create would be refused the same way, and the namespace takes the Job.
                _expectations.CreationObserved(c.Job);
                SendCreations(c.Job, c.Object, _creations.Answered(c.Job, c.Run, succeeded: true));
                break;
            case CreateTag c:
                _expectations.CreationObserved(c.Job);
                _events.Record(c.Object, EventRecorder.Warning, "FailedCreate", $"Error creating: {reply.Failed!.Error.Message}", Self);
                SendCreations(c.Job, c.Object, _creations.Answered(c.Job, c.Run, succeeded: false));
                break;
            case DeleteTag d when reply.Succeeded:
                _events.Record(d.Object, EventRecorder.Normal, "SuccessfulDelete", $"Deleted pod: {d.PodName}", Self);
                break;
            case DeleteTag d:
                _expectations.DeletionObserved(d.Job, d.PodUid);
                RequeueAfter(d.Job, TimeSpan.FromSeconds(1));
                break;
            default:
                base.OnStoreReplied(reply);
                break;
        }
    }
}
