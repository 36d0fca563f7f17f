using Akka.Actor;
using k8s.Models;
using Orchestrator.Master.Controllers;
using Orchestrator.Master.Store;
using Orchestrator.Master.Tests.Controllers.Support;
using Xunit;
using Xunit.Abstractions;

namespace Orchestrator.Master.Tests.Controllers.Workloads;

public sealed class JobControllerTests(ITestOutputHelper output) : WorkloadTestKit(output)
{
    private static readonly TimeSpan Resync = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan BackOff = TimeSpan.FromMilliseconds(200);

    public static V1Job Job(string name, int? completions = 1, int? parallelism = 1, Action<V1JobSpec>? configure = null)
    {
        var job = new V1Job
        {
            ApiVersion = "batch/v1", Kind = "Job",
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default" },
            Spec = new V1JobSpec
            {
                Completions = completions, Parallelism = parallelism,
                Template = new V1PodTemplateSpec
                {
                    Spec = new V1PodSpec { RestartPolicy = "Never", Containers = [new V1Container { Name = "main", Image = "busybox" }] },
                },
            },
        };
        configure?.Invoke(job.Spec);
        return job;
    }

    private IReadOnlyList<V1Pod> PodsOf(V1Job job) =>
        All<V1Pod>().Where(p => p.Metadata.OwnerReferences?.Any(o => o.Uid == job.Metadata.Uid && o.Controller == true) == true).ToList();

    private IReadOnlyList<V1Pod> Running(V1Job job) => PodsOf(job).Where(p => p.Status?.Phase is null or "Pending" or "Running").ToList();

    private void Finish(V1Pod pod, string phase, int exitCode = 0)
    {
        var finished = Find<V1Pod>(pod.Metadata.Name)!;
        finished.Status = new V1PodStatus
        {
            Phase = phase,
            ContainerStatuses =
            [
                new V1ContainerStatus
                {
                    Name = "main", Image = "busybox", ImageID = "", Ready = false, RestartCount = 0,
                    State = new V1ContainerState { Terminated = new V1ContainerStateTerminated { ExitCode = exitCode, FinishedAt = DateTime.UtcNow } },
                },
            ],
        };
        Write(new UpdateObject("pods", finished, "status"));
    }

    private V1JobCondition? Condition(string job, string type) =>
        Find<V1Job>(job)?.Status?.Conditions?.FirstOrDefault(c => c.Type == type && c.Status == "True");

    [Fact]
    public void A_job_runs_its_completions_one_at_a_time_and_completes()
    {
        var job = Seed(Job("pi", completions: 2, parallelism: 1));
        Sys.ActorOf(JobController.Props(Store, Resync, BackOff));

        var first = AwaitAssertReturn(() => Assert.Single(Running(job)));
        Assert.StartsWith("pi-", first.Metadata.Name);
        Assert.Equal("pi", first.Metadata.Labels["batch.kubernetes.io/job-name"]);
        Assert.Equal(job.Metadata.Uid, first.Metadata.Labels["batch.kubernetes.io/controller-uid"]);
        var owner = Assert.Single(first.Metadata.OwnerReferences);
        Assert.Equal(("batch/v1", "Job", "pi", true), (owner.ApiVersion, owner.Kind, owner.Name, owner.Controller == true));
        AwaitAssert(() =>
        {
            var status = Find<V1Job>("pi")!.Status;
            Assert.Equal(1, status.Active);
            Assert.NotNull(status.StartTime);
        });

        Finish(first, "Succeeded");
        var second = AwaitAssertReturn(() => Assert.Single(Running(job)));
        Assert.NotEqual(first.Metadata.Name, second.Metadata.Name);
        Finish(second, "Succeeded");

        AwaitAssert(() => Assert.NotNull(Condition("pi", "Complete")));
        var done = Find<V1Job>("pi")!;
        Assert.Equal((2, 0, 0), (done.Status.Succeeded ?? 0, done.Status.Active ?? 0, done.Status.Failed ?? 0));
        Assert.NotNull(done.Status.CompletionTime);
        Assert.Equal("CompletionsReached", Condition("pi", "SuccessCriteriaMet")!.Reason);
        Assert.Equal("Reached expected number of succeeded pods", Condition("pi", "Complete")!.Message);
        Assert.Equal(2, PodsOf(job).Count);
        AwaitAssert(() => Assert.Contains(All<Corev1Event>(), e => e.Reason == "Completed" && e.InvolvedObject.Uid == job.Metadata.Uid));
    }

    [Fact]
    public void Parallel_pods_are_capped_by_the_remaining_completions()
    {
        var job = Seed(Job("batch", completions: 3, parallelism: 5));
        Sys.ActorOf(JobController.Props(Store, Resync, BackOff));
        AwaitAssert(() => Assert.Equal(3, Running(job).Count));
        Finish(Running(job)[0], "Succeeded");
        AwaitAssert(() => Assert.Equal(1, Find<V1Job>("batch")!.Status.Succeeded));
        Assert.Equal(2, Running(job).Count);
    }

