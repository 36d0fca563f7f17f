using System.Net;
using k8s.Models;
using Orchestrator.Node.Policy;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Node.Tests.Policy;

public sealed class NetworkPolicySetTests
{
    private static readonly IPAddress Web = IPAddress.Parse("172.28.0.10");
    private static readonly IPAddress Client = IPAddress.Parse("172.28.0.11");
    private static readonly IPAddress Other = IPAddress.Parse("172.28.0.12");
    private static readonly IPAddress Monitor = IPAddress.Parse("172.28.0.20");
    private static readonly IPAddress Outside = IPAddress.Parse("10.1.2.3");

    internal static PolicyPod Pod(string ns, string name, string ip, Dictionary<string, string> labels, params PolicyPodPort[] ports) =>
        new(ns, name, labels, ip, ports);

    internal static readonly PolicyPod[] Pods =
    [
        Pod("default", "web", "172.28.0.10", new() { ["app"] = "web" }, new PolicyPodPort("http", 8080, "TCP"), new PolicyPodPort("dns", 5353, "UDP")),
        Pod("default", "client", "172.28.0.11", new() { ["role"] = "client" }),
        Pod("default", "other", "172.28.0.12", new() { ["role"] = "other" }),
        Pod("monitoring", "prom", "172.28.0.20", new() { ["role"] = "client" }, new PolicyPodPort("metrics", 9090, "TCP")),
    ];

    internal static readonly PolicyNamespace[] Namespaces =
    [
        new("default", new Dictionary<string, string> { ["kubernetes.io/metadata.name"] = "default" }),
        new("monitoring", new Dictionary<string, string> { ["team"] = "ops" }),
    ];

