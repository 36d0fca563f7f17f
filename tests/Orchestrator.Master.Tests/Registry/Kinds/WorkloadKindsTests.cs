using k8s.Models;
using Orchestrator.Master.Registry.Kinds.Apps;
using Orchestrator.Master.Registry.Kinds.Autoscaling;
using Orchestrator.Master.Registry.Kinds.Batch;
using Orchestrator.Master.Registry.Kinds.Core;
using Orchestrator.Master.Registry.Kinds.Policy;
using Orchestrator.Master.Registry.Kinds.Scheduling;
using Orchestrator.Master.Store;
using Xunit;

namespace Orchestrator.Master.Tests.Registry.Kinds;

/// <summary>The strategies of the workload kinds (issue 16): Kubernetes' defaults and validation messages.</summary>
public class WorkloadKindsTests
{
    private static List<StoreErrorCause> Admit(Orchestrator.Master.Registry.Catalog.ResourceDescription resource,
        k8s.IKubernetesObject<V1ObjectMeta> obj, k8s.IKubernetesObject<V1ObjectMeta>? old = null)
    {
        obj.Metadata.Uid ??= "8c4c1f5e-0000-4000-8000-000000000001";
        return Strategies.Admit(resource, obj, old);
    }

    private static V1PodTemplateSpec Template(string restartPolicy = "Never", IDictionary<string, string>? labels = null) => new()
    {
        Metadata = new V1ObjectMeta { Labels = labels },
        Spec = new V1PodSpec
        {
            RestartPolicy = restartPolicy,
            Containers = [new V1Container { Name = "pi", Image = "perl:5.34.0", Command = ["perl", "-Mbignum=bpi", "-wle", "print bpi(2000)"] }],
        },
    };

    public static V1Job Job(string name = "pi") => new()
    {
        ApiVersion = "batch/v1", Kind = "Job",
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default" },
        Spec = new V1JobSpec { Template = Template() },
    };

    [Fact]
    public void Job_gets_kubernetes_defaults_and_a_generated_selector()
    {
        var job = Job();
        Assert.Empty(Admit(BatchResources.Jobs, job));

        Assert.Equal((1, 1, 6), (job.Spec.Completions, job.Spec.Parallelism, job.Spec.BackoffLimit));
        Assert.Equal("NonIndexed", job.Spec.CompletionMode);
        Assert.False(job.Spec.Suspend);
        Assert.Equal("TerminatingOrFailed", job.Spec.PodReplacementPolicy);
        var uid = job.Metadata.Uid;
        Assert.Equal(new Dictionary<string, string> { ["batch.kubernetes.io/controller-uid"] = uid }, job.Spec.Selector.MatchLabels);
        var labels = job.Spec.Template.Metadata.Labels;
        Assert.Equal(uid, labels["controller-uid"]);
        Assert.Equal("pi", labels["job-name"]);
        Assert.Equal(uid, labels["batch.kubernetes.io/controller-uid"]);
        Assert.Equal("pi", labels["batch.kubernetes.io/job-name"]);
    }

    [Fact]
    public void Job_refuses_restart_policy_always_and_negative_numbers()
    {
        var job = Job();
        job.Spec.Template.Spec.RestartPolicy = "Always";
        job.Spec.BackoffLimit = -1;
        var causes = Admit(BatchResources.Jobs, job);

        Assert.Contains(causes, c => c.Field == "spec.template.spec.restartPolicy" &&
                                     c.Message == "Required value: valid values: \"OnFailure\", \"Never\"");
        Assert.Contains(causes, c => c.Field == "spec.backoffLimit" && c.Message == "Invalid value: -1: must be greater than or equal to 0");
    }

    [Fact]
    public void Indexed_job_needs_completions_and_per_index_limits_need_indexed_mode()
    {
        var indexed = Job();
        indexed.Spec.CompletionMode = "Indexed";
        indexed.Spec.Parallelism = 2;
        Assert.Contains(Admit(BatchResources.Jobs, indexed), c => c.Field == "spec.completions" &&
                                                                  c.Message == "Required value: when completion mode is Indexed");

        var nonIndexed = Job();
        nonIndexed.Spec.BackoffLimitPerIndex = 1;
        Assert.Contains(Admit(BatchResources.Jobs, nonIndexed), c => c.Field == "spec.backoffLimitPerIndex" &&
                                                                     c.Message == "Invalid value: 1: requires indexed completion mode");
    }