    [Fact]
    public void Failed_pods_are_replaced_after_a_back_off_until_the_backoff_limit_fails_the_job()
    {
        var job = Seed(Job("flaky", configure: s => s.BackoffLimit = 1));
        Sys.ActorOf(JobController.Props(Store, Resync, BackOff));

        Finish(AwaitAssertReturn(() => Assert.Single(Running(job))), "Failed", 1);
        var replacement = AwaitAssertReturn(() => Assert.Single(Running(job)));
        AwaitAssert(() => Assert.Equal(1, Find<V1Job>("flaky")!.Status.Failed));
        Assert.Null(Condition("flaky", "Failed"));

        Finish(replacement, "Failed", 1);
        AwaitAssert(() => Assert.NotNull(Condition("flaky", "Failed")));
        var failed = Condition("flaky", "Failed")!;
        Assert.Equal(("BackoffLimitExceeded", "Job has reached the specified backoff limit"), (failed.Reason, failed.Message));
        Assert.NotNull(Condition("flaky", "FailureTarget"));
        Assert.Equal(2, Find<V1Job>("flaky")!.Status.Failed);
        Assert.Empty(Running(job));
        Assert.Null(Find<V1Job>("flaky")!.Status.CompletionTime);
    }

    [Fact]
    public void An_indexed_job_gives_each_index_one_pod_with_its_index_and_records_completed_indexes()
    {
        var job = Seed(Job("idx", completions: 3, parallelism: 2, s => s.CompletionMode = "Indexed"));
        Sys.ActorOf(JobController.Props(Store, Resync, BackOff));

        var pods = AwaitAssertReturn(() =>
        {
            var running = Running(job);
            Assert.Equal(2, running.Count);
            return running;
        });
        Assert.Equal(["0", "1"], pods.Select(p => p.Metadata.Annotations["batch.kubernetes.io/job-completion-index"]).Order());
        foreach (var pod in pods)
        {
            var index = pod.Metadata.Annotations["batch.kubernetes.io/job-completion-index"];
            Assert.Equal(index, pod.Metadata.Labels["batch.kubernetes.io/job-completion-index"]);
            Assert.Equal($"idx-{index}", pod.Spec.Hostname);
            Assert.StartsWith($"idx-{index}-", pod.Metadata.Name);
            var env = Assert.Single(pod.Spec.Containers[0].Env, e => e.Name == "JOB_COMPLETION_INDEX");
            Assert.Equal("metadata.annotations['batch.kubernetes.io/job-completion-index']", env.ValueFrom.FieldRef.FieldPath);
        }

        Finish(pods.Single(p => p.Metadata.Annotations["batch.kubernetes.io/job-completion-index"] == "1"), "Succeeded");
        var third = AwaitAssertReturn(() => Assert.Single(Running(job), p => p.Metadata.Annotations["batch.kubernetes.io/job-completion-index"] == "2"));
        AwaitAssert(() => Assert.Equal("1", Find<V1Job>("idx")!.Status.CompletedIndexes));

        Finish(third, "Succeeded");
        Finish(pods.Single(p => p.Metadata.Annotations["batch.kubernetes.io/job-completion-index"] == "0"), "Succeeded");
        AwaitAssert(() => Assert.NotNull(Condition("idx", "Complete")));
        Assert.Equal("0-2", Find<V1Job>("idx")!.Status.CompletedIndexes);
        Assert.Equal(3, PodsOf(job).Count);
    }

    [Fact]
    public void A_suspended_job_runs_nothing_until_resumed()
    {
        var job = Seed(Job("later", configure: s => s.Suspend = true));
        Sys.ActorOf(JobController.Props(Store, Resync, BackOff));

        AwaitAssert(() => Assert.Equal("JobSuspended", Condition("later", "Suspended")?.Reason));
        Assert.Empty(PodsOf(job));
        Assert.Null(Find<V1Job>("later")!.Status.StartTime);

        Modify<V1Job>("later", j => j.Spec.Suspend = false);
        AwaitAssert(() => Assert.Single(Running(job)));
        AwaitAssert(() =>
        {
            var suspended = Find<V1Job>("later")!.Status.Conditions.Single(c => c.Type == "Suspended");
            Assert.Equal(("False", "JobResumed"), (suspended.Status, suspended.Reason));
            Assert.NotNull(Find<V1Job>("later")!.Status.StartTime);
        });

        Modify<V1Job>("later", j => j.Spec.Suspend = true);
        AwaitAssert(() => Assert.Empty(Running(job)));
        AwaitAssert(() => Assert.NotNull(Condition("later", "Suspended")));
    }

