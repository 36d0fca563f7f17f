using k8s.Models;
using Orchestrator.Master.Scheduling;
using Orchestrator.Master.Scheduling.Framework;
using Xunit;
using static Orchestrator.Master.Tests.Controllers.Support.Objects;

namespace Orchestrator.Master.Tests.Scheduling;

public sealed class ResourceSchedulingTests
{
    private static V1Node Sized(string name, string cpu, string memory)
    {
        var node = Node(name);
        node.Status.Allocatable = new Dictionary<string, ResourceQuantity>
        {
            ["cpu"] = new(cpu), ["memory"] = new(memory), ["pods"] = new("110"),
        };
        return node;
    }

    private static V1Pod Requesting(string name, string cpu, string memory, string? nodeName = null)
    {
        var pod = Pod(name, nodeName: nodeName);
        pod.Spec.Containers[0].Resources = new V1ResourceRequirements
        {
            Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new(cpu), ["memory"] = new(memory) },
        };
        return pod;
    }

    [Fact]
    public void A_pod_whose_cpu_request_does_not_fit_anywhere_gets_Kubernetes_message()
    {
        var nodes = new[]
        {
            new NodeInfo(Sized("a", "1", "1Gi"), [Requesting("x", "800m", "100Mi", "a")]),
            new NodeInfo(Sized("b", "500m", "1Gi"), []),
        };

        var result = SchedulingAlgorithm.Default.Schedule(Requesting("new", "600m", "100Mi"), nodes);

        Assert.Equal("0/2 nodes are available: 2 Insufficient cpu.", result.FailureMessage);
    }

    [Fact]
    public void Memory_requests_count_against_allocatable()
    {
        var nodes = new[]
        {
            new NodeInfo(Sized("a", "4", "1Gi"), [Requesting("x", "100m", "900Mi", "a")]),
            new NodeInfo(Sized("b", "4", "1Gi"), []),
        };

        Assert.Equal("b", SchedulingAlgorithm.Default.Schedule(Requesting("new", "100m", "200Mi"), nodes).NodeName);
    }

    [Fact]
    public void The_least_allocated_node_wins_even_with_more_pods()
    {
        // "a" runs two small pods, "b" one big one: by requests "a" has more room left.
        var nodes = new[]
        {
            new NodeInfo(Sized("a", "4", "8Gi"), [Requesting("x", "100m", "100Mi", "a"), Requesting("y", "100m", "100Mi", "a")]),
            new NodeInfo(Sized("b", "4", "8Gi"), [Requesting("z", "3", "6Gi", "b")]),
        };

        Assert.Equal("a", SchedulingAlgorithm.Default.Schedule(Requesting("new", "100m", "100Mi"), nodes).NodeName);
    }

    [Fact]
    public void A_full_node_refuses_more_pods_than_its_pod_limit()
    {
        var node = Sized("a", "4", "8Gi");
        node.Status.Allocatable["pods"] = new ResourceQuantity("1");

        var result = SchedulingAlgorithm.Default.Schedule(Pod("new"), [new NodeInfo(node, [Pod("x", nodeName: "a")])]);

        Assert.Equal("0/1 nodes are available: 1 Too many pods.", result.FailureMessage);
    }

    [Fact]
    public void A_tolerated_taint_lets_the_pod_on()
    {
        var node = Node("a");
        node.Spec = new V1NodeSpec { Taints = [new V1Taint { Key = "dedicated", Value = "db", Effect = "NoSchedule" }] };
        var pod = Pod("new");
        Assert.False(SchedulingAlgorithm.Default.Schedule(pod, [new NodeInfo(node, [])]).Scheduled);

        pod.Spec.Tolerations = [new V1Toleration { Key = "dedicated", OperatorProperty = "Equal", Value = "db", Effect = "NoSchedule" }];

        Assert.Equal("a", SchedulingAlgorithm.Default.Schedule(pod, [new NodeInfo(node, [])]).NodeName);
    }
}