    [Fact]
    public void Pod_failure_policy_rules_are_checked_as_kubernetes_does()
    {
        var job = Job();
        job.Spec.PodFailurePolicy = new V1PodFailurePolicy
        {
            Rules =
            [
                new V1PodFailurePolicyRule { Action = "FailJob", OnExitCodes = new V1PodFailurePolicyOnExitCodesRequirement { OperatorProperty = "In", Values = [0, 42] } },
                new V1PodFailurePolicyRule { Action = "Ignore" },
            ],
        };
        var causes = Admit(BatchResources.Jobs, job);

        Assert.Contains(causes, c => c.Field == "spec.podFailurePolicy.rules[0].onExitCodes.values[0]" && c.Message == "Invalid value: 0: must not be 0 for the In operator");
        Assert.Contains(causes, c => c.Field == "spec.podFailurePolicy.rules[1]" && c.Message.EndsWith("specifying one of OnExitCodes and OnPodConditions is required"));
        Assert.Equal("Failed", job.Spec.PodReplacementPolicy);
    }

    [Fact]
    public void Job_template_and_completions_are_immutable()
    {
        var old = Job();
        Assert.Empty(Admit(BatchResources.Jobs, old));
        var job = Orchestrator.Shared.Api.KubeObjects.Clone(old);
        job.Spec.Completions = 3;
        job.Spec.Template.Spec.Containers[0].Image = "other";
        var causes = Admit(BatchResources.Jobs, job, old);
        Assert.Contains(causes, c => c.Field == "spec.completions" && c.Message == "Invalid value: 3: field is immutable");
        Assert.Contains(causes, c => c.Field == "spec.template" && c.Message.EndsWith(": field is immutable"));
    }

    [Fact]
    public void CronJob_defaults_and_schedule_rules()
    {
        var cron = new V1CronJob
        {
            ApiVersion = "batch/v1", Kind = "CronJob",
            Metadata = new V1ObjectMeta { Name = "hello", NamespaceProperty = "default" },
            Spec = new V1CronJobSpec { Schedule = "*/1 * * * *", JobTemplate = new V1JobTemplateSpec { Spec = new V1JobSpec { Template = Template("OnFailure") } } },
        };
        Assert.Empty(Admit(BatchResources.CronJobs, cron));
        Assert.Equal(("Allow", false, 3, 1), (cron.Spec.ConcurrencyPolicy, cron.Spec.Suspend, cron.Spec.SuccessfulJobsHistoryLimit, cron.Spec.FailedJobsHistoryLimit));

        cron.Spec.Schedule = "hello";
        Assert.Contains(Admit(BatchResources.CronJobs, cron), c => c.Field == "spec.schedule" &&
                                                                  c.Message == "Invalid value: \"hello\": expected exactly 5 fields, found 1: [hello]");
        cron.Spec.Schedule = "TZ=UTC 0 * * * *";
        Assert.Contains(Admit(BatchResources.CronJobs, cron), c => c.Message.EndsWith("cannot use TZ or CRON_TZ in schedule, use timeZone field instead"));
        cron.Spec.Schedule = "@hourly";
        cron.Spec.TimeZone = "Mars/Olympus";
        Assert.Contains(Admit(BatchResources.CronJobs, cron), c => c.Field == "spec.timeZone" && c.Message.EndsWith("unknown time zone Mars/Olympus"));
        cron.Spec.TimeZone = "Etc/UTC";
        Assert.Empty(Admit(BatchResources.CronJobs, cron));
    }

    [Fact]
    public void DaemonSet_defaults_to_rolling_update_one_unavailable_and_refuses_both_bounds_zero()
    {
        var labels = new Dictionary<string, string> { ["app"] = "agent" };
        var ds = new V1DaemonSet
        {
            ApiVersion = "apps/v1", Kind = "DaemonSet",
            Metadata = new V1ObjectMeta { Name = "agent", NamespaceProperty = "default" },
            Spec = new V1DaemonSetSpec { Selector = new V1LabelSelector { MatchLabels = labels }, Template = Template("Always", labels) },
        };
        Assert.Empty(Admit(AppsResources.DaemonSets, ds));
        Assert.Equal(("RollingUpdate", "1", "0", 10), (ds.Spec.UpdateStrategy.Type, ds.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable.Value,
            ds.Spec.UpdateStrategy.RollingUpdate.MaxSurge.Value, ds.Spec.RevisionHistoryLimit));

        ds.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable = 0;
        Assert.Contains(Admit(AppsResources.DaemonSets, ds), c => c.Field == "spec.updateStrategy.rollingUpdate.maxUnavailable" &&
                                                                 c.Message == "Invalid value: \"0\": may not be 0 when `maxSurge` is 0");
    }

