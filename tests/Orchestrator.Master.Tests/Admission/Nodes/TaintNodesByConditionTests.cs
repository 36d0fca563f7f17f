using k8s;
using k8s.Models;
using Orchestrator.Master.Admission.Nodes;
using Orchestrator.Master.Controllers;
using Orchestrator.Master.Nodes;
using Orchestrator.Master.Registry.Kinds.Core;
using Orchestrator.Master.Store;
using Orchestrator.Master.Tests.Controllers.Support;
using Orchestrator.Shared.Protocol;
using Xunit;
using Xunit.Abstractions;

namespace Orchestrator.Master.Tests.Admission.Nodes;

/// <summary>The TaintNodesByCondition admission plugin, as kube's plugin/pkg/admission/nodetaint.</summary>
public sealed class TaintNodesByConditionTests
{
    private sealed class NoObjects : IAdmissionContext
    {
        public IReadOnlyList<IKubernetesObject<V1ObjectMeta>> List(string storeName, string? @namespace = null) => [];
    }

    private static V1Node Node(params V1Taint[] taints) => new()
    {
        Metadata = new V1ObjectMeta { Name = "n1" },
        Spec = taints.Length == 0 ? null : new V1NodeSpec { Taints = taints.ToList() },
    };

    private static AdmissionMutation Admit(V1Node node, string operation = AdmissionAttributes.Create, string? subresource = null) =>
        new TaintNodesByCondition().Admit(new AdmissionAttributes(CoreResources.Nodes, operation, subresource, node, null), new NoObjects());

    private static IEnumerable<string> Describe(V1Node node) => node.Spec?.Taints?.Select(t => $"{t.Key}={t.Value}:{t.Effect}") ?? [];

    [Fact]
    public void A_created_node_gets_the_not_ready_NoSchedule_taint_after_its_own()
    {
        var node = Node(new V1Taint { Key = "dedicated", Value = "gpu", Effect = "NoSchedule" });
        Assert.True(Admit(node).Changed);
        Assert.Equal(["dedicated=gpu:NoSchedule", "node.kubernetes.io/not-ready=:NoSchedule"], Describe(node));
        Assert.Null(node.Spec.Taints[1].TimeAdded);
    }

    [Fact]
    public void A_node_without_a_spec_gets_one_with_the_taint()
    {
        var node = Node();
        Assert.True(Admit(node).Changed);
        Assert.Equal(["node.kubernetes.io/not-ready=:NoSchedule"], Describe(node));
    }

    [Fact]
    public void A_node_that_has_the_taint_whatever_its_value_is_left_alone_and_the_taint_is_not_added_twice()
    {
        var node = Node(new V1Taint { Key = "node.kubernetes.io/not-ready", Value = "x", Effect = "NoSchedule" });
        Assert.False(Admit(node).Changed);
        Assert.Equal(["node.kubernetes.io/not-ready=x:NoSchedule"], Describe(node));
        // admitted again (a retried create): still once
        var twice = Node();
        Admit(twice);
        Assert.False(Admit(twice).Changed);
        Assert.Single(twice.Spec.Taints);
    }

    [Fact]
    public void The_same_key_with_another_effect_does_not_count()
    {
        var node = Node(new V1Taint { Key = "node.kubernetes.io/not-ready", Effect = "NoExecute" });
        Assert.True(Admit(node).Changed);
        Assert.Equal(["node.kubernetes.io/not-ready=:NoExecute", "node.kubernetes.io/not-ready=:NoSchedule"], Describe(node));
    }

    [Fact]
    public void Updates_subresources_and_other_kinds_are_left_alone()
    {
        var updated = Node();
        Assert.False(Admit(updated, AdmissionAttributes.Update).Changed);
        Assert.Null(updated.Spec);
        var status = Node();
        Assert.False(Admit(status, subresource: "status").Changed);
        Assert.Null(status.Spec);
        var pod = new V1Pod { Metadata = new V1ObjectMeta { Name = "p" }, Spec = new V1PodSpec() };
        Assert.False(new TaintNodesByCondition().Admit(new AdmissionAttributes(CoreResources.Pods, AdmissionAttributes.Create, null, pod, null), new NoObjects()).Changed);
    }
}

/// <summary>The plugin in the store, with the node gateway and the node lifecycle controller: a registered node carries
/// the taint until its Ready status is seen, then loses it.</summary>
public sealed class TaintNodesByConditionRegistrationTests(ITestOutputHelper output)
    : ControllerTestKit(output, fakeStore: false, admissions: [new TaintNodesByCondition()])
{
    private static V1Node Reported(string name, string ready) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Status = new V1NodeStatus
        {
            Conditions = [new V1NodeCondition { Type = "Ready", Status = ready, Reason = "KubeletReady" }],
            Addresses = [new V1NodeAddress { Type = "InternalIP", Address = "127.0.0.1" }],
        },
    };

    private IEnumerable<string> Taints(string node) =>
        Find<V1Node>(node)?.Spec?.Taints?.Select(t => $"{t.Key}:{t.Effect}") ?? [];

    [Fact]
    public void A_node_registered_through_the_gateway_is_created_with_the_taint()
    {
        var gateway = Sys.ActorOf(NodeGateway.Props(Store));
        gateway.Tell(new RegisterNode(Reported("fresh", "False")), CreateTestProbe().Ref);
        AwaitAssert(() => Assert.Equal(["node.kubernetes.io/not-ready:NoSchedule"], Taints("fresh")));
    }

    [Fact]
    public void The_lifecycle_controller_takes_the_taint_off_a_registered_node_once_it_reports_Ready()
    {
        Sys.ActorOf(NodeLifecycleController.Props(Store, new NodeLifecycleSettings(TimeSpan.FromSeconds(40), TimeSpan.FromHours(1))));
        var gateway = Sys.ActorOf(NodeGateway.Props(Store));
        var agent = CreateTestProbe();
        gateway.Tell(new RegisterNode(Reported("starting", "False")), agent.Ref);
        AwaitAssert(() => Assert.Contains("node.kubernetes.io/not-ready:NoSchedule", Taints("starting")));
        // not Ready yet: the taint stays
        Writes.ReceiveWhile<object>(TimeSpan.FromMilliseconds(500), m => m);
        Assert.Contains("node.kubernetes.io/not-ready:NoSchedule", Taints("starting"));

        gateway.Tell(new NodeHeartbeat("starting", Reported("starting", "True").Status), agent.Ref);
        AwaitAssert(() => Assert.Empty(Taints("starting")));
    }
}
