using System.Net;
using k8s.Models;
using Orchestrator.Node.Policy;
using static Orchestrator.Node.Tests.Policy.NetworkPolicySetTests;

namespace Orchestrator.Node.Tests.Policy;

public sealed class IptablesRulesTests
{
    private const string Chain = "ORCH-NP-0000abcd";

    // this node's range holds web, client and other; the monitoring pod is another node's
    private static bool Local(IPAddress ip) => ip.ToString().StartsWith("172.28.0.1", StringComparison.Ordinal);

    private static List<string> Lines(IptablesRules.Batch batch) =>
        batch.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith('#')).ToList();

    [Fact]
    public void Without_isolated_pods_only_the_node_chain_with_its_conntrack_rule()
    {
        var batch = IptablesRules.Build(Chain, Set(), Local);
        Assert.Equal(["*filter", $":{Chain} - [0:0]", $"-F {Chain}", $"-A {Chain} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN", "COMMIT"], Lines(batch));
    }

    [Fact]
    public void Default_deny_ingress_drops_new_traffic_to_each_local_pod()
    {
        var batch = IptablesRules.Build(Chain, Set(NetworkPolicySetTests.Policy("deny", new V1LabelSelector(), ["Ingress"])), Local);
        var lines = Lines(batch);
        Assert.Contains($"-A {Chain} -d 172.28.0.10/32 -j {Chain}-I0", lines);
        Assert.Contains($"-A {Chain}-I0 -j DROP", lines);
        Assert.DoesNotContain(lines, l => l.Contains("172.28.0.20")); // another node's pod
        Assert.Equal(4, batch.Chains.Count); // the node chain and one per local pod in the default namespace
    }

    [Fact]
    public void Allowances_become_return_rules_before_the_drop()
    {
        var set = Set(NetworkPolicySetTests.Policy("allow", Labels(("app", "web")), ["Ingress", "Egress"],
            ingress: [new V1NetworkPolicyIngressRule
            {
                FromProperty = [new V1NetworkPolicyPeer { PodSelector = Labels(("role", "client")) }],
                Ports = [new V1NetworkPolicyPort { Port = "http", Protocol = "TCP" }, new V1NetworkPolicyPort { Port = "9000", EndPort = 9010, Protocol = "UDP" }],
            }],
            egress: [new V1NetworkPolicyEgressRule { To = [new V1NetworkPolicyPeer { IpBlock = new V1IPBlock { Cidr = "0.0.0.0/0", Except = ["172.28.0.0/16"] } }] }]));
        var lines = Lines(IptablesRules.Build(Chain, set, Local));
        var ingress = lines.Where(l => l.StartsWith($"-A {Chain}-I0 ", StringComparison.Ordinal)).ToList();
        Assert.Equal([
            $"-A {Chain}-I0 -s 172.28.0.11/32 -p tcp -m tcp --dport 8080 -j RETURN",
            $"-A {Chain}-I0 -s 172.28.0.11/32 -p udp -m udp --dport 9000:9010 -j RETURN",
            $"-A {Chain}-I0 -j DROP"], ingress);
        Assert.Contains($"-A {Chain} -s 172.28.0.10/32 -j {Chain}-E1", lines);
        var egress = lines.Where(l => l.StartsWith($"-A {Chain}-E1 ", StringComparison.Ordinal)).ToList();
        Assert.Equal(16, egress.Count - 1); // 0/0 without 172.28/16: sixteen blocks, then the drop
        Assert.Contains($"-A {Chain}-E1 -d 0.0.0.0/1 -j RETURN", egress);
        Assert.DoesNotContain(egress, l => l.Contains("172.28.0.0"));
    }

    [Fact]
    public void An_empty_rule_allows_everything_and_chains_no_longer_used_are_deleted()
    {
        var set = Set(NetworkPolicySetTests.Policy("all", Labels(("app", "web")), ["Ingress"], ingress: [new V1NetworkPolicyIngressRule()]));
        var lines = Lines(IptablesRules.Build(Chain, set, Local, [Chain, $"{Chain}-I0", $"{Chain}-E7"]));
        Assert.Contains($"-A {Chain}-I0 -j RETURN", lines);
        Assert.Contains($"-X {Chain}-E7", lines);
        Assert.DoesNotContain($"-X {Chain}-I0", lines);
        // the node chain is flushed (its jumps gone) before the stale chain is flushed and deleted
        Assert.True(lines.IndexOf($"-F {Chain}-E7") > lines.IndexOf($"-F {Chain}"));
        Assert.True(lines.IndexOf($"-X {Chain}-E7") > lines.IndexOf($"-F {Chain}-E7"));
    }

    [Fact]
    public void Each_node_instance_has_its_own_chain_and_finds_only_its_own()
    {
        var a = IptablesRules.ChainFor("node-1", "172.28.0.0/18");
        var b = IptablesRules.ChainFor("node-1", "172.28.64.0/18");
        Assert.NotEqual(a, b);
        Assert.True(a.Length <= 20);
        var listing = $"-P FORWARD DROP\n-N {a}\n-N {a}-I0\n-N {b}\n-N DOCKER\n-A FORWARD -j {a}\n";
        Assert.Equal([a, $"{a}-I0"], IptablesRules.ChainsIn(listing, a));
    }

    // FORWARD as `iptables -S` lists it after a Docker restart: its own jumps first, the default bridge's accepts re-made
    private const string DockerFirst = "-P FORWARD DROP\n-A FORWARD -j DOCKER-USER\n-A FORWARD -j DOCKER-ISOLATION-STAGE-1\n" +
                                       "-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n-A FORWARD -i docker0 -o docker0 -j ACCEPT\n";

    [Fact]
    public void The_jump_may_follow_Dockers_jumps_and_another_bridges_accepts_but_not_its_own_bridges()
    {
        var ours = $"-A FORWARD -j {Chain}\n";
        const string orch0 = "-A FORWARD -o orch0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n-A FORWARD -i orch0 -o orch0 -j ACCEPT\n";

        Assert.True(IptablesRules.JumpsBeforeAccepts(DockerFirst + ours + orch0, Chain, "orch0"));
        Assert.False(IptablesRules.JumpsBeforeAccepts(DockerFirst + orch0 + ours, Chain, "orch0"));
        Assert.False(IptablesRules.JumpsBeforeAccepts(DockerFirst + orch0, Chain, "orch0")); // no jump at all
        Assert.False(IptablesRules.JumpsBeforeAccepts("-A FORWARD -j ACCEPT\n" + ours, Chain, "orch0")); // accepts every bridge
        Assert.True(IptablesRules.JumpsBeforeAccepts("-A FORWARD -i orchlab0 -o orchlab0 -j ACCEPT\n" + ours + orch0, Chain, "orch0"));
    }
}
