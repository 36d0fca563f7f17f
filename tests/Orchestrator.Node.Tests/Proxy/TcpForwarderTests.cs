using System.Net;
using Orchestrator.Node.Proxy;

namespace Orchestrator.Node.Tests.Proxy;

public sealed class TcpForwarderTests
{
    private static TcpRoute Route(string id, int backends) => new(id, id, ProxyMode.Tcp,
        Enumerable.Range(1, backends).Select(i => new IPEndPoint(IPAddress.Parse($"172.28.0.{i}"), 80)).ToList());

    [Fact]
    public void Each_service_port_has_its_own_round_robin()
    {
        // connections that alternate between two services: with one counter for both, each service would see every
        // other value and always start at the same one of its two backends
        var a = Route("default/a:80", 2);
        var b = Route("default/b:80", 2);
        var firstOfA = new List<int>();
        for (var i = 0; i < 4; i++)
        {
            firstOfA.Add(a.NextStart());
            b.NextStart();
        }
        Assert.Equal([0, 1], firstOfA.Distinct().Order());
        Assert.Equal(2, firstOfA.Count(n => n == 0));
    }
}
