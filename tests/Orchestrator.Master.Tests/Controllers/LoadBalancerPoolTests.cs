using System.Net;
using Orchestrator.Master.Controllers.LoadBalancers;
using Xunit;

namespace Orchestrator.Master.Tests.Controllers;

public sealed class LoadBalancerPoolTests
{
    private static readonly LoadBalancerPool Pool = LoadBalancerPool.Parse("127.0.100.0/24");

    [Fact]
    public void The_lowest_free_address_is_allocated_skipping_the_network_address()
    {
        Assert.Equal(IPAddress.Parse("127.0.100.1"), Pool.Allocate(new HashSet<IPAddress>(), null).Address);
        var used = new HashSet<IPAddress> { IPAddress.Parse("127.0.100.1"), IPAddress.Parse("127.0.100.2") };
        Assert.Equal(IPAddress.Parse("127.0.100.3"), Pool.Allocate(used, null).Address);
    }

    [Fact]
    public void A_requested_loadBalancerIP_is_honoured_when_in_the_pool_and_free()
    {
        Assert.Equal(IPAddress.Parse("127.0.100.50"), Pool.Allocate(new HashSet<IPAddress>(), "127.0.100.50").Address);
        var taken = Pool.Allocate(new HashSet<IPAddress> { IPAddress.Parse("127.0.100.50") }, "127.0.100.50");
        Assert.Null(taken.Address);
        Assert.Contains("already in use", taken.Problem);
        var outside = Pool.Allocate(new HashSet<IPAddress>(), "10.1.1.1");
        Assert.Null(outside.Address);
        Assert.Contains("not in the pool 127.0.100.0/24", outside.Problem);
    }

    [Fact]
    public void An_exhausted_pool_says_so()
    {
        var small = LoadBalancerPool.Parse("127.0.100.8/30"); // .9 and .10
        var used = new HashSet<IPAddress> { IPAddress.Parse("127.0.100.9"), IPAddress.Parse("127.0.100.10") };
        Assert.Equal("no available IPs in the pool 127.0.100.8/30", small.Allocate(used, null).Problem);
        Assert.False(small.Contains(IPAddress.Parse("127.0.100.11"))); // broadcast
        Assert.Equal(IPAddress.Parse("10.0.0.5"), LoadBalancerPool.Parse("10.0.0.5/32").Allocate(new HashSet<IPAddress>(), null).Address);
    }

    [Theory]
    [InlineData("127.0.100.0/24", true)]
    [InlineData("10.0.0.0/33", false)]
    [InlineData("nonsense", false)]
    public void Only_IPv4_CIDRs_are_pools(string cidr, bool valid) => Assert.Equal(valid, LoadBalancerPool.Problem(cidr) is null);
}