    [Fact]
    public void A_job_active_longer_than_its_deadline_fails_and_its_pods_are_deleted()
    {
        var job = Seed(Job("slow", configure: s => s.ActiveDeadlineSeconds = 1));
        Sys.ActorOf(JobController.Props(Store, Resync, BackOff));
        AwaitAssert(() => Assert.Single(Running(job)));
        AwaitAssert(() => Assert.Equal("DeadlineExceeded", Condition("slow", "Failed")?.Reason), TimeSpan.FromSeconds(15));
        Assert.Empty(PodsOf(job));
        Assert.Equal("Job was active longer than specified deadline", Condition("slow", "Failed")!.Message);
    }

    [Fact]
    public void A_pod_failure_policy_fails_the_job_on_a_matching_exit_code_and_ignores_others()
    {
        var job = Seed(Job("policy", configure: s => s.PodFailurePolicy = new V1PodFailurePolicy
        {
            Rules =
            [
                new V1PodFailurePolicyRule { Action = "Ignore", OnExitCodes = new V1PodFailurePolicyOnExitCodesRequirement { OperatorProperty = "In", Values = [3] } },
                new V1PodFailurePolicyRule { Action = "FailJob", OnExitCodes = new V1PodFailurePolicyOnExitCodesRequirement { OperatorProperty = "In", Values = [42] } },
            ],
        }));
        Sys.ActorOf(JobController.Props(Store, Resync, BackOff));

        var first = AwaitAssertReturn(() => Assert.Single(Running(job)));
        Finish(first, "Failed", 3);
        var second = AwaitAssertReturn(() => Assert.Single(Running(job)));
        AwaitAssert(() => Assert.Equal(0, Find<V1Job>("policy")!.Status.Failed ?? 0));

        Finish(second, "Failed", 42);
        AwaitAssert(() => Assert.Equal("PodFailurePolicy", Condition("policy", "Failed")?.Reason));
        Assert.Equal($"Container main for pod default/{second.Metadata.Name} failed with exit code 42 matching FailJob rule at index 1",
            Condition("policy", "Failed")!.Message);
    }

    [Fact]
    public void A_finished_job_with_a_ttl_is_deleted_when_it_expires()
    {
        var job = Seed(Job("short", configure: s => s.TtlSecondsAfterFinished = 0));
        Sys.ActorOf(JobController.Props(Store, Resync, BackOff));
        Finish(AwaitAssertReturn(() => Assert.Single(Running(job))), "Succeeded");
        Writes.FishForMessage<DeleteObject>(d => d.Key.Resource == "jobs" && d.Key.Name == "short" && d.PropagationPolicy == "Foreground");
    }

    [Fact]
    public void Pods_are_created_in_slow_start_batches_that_stop_at_the_first_refusal()
    {
        var job = Seed(Job("idx", completions: 7, parallelism: 7, s => s.CompletionMode = "Indexed"));
        var gate = Sys.ActorOf(PodCreateGate.Props(Store));
        Sys.ActorOf(JobController.Props(gate, Resync, BackOff));
        int Held() => gate.Ask<int>(new PodCreateGate.CountHeld(), TimeSpan.FromSeconds(10)).Result;
        string[] Indexes() => PodsOf(job).Select(p => p.Metadata.Labels["batch.kubernetes.io/job-completion-index"]).Order().ToArray();

        // Batches of 1, then 2: the next batch waits for every answer of the last.
        AwaitAssert(() => Assert.Equal(1, Held()));
        gate.Tell(new PodCreateGate.Answer(Accept: 1));
        AwaitAssert(() => Assert.Equal(2, Held()));

        // One refusal ends the run: the 4 pods not yet sent are not sent, and the next sync starts again from one with
        // the indexes still without a pod.
        gate.Tell(new PodCreateGate.Answer(Accept: 1, Refuse: 1));
        AwaitAssert(() => Assert.Equal(1, Held()));
        Assert.Equal(2, Indexes().Length); // index 0 and one of 1 and 2 (whichever reached the gate first was let through)
        Assert.Equal("0", Indexes()[0]);
        gate.Tell(new PodCreateGate.Answer(Accept: 1));
        AwaitAssert(() => Assert.Equal(2, Held()));
        gate.Tell(new PodCreateGate.Answer(Accept: 2));
        AwaitAssert(() => Assert.Equal(2, Held())); // 4 would be more than the 2 still missing
        gate.Tell(new PodCreateGate.Answer(Accept: 2));

        // One pod for every index, none twice: the expectations held while the batches were out.
        AwaitAssert(() => Assert.Equal(["0", "1", "2", "3", "4", "5", "6"], Indexes()));
        Assert.Equal(0, Held());
        var refused = AwaitAssertReturn(() => Assert.Single(All<Corev1Event>(), e => e.Reason == "FailedCreate"));
        Assert.Equal(("Warning", "Error creating: Too many requests, please try again later."), (refused.Type, refused.Message));
        AwaitAssert(() => Assert.Equal(7, All<Corev1Event>().Count(e => e.Reason == "SuccessfulCreate")));
    }
}