    internal static V1NetworkPolicy Policy(string name, V1LabelSelector podSelector, IList<string>? types = null,
        IList<V1NetworkPolicyIngressRule>? ingress = null, IList<V1NetworkPolicyEgressRule>? egress = null, string ns = "default") => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns },
        Spec = new V1NetworkPolicySpec { PodSelector = podSelector, PolicyTypes = types, Ingress = ingress, Egress = egress },
    };

    internal static V1LabelSelector Labels(params (string Key, string Value)[] labels) =>
        new() { MatchLabels = labels.ToDictionary(l => l.Key, l => l.Value) };

    internal static NetworkPolicySet Set(params V1NetworkPolicy[] policies) => new(new NetworkPoliciesChanged(1, policies, Namespaces, Pods));

    private static V1NetworkPolicyPort Port(string port, string protocol = "TCP", int? endPort = null) =>
        new() { Port = port, Protocol = protocol, EndPort = endPort };

    [Fact]
    public void Without_policies_everything_is_allowed()
    {
        var set = Set();
        Assert.True(set.Allows(Client, Web, 80, "TCP"));
        Assert.Null(set.AllowancesOf(Pods[0], Direction.Ingress));
    }

    [Fact]
    public void Default_deny_ingress_isolates_the_selected_pods_only()
    {
        var set = Set(Policy("deny", new V1LabelSelector(), ["Ingress"]));
        Assert.False(set.Allows(Client, Web, 80, "TCP"));
        Assert.False(set.Allows(Outside, Web, 80, "TCP"));
        Assert.True(set.Allows(Web, Outside, 443, "TCP")); // egress is not isolated
        Assert.True(set.Allows(Client, Monitor, 9090, "TCP")); // another namespace
        Assert.Empty(set.AllowancesOf(Pods[0], Direction.Ingress)!);
    }

    [Fact]
    public void A_pod_selector_peer_allows_matching_pods_of_the_policy_namespace()
    {
        var set = Set(
            Policy("deny", new V1LabelSelector(), ["Ingress"]),
            Policy("allow", Labels(("app", "web")), ["Ingress"],
                ingress: [new V1NetworkPolicyIngressRule { FromProperty = [new V1NetworkPolicyPeer { PodSelector = Labels(("role", "client")) }] }]));
        Assert.True(set.Allows(Client, Web, 80, "TCP"));
        Assert.False(set.Allows(Other, Web, 80, "TCP"));
        Assert.False(set.Allows(Monitor, Web, 80, "TCP")); // role=client, but in another namespace
    }

    [Fact]
    public void Namespace_selector_alone_and_with_a_pod_selector()
    {
        var fromOps = Set(Policy("ops", Labels(("app", "web")), ["Ingress"],
            ingress: [new V1NetworkPolicyIngressRule { FromProperty = [new V1NetworkPolicyPeer { NamespaceSelector = Labels(("team", "ops")) }] }]));
        Assert.True(fromOps.Allows(Monitor, Web, 80, "TCP"));
        Assert.False(fromOps.Allows(Client, Web, 80, "TCP"));

        var both = Set(Policy("both", Labels(("app", "web")), ["Ingress"],
            ingress: [new V1NetworkPolicyIngressRule { FromProperty = [new V1NetworkPolicyPeer
            {
                NamespaceSelector = new V1LabelSelector(), PodSelector = Labels(("role", "client")),
            }] }]));
        Assert.True(both.Allows(Monitor, Web, 80, "TCP"));
        Assert.True(both.Allows(Client, Web, 80, "TCP"));
        Assert.False(both.Allows(Other, Web, 80, "TCP"));
    }

    [Fact]
    public void The_namespace_name_label_is_there_even_when_the_namespace_has_no_labels()
    {
        var set = new NetworkPolicySet(new NetworkPoliciesChanged(1, [Policy("by-name", Labels(("app", "web")), ["Ingress"],
            ingress: [new V1NetworkPolicyIngressRule { FromProperty = [new V1NetworkPolicyPeer { NamespaceSelector = Labels(("kubernetes.io/metadata.name", "monitoring")) }] }])],
            [], Pods));
        Assert.True(set.Allows(Monitor, Web, 80, "TCP"));
        Assert.False(set.Allows(Client, Web, 80, "TCP"));
    }

    [Fact]
    public void Ip_block_with_except()
    {
        var set = Set(Policy("cidr", Labels(("app", "web")), ["Ingress"],
            ingress: [new V1NetworkPolicyIngressRule { FromProperty = [new V1NetworkPolicyPeer { IpBlock = new V1IPBlock { Cidr = "10.0.0.0/8", Except = ["10.1.0.0/16"] } }] }]));
        Assert.True(set.Allows(IPAddress.Parse("10.2.0.1"), Web, 80, "TCP"));
        Assert.False(set.Allows(Outside, Web, 80, "TCP"));
        Assert.False(set.Allows(Client, Web, 80, "TCP"));
    }

    [Fact]
    public void Except_is_subtracted_into_the_fewest_cidrs()
    {
        Assert.Equal(["10.0.0.0/9", "10.192.0.0/10"], Allowance.Subtract("10.0.0.0/8", ["10.128.0.0/10"])!.Order().ToList());
        Assert.Equal(["10.0.0.0/9", "10.128.0.0/11", "10.192.0.0/10"], Allowance.Subtract("10.0.0.0/8", ["10.160.0.0/11"])!.Order().ToList());
        Assert.Empty(Allowance.Subtract("10.1.0.0/16", ["10.0.0.0/8"])!);
    }

    [Fact]
    public void Ports_numbers_ranges_protocols_and_named_ports_of_the_destination()
    {
        var set = Set(Policy("ports", Labels(("app", "web")), ["Ingress"],
            ingress: [new V1NetworkPolicyIngressRule { Ports = [Port("80"), Port("9000", endPort: 9010), Port("http"), Port("dns", "UDP"), new V1NetworkPolicyPort { Protocol = "SCTP" }] }]));
        Assert.True(set.Allows(Client, Web, 80, "TCP"));
        Assert.False(set.Allows(Client, Web, 80, "UDP"));
        Assert.True(set.Allows(Client, Web, 9005, "TCP"));
        Assert.False(set.Allows(Client, Web, 9011, "TCP"));
        Assert.True(set.Allows(Client, Web, 8080, "TCP"));   // "http" is the web pod's 8080/TCP
        Assert.True(set.Allows(Client, Web, 5353, "UDP"));   // "dns" is its 5353/UDP
        Assert.True(set.Allows(Client, Web, 1234, "SCTP"));  // a protocol without a port: every port of it
    }

    [Fact]
    public void Egress_default_deny_and_an_allow_to_a_named_port_of_the_peer()
    {
        var set = Set(
            Policy("deny-egress", new V1LabelSelector(), ["Egress"]),
            Policy("to-metrics", Labels(("role", "client")), ["Egress"],
                egress: [new V1NetworkPolicyEgressRule { Ports = [Port("metrics")], To = [new V1NetworkPolicyPeer { NamespaceSelector = new V1LabelSelector() }] }]));
        Assert.False(set.Allows(Other, Outside, 443, "TCP"));
        Assert.False(set.Allows(Other, Web, 8080, "TCP"));
        Assert.True(set.Allows(Client, Monitor, 9090, "TCP")); // "metrics" of the prom pod
        Assert.False(set.Allows(Client, Web, 9090, "TCP"));   // web has no port named metrics
        Assert.True(set.Allows(Outside, Web, 8080, "TCP"));   // ingress is not isolated
    }

    [Fact]
    public void A_connection_needs_the_senders_egress_and_the_receivers_ingress()
    {
        var set = Set(
            Policy("web-in", Labels(("app", "web")), ["Ingress"], ingress: [new V1NetworkPolicyIngressRule()]),
            Policy("client-out", Labels(("role", "client")), ["Egress"],
                egress: [new V1NetworkPolicyEgressRule { To = [new V1NetworkPolicyPeer { IpBlock = new V1IPBlock { Cidr = "10.0.0.0/8" } }] }]));
        Assert.True(set.Allows(Other, Web, 80, "TCP"));   // an empty ingress rule allows everything
        Assert.False(set.Allows(Client, Web, 80, "TCP")); // but the client may only send to 10/8
        Assert.True(set.Allows(Client, Outside, 80, "TCP"));
    }

    [Fact]
    public void Policy_types_default_as_the_api_server_does()
    {
        var egressOnly = Policy("e", new V1LabelSelector(), null, egress: [new V1NetworkPolicyEgressRule { To = [new V1NetworkPolicyPeer { IpBlock = new V1IPBlock { Cidr = "10.0.0.0/8" } }] }]);
        var set = Set(egressOnly);
        Assert.NotNull(set.AllowancesOf(Pods[0], Direction.Ingress)); // Ingress is always a default type
        Assert.NotNull(set.AllowancesOf(Pods[0], Direction.Egress));
        var ingressOnly = Set(Policy("i", new V1LabelSelector(), null));
        Assert.Null(ingressOnly.AllowancesOf(Pods[0], Direction.Egress));
    }
}
