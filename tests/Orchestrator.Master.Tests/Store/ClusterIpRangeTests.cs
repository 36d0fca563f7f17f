using Orchestrator.Master.Store;
using Xunit;

namespace Orchestrator.Master.Tests.Store;

public class ClusterIpRangeTests
{
    [Fact]
    public void The_default_range_is_the_upper_half_of_the_pod_network()
    {
        Assert.Equal("172.28.128.0/17", ClusterIpRange.Cidr);
        Assert.Equal("172.28.128.1", ClusterIpRange.First);
        Assert.True(ClusterIpRange.Contains("172.28.255.254"));
        Assert.False(ClusterIpRange.Contains("172.28.127.9")); // a container address
        Assert.False(ClusterIpRange.Contains("10.96.0.1"));
    }

    [Fact]
    public void A_cidr_is_normalised_to_its_network()
    {
        var range = ClusterIpRange.Parse("172.28.200.7/24");
        Assert.Equal("172.28.200.0/24", range.Cidr);
        Assert.Equal(256u, range.Size);
        Assert.Throws<ArgumentException>(() => ClusterIpRange.Parse("not-a-cidr"));
    }
}
