using k8s.Models;
using Orchestrator.Master.Scheduling;
using Orchestrator.Master.Scheduling.Filters;
using Orchestrator.Master.Scheduling.Framework;
using Orchestrator.Master.Scheduling.Scoring;
using Xunit;
using static Orchestrator.Master.Tests.Controllers.Support.Objects;

namespace Orchestrator.Master.Tests.Scheduling;

/// <summary>Kubernetes' PodTopologySpread plugin: DoNotSchedule constraints filter by skew, ScheduleAnyway ones score.</summary>
public sealed class PodTopologySpreadTests
{
    private const string Zone = "topology.kubernetes.io/zone";

    private static V1Node ZoneNode(string name, string? zone, Dictionary<string, string>? more = null)
    {
        var labels = new Dictionary<string, string>(more ?? new()) { ["kubernetes.io/hostname"] = name };
        if (zone is not null) labels[Zone] = zone;
        return Node(name, labels: labels);
    }

    private static V1Pod Web(string name, string? node = null) => Pod(name, labels: new Dictionary<string, string> { ["app"] = "web" }, nodeName: node);

    private static V1Pod Spread(string whenUnsatisfiable = "DoNotSchedule", int maxSkew = 1, Action<V1TopologySpreadConstraint>? configure = null)
    {
        var pod = Web("new");
        var constraint = new V1TopologySpreadConstraint
        {
            MaxSkew = maxSkew, TopologyKey = Zone, WhenUnsatisfiable = whenUnsatisfiable,
            LabelSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "web" } },
        };
        configure?.Invoke(constraint);
        pod.Spec.TopologySpreadConstraints = [constraint];
        return pod;
    }

    private static IReadOnlyList<NodeInfo> Cluster(params (V1Node Node, V1Pod[] Pods)[] nodes) => nodes.Select(n => new NodeInfo(n.Node, n.Pods)).ToList();

    private static IReadOnlyList<string?> Filter(V1Pod pod, IReadOnlyList<NodeInfo> nodes)
    {
        var prepared = new PodTopologySpreadFilter().Prepare(pod, nodes);
        return nodes.Select(n => prepared.Filter(pod, n)).ToArray();
    }

    [Fact]
    public void Max_skew_one_sends_the_pod_to_the_emptier_zone()
    {
        var nodes = Cluster((ZoneNode("a", "z1"), [Web("w1", "a")]), (ZoneNode("b", "z2"), []));
        Assert.Equal([PodTopologySpreadFilter.Reason, null], Filter(Spread(), nodes));
        Assert.Equal([null, null], Filter(Spread(maxSkew: 2), nodes));
    }

    [Fact]
    public void A_node_without_the_topology_key_fails_with_the_missing_label_reason()
    {
        var nodes = Cluster((ZoneNode("a", null), []), (ZoneNode("b", "z2"), []));
        Assert.Equal([PodTopologySpreadFilter.MissingLabelReason, null], Filter(Spread(), nodes));
        Assert.Equal("0/1 nodes are available: 1 node(s) didn't match pod topology spread constraints (missing required label).",
            SchedulingAlgorithm.Default.Schedule(Spread(), [nodes[0]]).FailureMessage);
    }

    [Fact]
    public void Min_domains_counts_missing_domains_as_empty()
    {
        var nodes = Cluster((ZoneNode("a", "z1"), [Web("w1", "a")]), (ZoneNode("b", "z2"), [Web("w2", "b")]));
        Assert.Equal([null, null], Filter(Spread(), nodes));
        Assert.Equal([PodTopologySpreadFilter.Reason, PodTopologySpreadFilter.Reason], Filter(Spread(configure: c => c.MinDomains = 3), nodes));
    }

    [Fact]
    public void Node_affinity_policy_honour_leaves_nodes_the_pod_cannot_use_out_of_the_count()
    {
        // z2 holds no web pod but only on a node the pod's selector excludes: honoured, z2 is not a domain
        var nodes = Cluster((ZoneNode("a", "z1", new() { ["disk"] = "ssd" }), [Web("w1", "a")]), (ZoneNode("b", "z2"), []));
        var pod = Spread();
        pod.Spec.NodeSelector = new Dictionary<string, string> { ["disk"] = "ssd" };
        Assert.Null(Filter(pod, nodes)[0]);

        var ignoring = Spread(configure: c => c.NodeAffinityPolicy = "Ignore");
        ignoring.Spec.NodeSelector = pod.Spec.NodeSelector;
        Assert.Equal(PodTopologySpreadFilter.Reason, Filter(ignoring, nodes)[0]);
    }

    [Fact]
    public void Node_taints_policy_honour_leaves_untolerated_nodes_out_of_the_count()
    {
        var tainted = ZoneNode("b", "z2");
        tainted.Spec.Taints = [new V1Taint { Key = "dedicated", Value = "gpu", Effect = "NoSchedule" }];
        var nodes = Cluster((ZoneNode("a", "z1"), [Web("w1", "a")]), (tainted, []));
        Assert.Equal(PodTopologySpreadFilter.Reason, Filter(Spread(), nodes)[0]);
        Assert.Null(Filter(Spread(configure: c => c.NodeTaintsPolicy = "Honor"), nodes)[0]);
    }

    [Fact]
    public void Pods_of_other_namespaces_terminating_pods_and_non_matching_pods_do_not_count()
    {
        var other = Web("o", "a");
        other.Metadata.NamespaceProperty = "other";
        var leaving = Web("l", "a");
        leaving.Metadata.DeletionTimestamp = DateTime.UtcNow;
        var nodes = Cluster((ZoneNode("a", "z1"), [other, leaving, Pod("db", labels: new Dictionary<string, string> { ["app"] = "db" }, nodeName: "a")]),
            (ZoneNode("b", "z2"), []));
        Assert.Equal([null, null], Filter(Spread(), nodes));
    }

    [Fact]
    public void Match_label_keys_count_only_pods_with_the_same_value()
    {
        var v1 = Pod("old", labels: new Dictionary<string, string> { ["app"] = "web", ["hash"] = "v1" }, nodeName: "a");
        var nodes = Cluster((ZoneNode("a", "z1"), [v1]), (ZoneNode("b", "z2"), []));
        var pod = Spread(configure: c => c.MatchLabelKeys = ["hash"]);
        pod.Metadata.Labels["hash"] = "v2";
        Assert.Equal([null, null], Filter(pod, nodes));
    }

    [Fact]
    public void Schedule_anyway_prefers_the_zone_with_fewer_matching_pods()
    {
        var nodes = Cluster((ZoneNode("a", "z1"), [Web("w1", "a"), Web("w2", "a")]), (ZoneNode("b", "z2"), []), (ZoneNode("c", null), []));
        var pod = Spread("ScheduleAnyway");
        var scores = new PodTopologySpreadScorer().Prepare(pod, nodes).Score(pod, nodes);
        Assert.True(scores[1] > scores[0]);
        Assert.Equal(0, scores[2]); // no zone label: ignored
        Assert.Equal([null, null, null], Filter(pod, nodes));
        Assert.Equal("b", SchedulingAlgorithm.Default.Schedule(pod, nodes).NodeName);
    }
}