    [Fact]
    public void StatefulSet_spec_fields_other_than_the_mutable_ones_are_forbidden_to_change()
    {
        var labels = new Dictionary<string, string> { ["app"] = "web" };
        var old = new V1StatefulSet
        {
            ApiVersion = "apps/v1", Kind = "StatefulSet",
            Metadata = new V1ObjectMeta { Name = "web", NamespaceProperty = "default" },
            Spec = new V1StatefulSetSpec { ServiceName = "nginx", Selector = new V1LabelSelector { MatchLabels = labels }, Template = Template("Always", labels) },
        };
        Assert.Empty(Admit(AppsResources.StatefulSets, old));
        Assert.Equal(("OrderedReady", 0, "Retain"), (old.Spec.PodManagementPolicy, old.Spec.UpdateStrategy.RollingUpdate.Partition,
            old.Spec.PersistentVolumeClaimRetentionPolicy.WhenDeleted));

        var scaled = Orchestrator.Shared.Api.KubeObjects.Clone(old);
        scaled.Spec.Replicas = 5;
        Assert.Empty(Admit(AppsResources.StatefulSets, scaled, old));
        var renamed = Orchestrator.Shared.Api.KubeObjects.Clone(old);
        renamed.Spec.ServiceName = "other";
        Assert.Contains(Admit(AppsResources.StatefulSets, renamed, old), c => c.Field == "spec" && c.Message.StartsWith("Forbidden: updates to statefulset spec"));
    }

    [Fact]
    public void StatefulSet_volume_claim_templates_are_accepted_and_need_a_storage_request()
    {
        var labels = new Dictionary<string, string> { ["app"] = "web" };
        var set = new V1StatefulSet
        {
            ApiVersion = "apps/v1", Kind = "StatefulSet",
            Metadata = new V1ObjectMeta { Name = "web", NamespaceProperty = "default" },
            Spec = new V1StatefulSetSpec
            {
                ServiceName = "nginx", Selector = new V1LabelSelector { MatchLabels = labels }, Template = Template("Always", labels),
                VolumeClaimTemplates =
                [
                    new V1PersistentVolumeClaim
                    {
                        Metadata = new V1ObjectMeta { Name = "www" },
                        Spec = new V1PersistentVolumeClaimSpec
                        {
                            AccessModes = ["ReadWriteOnce"],
                            Resources = new V1VolumeResourceRequirements { Requests = new Dictionary<string, ResourceQuantity> { ["storage"] = new("1Gi") } },
                        },
                    },
                ],
            },
        };
        Assert.Empty(Admit(AppsResources.StatefulSets, set));
        set.Spec.VolumeClaimTemplates[0].Spec.Resources = null;
        var cause = Assert.Single(Admit(AppsResources.StatefulSets, set));
        Assert.Equal(("spec.volumeClaimTemplates[0].spec.resources[storage]", "FieldValueRequired"), (cause.Field, cause.Reason));
    }

    [Fact]
    public void Hpa_defaults_cpu_80_percent_and_checks_replica_bounds()
    {
        var hpa = new V2HorizontalPodAutoscaler
        {
            ApiVersion = "autoscaling/v2", Kind = "HorizontalPodAutoscaler",
            Metadata = new V1ObjectMeta { Name = "web", NamespaceProperty = "default" },
            Spec = new V2HorizontalPodAutoscalerSpec
            {
                ScaleTargetRef = new V2CrossVersionObjectReference { ApiVersion = "apps/v1", Kind = "Deployment", Name = "web" },
                MinReplicas = 3, MaxReplicas = 2,
            },
        };
        var causes = Admit(AutoscalingResources.HorizontalPodAutoscalers, hpa);
        Assert.Contains(causes, c => c.Field == "spec.maxReplicas" && c.Message == "Invalid value: 2: must be greater than or equal to `minReplicas`");
        Assert.Equal(80, hpa.Spec.Metrics.Single().Resource.Target.AverageUtilization);
    }

    [Fact]
    public void Hpa_v1_round_trips_through_v2_without_losing_other_metrics()
    {
        var v2 = new V2HorizontalPodAutoscaler
        {
            Metadata = new V1ObjectMeta { Name = "web", NamespaceProperty = "default" },
            Spec = new V2HorizontalPodAutoscalerSpec
            {
                ScaleTargetRef = new V2CrossVersionObjectReference { ApiVersion = "apps/v1", Kind = "Deployment", Name = "web" },
                MinReplicas = 1, MaxReplicas = 5,
                Metrics =
                [
                    HorizontalPodAutoscalerConversion.CpuMetric(50),
                    new V2MetricSpec { Type = "Resource", Resource = new V2ResourceMetricSource { Name = "memory", Target = new V2MetricTarget { Type = "Utilization", AverageUtilization = 70 } } },
                ],
            },
        };
        var v1 = HorizontalPodAutoscalerConversion.ToV1(v2);
        Assert.Equal(50, v1.Spec.TargetCPUUtilizationPercentage);
        Assert.Contains(HorizontalPodAutoscalerConversion.MetricsAnnotation, v1.Metadata.Annotations.Keys);

        var back = HorizontalPodAutoscalerConversion.ToV2(v1);
        Assert.Equal(["cpu", "memory"], back.Spec.Metrics.Select(m => m.Resource.Name));
        Assert.Null(back.Metadata.Annotations);
    }

