using k8s.Models;
using Orchestrator.Master.Controllers;
using Orchestrator.Master.Store;
using Xunit;
using Xunit.Abstractions;

namespace Orchestrator.Master.Tests.Controllers.Workloads;

public sealed class CronJobControllerTests(ITestOutputHelper output) : WorkloadTestKit(output)
{
    private static readonly TimeSpan Resync = TimeSpan.FromMilliseconds(200);
    private DateTime _now = DateTime.UtcNow;

    private static V1CronJob CronJob(string name, string schedule = "*/1 * * * *", Action<V1CronJobSpec>? configure = null)
    {
        var cronJob = new V1CronJob
        {
            ApiVersion = "batch/v1", Kind = "CronJob",
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default" },
            Spec = new V1CronJobSpec
            {
                Schedule = schedule,
                JobTemplate = new V1JobTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["team"] = "batch" } },
                    Spec = JobControllerTests.Job("unused").Spec,
                },
            },
        };
        configure?.Invoke(cronJob.Spec);
        return cronJob;
    }

    private void StartController() => Sys.ActorOf(CronJobController.Props(Store, Resync, () => _now));

    private IReadOnlyList<V1Job> JobsOf(V1CronJob cronJob) =>
        All<V1Job>().Where(j => j.Metadata.OwnerReferences?.Any(o => o.Uid == cronJob.Metadata.Uid && o.Controller == true) == true)
            .OrderBy(j => j.Metadata.Name).ToList();

    private static DateTime NextMinute(DateTime t) => new DateTime(t.Year, t.Month, t.Day, t.Hour, t.Minute, 0, DateTimeKind.Utc).AddMinutes(1);

    private void Complete(V1Job job, string type = "Complete")
    {
        var done = Find<V1Job>(job.Metadata.Name)!;
        done.Status = new V1JobStatus
        {
            StartTime = _now, CompletionTime = type == "Complete" ? _now : null,
            Conditions = [new V1JobCondition { Type = type, Status = "True", LastTransitionTime = _now }],
        };
        Write(new UpdateObject("jobs", done, "status"));
    }

    [Fact]
    public void A_schedule_that_never_fires_is_reported_as_invalid_and_starts_nothing()
    {
        // kubectl's test-cmd (events.sh) creates this CronJob and expects the Warning InvalidSchedule event of
        // kube-controller-manager: 31 February never comes.
        var cronJob = Seed(CronJob("pi", "59 23 31 2 *"));
        StartController();

        AwaitAssert(() => Assert.Contains(All<Corev1Event>(), e => e.Type == "Warning" && e.Reason == "InvalidSchedule"
            && e.InvolvedObject.Name == "pi"
            && e.Message == "invalid schedule: 59 23 31 2 * : time difference between two schedules is less than 1 second"));
        Assert.Empty(JobsOf(cronJob));
    }

    [Fact]
    public void The_job_of_a_schedule_time_is_created_from_the_template_and_recorded_in_the_status()
    {
        var cronJob = Seed(CronJob("hello"));
        StartController();
        Assert.Empty(JobsOf(cronJob));

        var fired = NextMinute(cronJob.Metadata.CreationTimestamp!.Value.ToUniversalTime());
        _now = fired.AddSeconds(2);
        var job = AwaitAssertReturn(() => Assert.Single(JobsOf(cronJob)));
        Assert.Equal($"hello-{new DateTimeOffset(fired).ToUnixTimeSeconds() / 60}", job.Metadata.Name);
        Assert.Equal("batch", job.Metadata.Labels["team"]);
        Assert.Equal(fired.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'"), job.Metadata.Annotations["batch.kubernetes.io/cronjob-scheduled-timestamp"]);
        Assert.Equal(("CronJob", "hello"), (job.Metadata.OwnerReferences[0].Kind, job.Metadata.OwnerReferences[0].Name));
        AwaitAssert(() =>
        {
            var status = Find<V1CronJob>("hello")!.Status;
            Assert.Equal(job.Metadata.Uid, Assert.Single(status.Active).Uid);
            Assert.Equal(fired, status.LastScheduleTime!.Value.ToUniversalTime());
        });

        Complete(job);
        AwaitAssert(() =>
        {
            var status = Find<V1CronJob>("hello")!.Status;
            Assert.Null(status.Active);
            Assert.NotNull(status.LastSuccessfulTime);
        });
        AwaitAssert(() => Assert.Contains(All<Corev1Event>(), e => e.Reason == "SawCompletedJob" && e.Message == $"Saw completed job: {job.Metadata.Name}, condition: Complete"));
    }

    [Fact]
    public void Forbid_skips_a_run_while_one_is_active_and_Replace_replaces_it()
    {
        var forbid = Seed(CronJob("forbid", configure: s => s.ConcurrencyPolicy = "Forbid"));
        var replace = Seed(CronJob("replace", configure: s => s.ConcurrencyPolicy = "Replace"));
        StartController();
        var fired = NextMinute(forbid.Metadata.CreationTimestamp!.Value.ToUniversalTime());
        _now = fired.AddSeconds(1);
        AwaitAssert(() => Assert.Single(JobsOf(forbid)));
        var first = AwaitAssertReturn(() => Assert.Single(JobsOf(replace)));

        _now = fired.AddMinutes(1).AddSeconds(1);
        var second = AwaitAssertReturn(() => Assert.Single(JobsOf(replace), j => j.Metadata.Name != first.Metadata.Name));
        AwaitAssert(() => Assert.DoesNotContain(JobsOf(replace), j => j.Metadata.Name == first.Metadata.Name));
        Assert.Single(JobsOf(forbid));
        AwaitAssert(() => Assert.Equal(second.Metadata.Uid, Assert.Single(Find<V1CronJob>("replace")!.Status.Active).Uid));
    }

    [Fact]
    public void Finished_jobs_beyond_the_history_limits_are_deleted_oldest_first()
    {
        var cronJob = Seed(CronJob("history", configure: s => (s.SuccessfulJobsHistoryLimit, s.FailedJobsHistoryLimit) = (1, 0)));
        StartController();
        var fired = NextMinute(cronJob.Metadata.CreationTimestamp!.Value.ToUniversalTime());
        var names = new List<string>();
        for (var run = 0; run < 3; run++)
        {
            _now = fired.AddMinutes(run).AddSeconds(1);
            var job = AwaitAssertReturn(() => Assert.Single(JobsOf(cronJob), j => !names.Contains(j.Metadata.Name)));
            names.Add(job.Metadata.Name);
            Complete(job, run == 2 ? "Failed" : "Complete");
        }
        AwaitAssert(() => Assert.Equal([names[1]], JobsOf(cronJob).Select(j => j.Metadata.Name)));
    }

    [Fact]
    public void A_suspended_cron_job_starts_nothing()
    {
        var cronJob = Seed(CronJob("paused", configure: s => s.Suspend = true));
        var witness = Seed(CronJob("witness"));
        StartController();
        _now = NextMinute(cronJob.Metadata.CreationTimestamp!.Value.ToUniversalTime()).AddMinutes(3);
        AwaitAssert(() => Assert.Single(JobsOf(witness))); // the controller has seen the clock move
        Assert.Empty(JobsOf(cronJob));
        Modify<V1CronJob>("paused", c => c.Spec.Suspend = false);
        AwaitAssert(() => Assert.Single(JobsOf(cronJob)));
    }

    [Fact]
    public void After_many_missed_times_only_the_most_recent_runs_and_none_past_the_starting_deadline()
    {
        var late = Seed(CronJob("late", configure: s => s.StartingDeadlineSeconds = 10));
        var behind = Seed(CronJob("behind"));
        StartController();
        var created = behind.Metadata.CreationTimestamp!.Value.ToUniversalTime();
        _now = NextMinute(created).AddHours(3).AddSeconds(30);

        var job = AwaitAssertReturn(() => Assert.Single(JobsOf(behind)));
        Assert.Equal($"behind-{new DateTimeOffset(NextMinute(created).AddHours(3)).ToUnixTimeSeconds() / 60}", job.Metadata.Name);
        AwaitAssert(() => Assert.Contains(All<Corev1Event>(), e => e.Reason == "TooManyMissedTimes" && e.InvolvedObject.Name == "behind"));
        Assert.Empty(JobsOf(late));
    }
}
