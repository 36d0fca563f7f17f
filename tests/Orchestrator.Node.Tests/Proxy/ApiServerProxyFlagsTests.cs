using System.Net;
using Xunit;

namespace Orchestrator.Node.Tests.Proxy;

/// <summary>The node's flags for its load balancer to the masters' API: parsed, or refused with one line.</summary>
public sealed class ApiServerProxyFlagsTests
{
    [Fact]
    public void The_balancer_and_its_masters_are_parsed()
    {
        var options = NodeOptions.Parse(["--api-server-proxy", "127.0.0.1:6444", "--api-servers", "m1:6443, m2:6443,m1:6443"]);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 6444), options.ApiServerProxy);
        Assert.Equal([new DnsEndPoint("m1", 6443), new DnsEndPoint("m2", 6443)], options.ApiServers!);
    }

    [Fact]
    public void Masters_without_the_balancer_they_are_for_are_refused_not_ignored()
    {
        var refused = Assert.Throws<ArgumentException>(() => NodeOptions.Parse(["--api-servers", "m1:6443"]));
        Assert.Equal("--api-servers needs --api-server-proxy (the load balancer they are for)", refused.Message);
    }

    [Theory]
    [InlineData("--api-server-proxy", "localhost:6444")]
    [InlineData("--api-server-proxy", "127.0.0.1")]
    [InlineData("--api-servers", "m1:99999")]
    public void An_address_that_is_not_one_is_refused(string flag, string value)
    {
        var args = flag == "--api-servers" ? new[] { "--api-server-proxy", "127.0.0.1:6444", flag, value } : [flag, value];
        Assert.Throws<ArgumentException>(() => NodeOptions.Parse(args));
    }
}
