using k8s;
using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Kinds.Apps;
using Orchestrator.Master.Registry.Kinds.Core;
using Orchestrator.Shared.Api;
using Xunit;

namespace Orchestrator.Master.Tests.Registry.Kinds;

/// <summary>Containers' resources, a pod's overhead and LimitRange items validated as kube-apiserver 1.32 validates them
/// (ValidateResourceRequirements, ValidateLimitRange), with its messages.</summary>
public sealed class ResourceRequirementsTests
{
    private static T Read<T>(string json) => (T)KubeObjects.Deserialize(json, typeof(T));

    private static V1Pod Pod(string resources, string extra = "") => Read<V1Pod>(
        "{\"metadata\":{\"name\":\"p\",\"namespace\":\"default\"},\"spec\":{" + extra +
        "\"containers\":[{\"name\":\"c\",\"image\":\"busybox\",\"resources\":" + resources + "}]}}");

    private static List<string> Errors(ResourceDescription resource, IKubernetesObject<V1ObjectMeta> obj) =>
        Strategies.Admit(resource, obj).Select(c => $"{c.Field}: {c.Message}").ToList();

    [Fact]
    public void Requests_within_limits_of_standard_and_extended_resources_are_accepted()
    {
        Assert.Empty(Errors(CoreResources.Pods, Pod("""
            {"limits":{"cpu":"1","memory":"1Gi","example.com/gpu":"2","hugepages-2Mi":"4Mi"},
             "requests":{"cpu":"500m","memory":"512Mi","example.com/gpu":"2","hugepages-2Mi":"4Mi","ephemeral-storage":"1Gi"}}
            """)));
    }

    [Fact]
    public void A_request_above_its_limit_a_negative_or_fractional_one_and_unknown_names_are_refused()
    {
        Assert.Equal([
            "spec.containers[0].resources.requests: Invalid value: \"2\": must be less than or equal to cpu limit of 1",
            "spec.containers[0].resources.requests[memory]: Invalid value: \"-1k\": must be greater than or equal to 0",
            "spec.containers[0].resources.requests[foo]: Invalid value: \"foo\": must be a standard resource type or fully qualified",
            "spec.containers[0].resources.requests[foo]: Invalid value: \"foo\": must be a standard resource for containers",
            "spec.containers[0].resources.requests[pods]: Invalid value: \"pods\": must be a standard resource for containers",
        ], Errors(CoreResources.Pods, Pod("""{"limits":{"cpu":"1"},"requests":{"cpu":"2","memory":"-1e3","foo":"1","pods":"1"}}""")));
    }

    [Fact]
    public void Resources_that_may_not_be_overcommitted_need_a_limit_equal_to_their_request()
    {
        Assert.Equal([
            "spec.containers[0].resources.requests[example.com/gpu]: Invalid value: \"500m\": must be an integer",
            "spec.containers[0].resources.limits: Required value: Limit must be set for non overcommitable resources",
        ], Errors(CoreResources.Pods, Pod("""{"requests":{"example.com/gpu":"0.5","cpu":"1"}}""")));
        Assert.Equal([
            "spec.containers[0].resources.requests: Invalid value: \"1\": must be equal to example.com/gpu limit of 2",
        ], Errors(CoreResources.Pods, Pod("""{"limits":{"example.com/gpu":"2"},"requests":{"example.com/gpu":"1"}}""")));
        Assert.Equal([
            "spec.containers[0].resources.limits[hugepages-2Mi]: Invalid value: \"3Mi\": 3Mi is not positive integer multiple of hugepages-2Mi",
            // a pod's limits are its requests where it states none (SetDefaults_Pod), so the request is refused too
            "spec.containers[0].resources.requests[hugepages-2Mi]: Invalid value: \"3Mi\": 3Mi is not positive integer multiple of hugepages-2Mi",
            "spec.containers[0].resources: Forbidden: HugePages require cpu or memory",
        ], Errors(CoreResources.Pods, Pod("""{"limits":{"hugepages-2Mi":"3Mi"}}""")));
    }

    [Fact]
    public void A_pods_overhead_and_a_templates_containers_are_checked_the_same_way()
    {
        Assert.Equal(["spec.overhead.limits[cpu]: Invalid value: \"-1\": must be greater than or equal to 0"],
            Errors(CoreResources.Pods, Pod("{}", "\"overhead\":{\"cpu\":\"-1\"},")));
        var deployment = Read<V1Deployment>("""
            {"metadata":{"name":"d","namespace":"default"},"spec":{"selector":{"matchLabels":{"a":"b"}},
             "template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"i","resources":{"limits":{"cpu":"1"},"requests":{"cpu":"2"}}}]}}}}
            """);
        Assert.Contains("spec.template.spec.containers[0].resources.requests: Invalid value: \"2\": must be less than or equal to cpu limit of 1",
            Errors(AppsResources.Deployments, deployment));
    }

    private static V1LimitRange LimitRange(string limits) =>
        Read<V1LimitRange>("{\"metadata\":{\"name\":\"l\",\"namespace\":\"default\"},\"spec\":{\"limits\":" + limits + "}}");

    [Fact]
    public void A_limit_range_item_needs_a_qualified_type_once_and_a_claims_item_a_storage_bound()
    {
        Assert.Equal([
            "spec.limits[0].type: Invalid value: \"\": name part must be non-empty",
            "spec.limits[0].type: Invalid value: \"\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
            "spec.limits[2].type: Duplicate value: \"Container\"",
            "spec.limits[3].type: Invalid value: \"Node\": must be a standard limit type or fully qualified",
            "spec.limits[4].limits: Required value: either minimum or maximum storage value is required, but neither was provided",
            "spec.limits[5].max[foo]: Invalid value: \"foo\": must be a standard resource type or fully qualified",
        ], Errors(QuotaResources.LimitRanges, LimitRange("""
            [{"max":{"cpu":"1"}},{"type":"Container"},{"type":"Container"},{"type":"Node"},{"type":"PersistentVolumeClaim"},
             {"type":"example.com/custom","max":{"foo":"1","example.com/bar":"1"}}]
            """)));
    }

    [Fact]
    public void A_limit_range_orders_its_bounds_and_keeps_extended_defaults_equal()
    {
        Assert.Equal([
            "spec.limits[0].default[cpu]: Invalid value: \"1\": default value 2 is greater than max value 1",
            "spec.limits[0].defaultRequest[example.com/gpu]: Invalid value: \"1\": default value 2 must equal to defaultRequest value 1 in example.com/gpu",
        ], Errors(QuotaResources.LimitRanges, LimitRange("""
            [{"type":"Container","max":{"cpu":"1"},"default":{"cpu":"2","example.com/gpu":"2"},"defaultRequest":{"cpu":"1","example.com/gpu":"1"}}]
            """)));
        Assert.Equal(["spec.limits[0].min[cpu]: Invalid value: \"-1k\": min value -1k is greater than max value -2k"],
            Errors(QuotaResources.LimitRanges, LimitRange("""[{"type":"Pod","min":{"cpu":"-1e3"},"max":{"cpu":"-2e3"}}]""")));
    }
}
