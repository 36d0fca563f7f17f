using Orchestrator.Node.Host;

namespace Orchestrator.Node.Tests.Host;

/// <summary>The machine's pod network (--pod-network) and this node's range in it (--pod-cidr).</summary>
public sealed class PodNetworkTests
{
    [Fact]
    public void By_default_the_node_takes_the_whole_lower_half_and_its_dns_is_the_gateway()
    {
        var pods = NodeOptions.Parse([]).PodNetwork;

        Assert.Equal(("172.28.0.0/16", "172.28.0.0/17", "172.28.0.1", "orch0"), (pods.Subnet, pods.IpRange, pods.Gateway, pods.Bridge));
        Assert.Equal("172.28.0.0/17", pods.NetworkIpRange);
        Assert.Equal("172.28.128.0/17", pods.ServiceRange);
        Assert.Equal("172.28.0.1", pods.DnsAddress);
        Assert.True(pods.DnsIsGateway);
    }

    [Fact]
    public void A_lab_node_gets_its_own_range_and_dns_address_while_the_docker_network_stays_the_same()
    {
        var pods = NodeOptions.Parse(["--pod-cidr", "172.28.1.0/24"]).PodNetwork;

        Assert.Equal(("172.28.0.0/16", "172.28.1.0/24", "172.28.0.1"), (pods.Subnet, pods.IpRange, pods.Gateway));
        Assert.Equal("172.28.0.0/17", pods.NetworkIpRange); // what the first node creates the Docker network with
        Assert.Equal("172.28.1.1", pods.DnsAddress);
        Assert.False(pods.DnsIsGateway);
    }

    [Fact]
    public void A_range_that_starts_at_the_network_has_the_gateway_as_its_dns_address()
    {
        var pods = PodNetwork.Parse("172.28.0.0/16", "172.28.0.0/24");
        Assert.Equal("172.28.0.1", pods.DnsAddress);
        Assert.True(pods.DnsIsGateway);
    }

    [Fact]
    public void Host_bits_are_masked_and_another_network_splits_the_same_way()
    {
        var pods = PodNetwork.Parse("10.9.8.7/16", "10.9.3.77/24");
        Assert.Equal(("10.9.0.0/16", "10.9.3.0/24", "10.9.0.1", "10.9.0.0/17", "10.9.128.0/17", "10.9.3.1"),
            (pods.Subnet, pods.IpRange, pods.Gateway, pods.NetworkIpRange, pods.ServiceRange, pods.DnsAddress));
    }

    [Theory]
    [InlineData("172.29.1.0/24", "--pod-cidr 172.29.1.0/24 is not inside --pod-network 172.28.0.0/16")]
    [InlineData("172.28.200.0/24", "--pod-cidr 172.28.200.0/24 overlaps the ClusterIP range 172.28.128.0/17 (the upper half of --pod-network 172.28.0.0/16)")]
    [InlineData("172.28.0.0/17", null)]
    [InlineData("172.28.0.0/16", "--pod-cidr 172.28.0.0/16 overlaps the ClusterIP range 172.28.128.0/17 (the upper half of --pod-network 172.28.0.0/16)")]
    [InlineData("172.20.64.0/12", "--pod-cidr 172.16.0.0/12 is not inside --pod-network 172.28.0.0/16")]
    [InlineData("172.28.1.0", "--pod-cidr '172.28.1.0' is not an IPv4 CIDR with a prefix length of 9 to 30")]
    [InlineData("172.28.1.0/31", "--pod-cidr '172.28.1.0/31' is not an IPv4 CIDR with a prefix length of 9 to 30")]
    public void A_range_outside_the_pod_half_is_refused_with_one_line(string podCidr, string? message)
    {
        if (message is null)
        {
            Assert.Equal(podCidr, NodeOptions.Parse(["--pod-cidr", podCidr]).PodCidr);
            return;
        }
        var error = Assert.Throws<ArgumentException>(() => NodeOptions.Parse(["--pod-cidr", podCidr]));
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void A_range_in_a_custom_pod_network_is_checked_against_that_network()
    {
        var options = NodeOptions.Parse(["--pod-network", "10.50.0.0/16", "--pod-cidr", "10.50.2.0/24"]);
        Assert.Equal(("10.50.0.0/16", "10.50.2.0/24"), (options.PodNetworkCidr, options.PodCidr));
        Assert.Equal("10.50.0.0/17", NodeOptions.Parse(["--pod-network", "10.50.0.0/16"]).PodCidr);
        Assert.Throws<ArgumentException>(() => NodeOptions.Parse(["--pod-network", "10.50.0.0/16", "--pod-cidr", "172.28.1.0/24"]));
    }
}

public sealed class NodeDnsAddressTests
{
    [Fact]
    public void The_gateway_needs_no_address_of_its_own()
    {
        var address = new Orchestrator.Node.Dns.NodeDnsAddress(PodNetwork.Parse("172.28.0.0/16"), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        Assert.Equal("172.28.0.1", address.Address.ToString());
        Assert.True(address.Ensure()); // nothing to add: no ip command runs (and none would succeed without the bridge)
    }

    [Fact]
    public void A_lab_node_adds_its_dns_address_with_its_own_label()
    {
        var address = new Orchestrator.Node.Dns.NodeDnsAddress(PodNetwork.Parse("172.28.0.0/16", "172.28.2.0/24", "orch-test-none"),
            Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        Assert.Equal(("172.28.2.1", "orch-test-none:dns"), (address.Address.ToString(), address.Label));
        Assert.False(address.Ensure()); // no such bridge: not added, retried by the caller
    }
}
