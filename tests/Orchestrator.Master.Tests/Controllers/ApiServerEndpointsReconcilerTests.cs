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

    private static readonly ApiServerAddress Self = new("127.0.0.10", 7443);

    private static (IEnumerable<string>, bool) Member(bool live, params string[] roles) => (roles, live);

    [Fact]
    public void Every_live_master_announcing_an_api_is_listed_sorted_and_once()
    {
        var servers = ApiServerEndpointsReconciler.LiveApiServers([
            Member(true, "master", "api_10.0.0.2_6443"),
            Member(true, "master", "api_10.0.0.10_6443"),
            Member(true, "master", "api_10.0.0.2_6443"),   // the same address twice (a restarted master's old entry)
            Member(true, "master", "api_~~1_6443"),
            Member(true, "master", "api_localhost_7444"),
        ], Self);

        Assert.Equal(["10.0.0.2:6443", "10.0.0.10:6443", "127.0.0.1:7444", "[::1]:6443"], servers.Select(s => s.ToString()));
    }

    [Fact]
    public void Unreachable_or_not_up_masters_and_nodes_are_left_out()
    {
        var servers = ApiServerEndpointsReconciler.LiveApiServers([
            Member(true, "master", "api_10.0.0.1_6443"),
            Member(false, "master", "api_10.0.0.2_6443"),
            Member(true, "node"),
            Member(true, "node", "api_10.0.0.3_6443"),
        ], Self);

        Assert.Equal(["10.0.0.1:6443"], servers.Select(s => s.ToString()));
    }

    [Fact]
    public void Without_any_announced_api_the_list_is_this_master_alone() =>
        Assert.Equal([Self], ApiServerEndpointsReconciler.LiveApiServers([Member(true, "master")], Self));

    [Fact]
    public void Slices_are_one_per_port_and_the_one_of_this_masters_port_is_named_kubernetes()
    {
        var slices = ApiServerEndpointsReconciler.SlicesFor(
            [new("127.0.0.10", 7443), new("127.0.0.10", 7444), new("127.0.0.11", 7444), new("::1", 7443)], new("127.0.0.10", 7444));

        Assert.Equal([("kubernetes-7443", "IPv4", 7443, "127.0.0.10"), ("kubernetes", "IPv4", 7444, "127.0.0.10,127.0.0.11"), ("kubernetes-7443-ipv6", "IPv6", 7443, "::1")],
            slices.Select(s => (s.Name, s.AddressType, s.Port, string.Join(",", s.Addresses))));
    }
}
