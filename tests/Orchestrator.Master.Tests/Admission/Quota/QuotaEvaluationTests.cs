using k8s.Models;
using Orchestrator.Master.Admission.LimitRanges;
using Orchestrator.Master.Quota;
using Xunit;

namespace Orchestrator.Master.Tests.Admission.Quota;

/// <summary>What an object is charged for and which quotas count it (Kubernetes' quota evaluators), and the LimitRanger's
/// defaults and bounds, without a store.</summary>
public sealed class QuotaEvaluationTests
{
    private static Dictionary<string, ResourceQuantity> List(params (string Name, string Value)[] items) =>
        items.ToDictionary(i => i.Name, i => new ResourceQuantity(i.Value));

    private static V1Pod Pod(params V1Container[] containers) => new()
    {
        Metadata = new V1ObjectMeta { Name = "p", NamespaceProperty = "default" },
        Spec = new V1PodSpec { Containers = containers.ToList() },
    };

    private static V1Container Container(string name, Dictionary<string, ResourceQuantity>? requests = null,
        Dictionary<string, ResourceQuantity>? limits = null) =>
        new() { Name = name, Image = "i", Resources = new V1ResourceRequirements { Requests = requests, Limits = limits } };

    [Fact]
    public void Sums_keep_the_first_amounts_format()
    {
        Assert.Equal("1536Mi", ResourceLists.Plus(new ResourceQuantity("1Gi"), new ResourceQuantity("512Mi")).ToString());
        Assert.Equal("1500m", ResourceLists.Plus(new ResourceQuantity("500m"), new ResourceQuantity("1")).ToString());
        Assert.Equal("3", ResourceLists.Plus(new ResourceQuantity("1"), new ResourceQuantity("2")).ToString());
    }

    [Fact]
    public void A_pod_is_charged_its_containers_requests_and_limits_and_the_largest_init_container()
    {
        var pod = Pod(Container("a", List(("cpu", "100m"), ("memory", "64Mi")), List(("cpu", "200m"))),
            Container("b", List(("cpu", "300m"))));
        pod.Spec.InitContainers = [Container("init", List(("cpu", "1")))];

        var usage = QuotaEvaluation.Usage("", "pods", pod, DateTime.UtcNow);

        Assert.Equal("1", usage["pods"].ToString());
        Assert.Equal("1", usage["count/pods"].ToString());
        Assert.Equal("1", usage["requests.cpu"].ToString()); // the init container's 1 beats 100m + 300m
        Assert.Equal("1", usage["cpu"].ToString());
        Assert.Equal("64Mi", usage["requests.memory"].ToString());
        Assert.Equal("200m", usage["limits.cpu"].ToString());
    }

    [Fact]
    public void A_finished_pod_counts_only_as_an_object()
    {
        var pod = Pod(Container("a", List(("cpu", "100m"))));
        pod.Status = new V1PodStatus { Phase = "Succeeded" };

        var usage = QuotaEvaluation.Usage("", "pods", pod, DateTime.UtcNow);

        Assert.Equal(["count/pods"], usage.Keys);
    }

    [Fact]
    public void A_service_is_charged_its_node_ports_and_load_balancer()
    {
        var service = new V1Service
        {
            Metadata = new V1ObjectMeta { Name = "s" },
            Spec = new V1ServiceSpec { Type = "LoadBalancer", Ports = [new V1ServicePort { Port = 80 }, new V1ServicePort { Port = 443 }] },
        };

        var usage = QuotaEvaluation.Usage("", "services", service, DateTime.UtcNow);

        Assert.Equal("2", usage["services.nodeports"].ToString());
        Assert.Equal("1", usage["services.loadbalancers"].ToString());
        Assert.Equal("1", usage["services"].ToString());
    }

    [Fact]
    public void A_claim_is_charged_its_storage_by_class_too()
    {
        var claim = new V1PersistentVolumeClaim
        {
            Metadata = new V1ObjectMeta { Name = "c" },
            Spec = new V1PersistentVolumeClaimSpec { StorageClassName = "fast", Resources = new V1VolumeResourceRequirements { Requests = List(("storage", "5Gi")) } },
        };

        var usage = QuotaEvaluation.Usage("", "persistentvolumeclaims", claim, DateTime.UtcNow);

        Assert.Equal("5Gi", usage["requests.storage"].ToString());
        Assert.Equal("5Gi", usage["fast.storageclass.storage.k8s.io/requests.storage"].ToString());
        Assert.Equal("1", usage["fast.storageclass.storage.k8s.io/persistentvolumeclaims"].ToString());
    }

    [Fact]
    public void Other_kinds_are_counted_by_their_count_name()
    {
        var deployment = new V1Deployment { Metadata = new V1ObjectMeta { Name = "d" } };
        var quota = new V1ResourceQuota { Status = new V1ResourceQuotaStatus { Hard = List(("count/deployments.apps", "2")) } };

        Assert.Equal(["count/deployments.apps"], QuotaEvaluation.Usage("apps", "deployments", deployment, DateTime.UtcNow).Keys);
        Assert.True(QuotaEvaluation.Matches(quota, "apps", "deployments", deployment));
        Assert.False(QuotaEvaluation.Matches(quota, "", "pods", Pod(Container("a"))));
    }

