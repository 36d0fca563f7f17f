using System.Net;
using Orchestrator.Node.Host;

namespace Orchestrator.Node.Tests.Host;

public sealed class IpCommandTests
{
    [Fact]
    public void The_bridges_host_addresses_are_read_from_ip_o_addr_show()
    {
        const string output =
            "164: orch0    inet 172.28.0.1/16 brd 172.28.255.255 scope global orch0\\       valid_lft forever preferred_lft forever\n" +
            "164: orch0    inet 172.28.1.1/32 scope global orch0:dns\\       valid_lft forever preferred_lft forever\n" +
            "164: orch0\tinet 172.28.128.3/32 scope global orch0:svc\\       valid_lft forever preferred_lft forever\n";

        Assert.Equal([IPAddress.Parse("172.28.1.1"), IPAddress.Parse("172.28.128.3")], IpCommand.ParseAddresses(output).OrderBy(a => a.ToString()));
    }
}
