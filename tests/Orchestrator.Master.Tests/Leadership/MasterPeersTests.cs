using Orchestrator.Master.Leadership;
using Xunit;

namespace Orchestrator.Master.Tests.Leadership;

/// <summary>--peers and what it allows: several masters only on a shared (PostgreSQL) store.</summary>
public sealed class MasterPeersTests
{
    [Fact]
    public void Without_peers_a_master_is_alone_and_its_own_seed()
    {
        var peers = MasterPeers.Parse(null, "10.0.0.1:4050");
        Assert.False(peers.Several);
        Assert.Equal(["10.0.0.1:4050"], peers.Addresses);
        Assert.Null(peers.StoreProblem(sharedStore: false));
    }

    [Fact]
    public void Peers_keep_their_order_and_must_name_this_master()
    {
        var peers = MasterPeers.Parse("10.0.0.1:4050, 10.0.0.2:4050,10.0.0.3:4050", "10.0.0.2:4050");
        Assert.True(peers.Several);
        Assert.Equal(["10.0.0.1:4050", "10.0.0.2:4050", "10.0.0.3:4050"], peers.Addresses);
        Assert.Contains("this master too (10.0.0.9:4050", Assert.Throws<FormatException>(() => MasterPeers.Parse("10.0.0.1:4050,10.0.0.2:4050", "10.0.0.9:4050")).Message);
    }

    [Theory]
    [InlineData("10.0.0.1,10.0.0.2:4050", "\"10.0.0.1\" is not host:port")]
    [InlineData("10.0.0.1:99999,10.0.0.2:4050", "\"10.0.0.1:99999\" is not host:port")]
    [InlineData("10.0.0.2:4050,10.0.0.2:4050", "named twice")]
    public void Bad_peer_lists_are_refused(string value, string message) =>
        Assert.Contains(message, Assert.Throws<FormatException>(() => MasterPeers.Parse(value, "10.0.0.2:4050")).Message);

    [Fact]
    public void Several_masters_refuse_the_embedded_SQLite_store()
    {
        var peers = MasterPeers.Parse("10.0.0.1:4050,10.0.0.2:4050", "10.0.0.1:4050");
        Assert.Contains("--datastore-endpoint", peers.StoreProblem(sharedStore: false));
        Assert.Null(peers.StoreProblem(sharedStore: true));
    }

    [Theory]
    [InlineData("127.0.0.10", 7443, "127.0.0.10", "api_127.0.0.10_7443", "https://127.0.0.10:7443/")]
    [InlineData("0.0.0.0", 6443, "10.1.2.3", "api_10.1.2.3_6443", "https://10.1.2.3:6443/")]
    [InlineData("::1", 6443, "::1", "api_~~1_6443", "https://[::1]:6443/")]
    public void Each_master_announces_where_its_API_is(string apiAddress, int port, string clusterAddress, string role, string url)
    {
        Assert.Equal(role, MasterLeadership.ApiRole(apiAddress, port, clusterAddress));
        Assert.Equal(url, MasterLeadership.ApiOf(role)!.ToString());
    }
}