    [Theory]
    [InlineData("Terminating", "Exists", null, false)]
    [InlineData("NotTerminating", "Exists", null, true)]
    [InlineData("BestEffort", "Exists", null, false)]
    [InlineData("NotBestEffort", "Exists", null, true)]
    [InlineData("PriorityClass", "In", "high", true)]
    [InlineData("PriorityClass", "NotIn", "high", false)]
    [InlineData("PriorityClass", "DoesNotExist", null, false)]
    public void Scopes_select_pods(string scope, string op, string? value, bool matches)
    {
        var pod = Pod(Container("a", List(("cpu", "100m"))));
        pod.Spec.PriorityClassName = "high";
        var quota = new V1ResourceQuota
        {
            Spec = new V1ResourceQuotaSpec
            {
                ScopeSelector = new V1ScopeSelector
                {
                    MatchExpressions = [new V1ScopedResourceSelectorRequirement { ScopeName = scope, OperatorProperty = op, Values = value is null ? null : [value] }],
                },
            },
            Status = new V1ResourceQuotaStatus { Hard = List(("pods", "1")) },
        };

        Assert.Equal(matches, QuotaEvaluation.Matches(quota, "", "pods", pod));
    }

    [Fact]
    public void Usage_is_calculated_over_the_pods_in_scope_with_zeros_for_what_nothing_uses()
    {
        var quota = new V1ResourceQuota { Spec = new V1ResourceQuotaSpec { Hard = List(("pods", "5"), ("requests.cpu", "2"), ("configmaps", "3")) } };
        var running = Pod(Container("a", List(("cpu", "250m"))));
        var other = Pod(Container("b", List(("cpu", "500m"))));
        var done = Pod(Container("c", List(("cpu", "1"))));
        done.Status = new V1PodStatus { Phase = "Failed" };

        var used = QuotaEvaluation.CalculateUsage(quota, [("", "pods", [running, other, done]), ("", "configmaps", [])], DateTime.UtcNow);

        Assert.Equal("2", used["pods"].ToString());
        Assert.Equal("750m", used["requests.cpu"].ToString());
        Assert.Equal("0", used["configmaps"].ToString());
    }

    [Fact]
    public void Missing_compute_names_each_resource_and_its_containers()
    {
        var pod = Pod(Container("a", List(("memory", "1Gi"))), Container("b"));

        Assert.Equal("must specify limits.cpu for: a,b; requests.memory for: b",
            QuotaEvaluation.MissingCompute(["limits.cpu", "requests.memory", "pods"], pod));
        Assert.Null(QuotaEvaluation.MissingCompute(["pods", "count/pods"], pod));
    }

    [Fact]
    public void Limit_range_defaults_fill_only_what_a_container_lacks()
    {
        var limitRange = new V1LimitRange
        {
            Spec = new V1LimitRangeSpec
            {
                Limits = [new V1LimitRangeItem { Type = "Container", DefaultProperty = List(("cpu", "1"), ("memory", "1Gi")), DefaultRequest = List(("cpu", "500m"), ("memory", "512Mi")) }],
            },
        };
        var pod = Pod(Container("app", List(("cpu", "200m"))), Container("full", List(("cpu", "1"), ("memory", "1Gi")), List(("cpu", "1"), ("memory", "1Gi"))));

        Assert.True(LimitRanger.ApplyDefaults(limitRange, pod));

        Assert.Equal("200m", pod.Spec.Containers[0].Resources.Requests["cpu"].ToString());
        Assert.Equal("512Mi", pod.Spec.Containers[0].Resources.Requests["memory"].ToString());
        Assert.Equal("LimitRanger plugin set: memory request for container app; cpu, memory limit for container app",
            pod.Metadata.Annotations[LimitRanger.Annotation]);
    }

    [Fact]
    public void Limit_range_bounds_report_each_violation_with_kubes_messages()
    {
        var limitRange = new V1LimitRange
        {
            Spec = new V1LimitRangeSpec
            {
                Limits =
                [
                    new V1LimitRangeItem { Type = "Container", MaxLimitRequestRatio = List(("cpu", "2")) },
                    new V1LimitRangeItem { Type = "Pod", Max = List(("memory", "1Gi")) },
                ],
            },
        };
        var pod = Pod(Container("a", List(("cpu", "100m"), ("memory", "1Gi")), List(("cpu", "500m"), ("memory", "1Gi"))),
            Container("b", List(("cpu", "100m"), ("memory", "512Mi")), List(("cpu", "100m"), ("memory", "512Mi"))));

        Assert.Equal(
        [
            "cpu max limit to request ratio per Container is 2, but provided ratio is 5.000000",
            "maximum memory usage per Pod is 1Gi, but limit is 1536Mi",
        ], LimitRanger.PodViolations(limitRange, pod));
    }
}
