using k8s.Models;
using Orchestrator.Master.Scheduling;
using Orchestrator.Master.Scheduling.Filters;
using Orchestrator.Master.Scheduling.Framework;
using Orchestrator.Master.Scheduling.Scoring;
using Xunit;
using static Orchestrator.Master.Tests.Controllers.Support.Objects;

namespace Orchestrator.Master.Tests.Scheduling;

/// <summary>Kubernetes' InterPodAffinity plugin: required terms filter, preferred terms score, in topology domains.</summary>
public sealed class InterPodAffinityTests
{
    private const string Zone = "topology.kubernetes.io/zone";
    private const string Host = "kubernetes.io/hostname";

    private static V1Node ZoneNode(string name, string zone) =>
        Node(name, labels: new Dictionary<string, string> { [Host] = name, [Zone] = zone });

    private static V1PodAffinityTerm Term(string app, string key, IList<string>? namespaces = null, V1LabelSelector? namespaceSelector = null) => new()
    {
        LabelSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = app } },
        TopologyKey = key, Namespaces = namespaces, NamespaceSelector = namespaceSelector,
    };

    private static V1Pod Labelled(string name, string app, string? node = null, string ns = "default")
    {
        var pod = Pod(name, labels: new Dictionary<string, string> { ["app"] = app }, nodeName: node);
        pod.Metadata.NamespaceProperty = ns;
        return pod;
    }

    private static IReadOnlyList<NodeInfo> Cluster(params (V1Node Node, V1Pod[] Pods)[] nodes) => nodes.Select(n => new NodeInfo(n.Node, n.Pods)).ToList();

    private static IReadOnlyList<string?> Filter(V1Pod pod, IReadOnlyList<NodeInfo> nodes, INamespaceLabels? namespaces = null)
    {
        var prepared = new InterPodAffinityFilter(namespaces ?? NoNamespaceLabels.Instance).Prepare(pod, nodes);
        return nodes.Select(n => prepared.Filter(pod, n)).ToArray();
    }

    [Fact]
    public void Required_anti_affinity_keeps_replicas_out_of_a_zone_that_has_one()
    {
        var nodes = Cluster((ZoneNode("a", "z1"), [Labelled("web-1", "web", "a")]), (ZoneNode("b", "z1"), []), (ZoneNode("c", "z2"), []));
        var pod = Labelled("web-2", "web");
        pod.Spec.Affinity = new V1Affinity { PodAntiAffinity = new V1PodAntiAffinity { RequiredDuringSchedulingIgnoredDuringExecution = [Term("web", Zone)] } };

        Assert.Equal([InterPodAffinityFilter.AntiAffinityReason, InterPodAffinityFilter.AntiAffinityReason, null], Filter(pod, nodes));
    }

    [Fact]
    public void Through_the_cache_only_nodes_with_affinity_pods_are_looked_at_and_an_existing_anti_affinity_still_holds()
    {
        var cache = new SchedulerCache();
        foreach (var name in new[] { "a", "b", "c" }) cache.SetNode(ZoneNode(name, "z1"));
        foreach (var node in new[] { "b", "c" })
        {
            var plain = Labelled("plain-" + node, "noisy", node);
            plain.Metadata.Uid = "plain-uid-" + node;
            cache.SetPod(plain, node);
        }
        Assert.Empty(cache.NodeInfos().WithPodAffinity);

        var guard = Labelled("guard", "guard", "a");
        guard.Metadata.Uid = "guard-uid";
        guard.Spec.Affinity = new V1Affinity { PodAntiAffinity = new V1PodAntiAffinity { RequiredDuringSchedulingIgnoredDuringExecution = [Term("noisy", Host)] } };
        cache.SetPod(guard, "a");
        var nodes = cache.NodeInfos();
        Assert.Equal(["a"], nodes.WithPodAffinity.Select(n => n.Name));

        // every node holds one pod, so "a" would win the tie by name: the guard's term must still keep the noisy pod off it
        Assert.Equal([InterPodAffinityFilter.ExistingAntiAffinityReason, null, null], Filter(Labelled("n", "noisy"), nodes));
        Assert.NotEqual("a", SchedulingAlgorithm.Default.Schedule(Labelled("n", "noisy"), nodes).NodeName);
        Assert.Equal([null, null, null], Filter(Labelled("q", "quiet"), nodes));

        cache.RemovePod("guard-uid");
        Assert.Empty(cache.NodeInfos().WithPodAffinity);
    }

    [Fact]
    public void An_existing_pods_anti_affinity_keeps_matching_pods_away_from_its_domain()
    {
        var guard = Labelled("guard", "guard", "a");
        guard.Spec.Affinity = new V1Affinity { PodAntiAffinity = new V1PodAntiAffinity { RequiredDuringSchedulingIgnoredDuringExecution = [Term("noisy", Host)] } };
        var nodes = Cluster((ZoneNode("a", "z1"), [guard]), (ZoneNode("b", "z1"), []));

        Assert.Equal([InterPodAffinityFilter.ExistingAntiAffinityReason, null], Filter(Labelled("n", "noisy"), nodes));
        Assert.Equal([null, null], Filter(Labelled("q", "quiet"), nodes));
    }

    [Fact]
    public void Required_affinity_needs_a_matching_pod_in_the_domain_except_for_the_first_of_a_self_affine_group()
    {
        var nodes = Cluster((ZoneNode("a", "z1"), [Labelled("cache", "cache", "a")]), (ZoneNode("b", "z1"), []), (ZoneNode("c", "z2"), []));
        var pod = Labelled("web", "web");
        pod.Spec.Affinity = new V1Affinity { PodAffinity = new V1PodAffinity { RequiredDuringSchedulingIgnoredDuringExecution = [Term("cache", Zone)] } };
        Assert.Equal([null, null, InterPodAffinityFilter.AffinityReason], Filter(pod, nodes));

        var first = Labelled("db-0", "db");
        first.Spec.Affinity = new V1Affinity { PodAffinity = new V1PodAffinity { RequiredDuringSchedulingIgnoredDuringExecution = [Term("db", Zone)] } };
        Assert.Equal([null, null, null], Filter(first, nodes));

        var lonely = Labelled("x", "x");
        lonely.Spec.Affinity = first.Spec.Affinity;
        Assert.Equal([InterPodAffinityFilter.AffinityReason, InterPodAffinityFilter.AffinityReason, InterPodAffinityFilter.AffinityReason], Filter(lonely, nodes));
    }

    [Fact]
    public void Terms_look_in_the_pods_namespace_unless_namespaces_or_a_namespace_selector_say_otherwise()
    {
        var nodes = Cluster((ZoneNode("a", "z1"), [Labelled("cache", "cache", "a", ns: "shared")]), (ZoneNode("b", "z2"), []));
        var pod = Labelled("web", "web");
        pod.Spec.Affinity = new V1Affinity { PodAffinity = new V1PodAffinity { RequiredDuringSchedulingIgnoredDuringExecution = [Term("cache", Zone)] } };
        Assert.Equal([InterPodAffinityFilter.AffinityReason, InterPodAffinityFilter.AffinityReason], Filter(pod, nodes));

        pod.Spec.Affinity.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution = [Term("cache", Zone, namespaces: ["shared"])];
        Assert.Equal([null, InterPodAffinityFilter.AffinityReason], Filter(pod, nodes));

        pod.Spec.Affinity.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution =
            [Term("cache", Zone, namespaceSelector: new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["team"] = "infra" } })];
        Assert.Equal([null, InterPodAffinityFilter.AffinityReason], Filter(pod, nodes, new Labels(new() { ["shared"] = new() { ["team"] = "infra" } })));
        Assert.Equal([InterPodAffinityFilter.AffinityReason, InterPodAffinityFilter.AffinityReason], Filter(pod, nodes, new Labels(new())));
    }

    [Fact]
    public void The_failure_message_counts_nodes_per_reason_as_kubernetes_does()
    {
        var nodes = Cluster((ZoneNode("a", "z1"), [Labelled("web-1", "web", "a")]), (ZoneNode("b", "z2"), [Labelled("web-2", "web", "b")]),
            (Node("c", unschedulable: true, labels: new Dictionary<string, string> { [Zone] = "z3" }), []));
        var pod = Labelled("web-3", "web");
        pod.Spec.Affinity = new V1Affinity { PodAntiAffinity = new V1PodAntiAffinity { RequiredDuringSchedulingIgnoredDuringExecution = [Term("web", Zone)] } };

        Assert.Equal("0/3 nodes are available: 1 node(s) were unschedulable, 2 node(s) didn't match pod anti-affinity rules.",
            SchedulingAlgorithm.Default.Schedule(pod, nodes).FailureMessage);
    }

    [Fact]
    public void Preferred_affinity_scores_nodes_in_domains_with_matching_pods_higher()
    {
        var nodes = Cluster((ZoneNode("a", "z1"), []), (ZoneNode("b", "z2"), [Labelled("cache", "cache", "b")]));
        var pod = Labelled("web", "web");
        pod.Spec.Affinity = new V1Affinity
        {
            PodAffinity = new V1PodAffinity { PreferredDuringSchedulingIgnoredDuringExecution = [new V1WeightedPodAffinityTerm { PodAffinityTerm = Term("cache", Zone), Weight = 50 }] },
        };
        Assert.Equal([0, 100], new InterPodAffinityScorer(NoNamespaceLabels.Instance).Prepare(pod, nodes).Score(pod, nodes));
        Assert.Equal("b", SchedulingAlgorithm.Default.Schedule(pod, nodes).NodeName);

        pod.Spec.Affinity = new V1Affinity
        {
            PodAntiAffinity = new V1PodAntiAffinity { PreferredDuringSchedulingIgnoredDuringExecution = [new V1WeightedPodAffinityTerm { PodAffinityTerm = Term("cache", Zone), Weight = 50 }] },
        };
        Assert.Equal([100, 0], new InterPodAffinityScorer(NoNamespaceLabels.Instance).Prepare(pod, nodes).Score(pod, nodes));
    }

    [Fact]
    public void Match_label_keys_narrow_a_term_to_pods_with_the_same_label_value()
    {
        var nodes = Cluster((ZoneNode("a", "z1"), [Pod("old", labels: new Dictionary<string, string> { ["app"] = "web", ["hash"] = "v1" }, nodeName: "a")]),
            (ZoneNode("b", "z2"), []));
        var pod = Pod("new", labels: new Dictionary<string, string> { ["app"] = "web", ["hash"] = "v2" });
        var term = Term("web", Zone);
        term.MatchLabelKeys = ["hash"];
        pod.Spec.Affinity = new V1Affinity { PodAntiAffinity = new V1PodAntiAffinity { RequiredDuringSchedulingIgnoredDuringExecution = [term] } };

        Assert.Equal([null, null], Filter(pod, nodes));
    }

    private sealed class Labels(Dictionary<string, Dictionary<string, string>> byNamespace) : INamespaceLabels
    {
        public IDictionary<string, string>? LabelsOf(string @namespace) => byNamespace.GetValueOrDefault(@namespace);
    }
}