    [Fact]
    public void Pdb_refuses_both_bounds_and_percentages_over_100()
    {
        var pdb = new V1PodDisruptionBudget
        {
            Metadata = new V1ObjectMeta { Name = "web", NamespaceProperty = "default" },
            Spec = new V1PodDisruptionBudgetSpec { MinAvailable = "120%", MaxUnavailable = 1 },
        };
        var causes = Admit(PolicyResources.PodDisruptionBudgets, pdb);
        Assert.Contains(causes, c => c.Message.EndsWith("minAvailable and maxUnavailable cannot be both set"));
        Assert.Contains(causes, c => c.Field == "spec.minAvailable" && c.Message == "Invalid value: \"120%\": must not be greater than 100%");
    }

    [Fact]
    public void Priority_class_names_with_the_system_prefix_and_values_above_a_billion_are_reserved()
    {
        var reserved = new V1PriorityClass { Metadata = new V1ObjectMeta { Name = "system-mine" }, Value = 10 };
        Assert.Contains(Admit(SchedulingResources.PriorityClasses, reserved), c => c.Field == "metadata.name" &&
            c.Message.StartsWith("Forbidden: priority class names with 'system-' prefix are reserved for system use only"));
        var huge = new V1PriorityClass { Metadata = new V1ObjectMeta { Name = "huge" }, Value = 1_000_000_001 };
        Assert.Contains(Admit(SchedulingResources.PriorityClasses, huge), c => c.Message == "Forbidden: maximum allowed value of a user defined priority is 1000000000");
        foreach (var builtIn in PriorityClassStrategy.SystemClasses) Assert.Empty(Admit(SchedulingResources.PriorityClasses, builtIn));
    }

    [Fact]
    public void Quota_resource_names_and_limit_range_orders_are_checked()
    {
        var quota = new V1ResourceQuota
        {
            Metadata = new V1ObjectMeta { Name = "q", NamespaceProperty = "default" },
            Spec = new V1ResourceQuotaSpec { Hard = new Dictionary<string, ResourceQuantity> { ["pods"] = new("1.5"), ["bogus"] = new("1"), ["count/jobs.batch"] = new("2") } },
        };
        var causes = Admit(QuotaResources.ResourceQuotas, quota);
        Assert.Contains(causes, c => c.Field == "spec.hard[pods]" && c.Message == "Invalid value: \"1500m\": must be an integer");
        Assert.Contains(causes, c => c.Field == "spec.hard[bogus]" && c.Message.EndsWith("must be a standard resource for quota"));
        Assert.DoesNotContain(causes, c => c.Field == "spec.hard[count/jobs.batch]");

        var limits = new V1LimitRange
        {
            Metadata = new V1ObjectMeta { Name = "l", NamespaceProperty = "default" },
            Spec = new V1LimitRangeSpec
            {
                Limits = [new V1LimitRangeItem { Type = "Container", Min = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("500m") }, Max = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("200m") } }],
            },
        };
        Assert.Contains(Admit(QuotaResources.LimitRanges, limits), c => c.Field == "spec.limits[0].min[cpu]" &&
                                                                        c.Message == "Invalid value: \"500m\": min value 500m is greater than max value 200m");
    }

    [Fact]
    public void An_autoscaler_is_accepted_but_metrics_no_api_here_serves_are_refused_naming_the_field()
    {
        V2HorizontalPodAutoscaler Hpa(V2MetricSpec? metric) => new()
        {
            Metadata = new V1ObjectMeta { Name = "web", NamespaceProperty = "default" },
            Spec = new V2HorizontalPodAutoscalerSpec
            {
                ScaleTargetRef = new V2CrossVersionObjectReference { ApiVersion = "apps/v1", Kind = "Deployment", Name = "web" }, MaxReplicas = 3,
                Metrics = metric is null ? null : [metric],
            },
        };
        Assert.Empty(Admit(AutoscalingResources.HorizontalPodAutoscalers, Hpa(null)));
        var pods = new V2MetricSpec
        {
            Type = "Pods",
            Pods = new V2PodsMetricSource
            {
                Metric = new V2MetricIdentifier { Name = "requests_per_second" },
                Target = new V2MetricTarget { Type = "AverageValue", AverageValue = new ResourceQuantity("10") },
            },
        };
        Assert.Contains(Admit(AutoscalingResources.HorizontalPodAutoscalers, Hpa(pods)),
            c => c.Field == "spec.metrics[0].pods" && c.Reason == "FieldValueForbidden");
    }
}
