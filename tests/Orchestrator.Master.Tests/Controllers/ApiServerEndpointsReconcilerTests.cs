using System.Net;
using Orchestrator.Master.Controllers;
using Xunit;

namespace Orchestrator.Master.Tests.Controllers;

public sealed class ApiServerEndpointsReconcilerTests
{
    [Theory]
    [InlineData("127.0.0.1", "127.0.0.1")]
    [InlineData("localhost", "127.0.0.1")]
    [InlineData("192.0.2.10", "192.0.2.10")]
    public void A_specific_address_is_advertised_as_it_is(string listen, string advertised) =>
        Assert.Equal(advertised, ApiServerEndpointsReconciler.AdvertiseAddress(listen));

    [Fact]
    public void An_unspecified_address_is_advertised_as_a_real_ipv4_address_of_the_machine()
    {
        var advertised = IPAddress.Parse(ApiServerEndpointsReconciler.AdvertiseAddress("0.0.0.0"));
        Assert.Equal(System.Net.Sockets.AddressFamily.InterNetwork, advertised.AddressFamily);
        Assert.NotEqual(IPAddress.Any, advertised);
    }
}
