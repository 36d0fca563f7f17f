using Orchestrator.Node.Runtime;

namespace Orchestrator.Node.Tests.Runtime;

public sealed class PodIpAllocatorTests
{
    [Fact]
    public void Never_hands_out_the_network_address_the_first_usable_address_or_the_broadcast()
    {
        var ips = new PodIpAllocator("10.9.0.0/29"); // .0 network, .1 gateway or node DNS, .7 broadcast
        var given = Enumerable.Range(0, 6).Select(_ => ips.Allocate([])).ToList();
        Assert.Equal(["10.9.0.2", "10.9.0.3", "10.9.0.4", "10.9.0.5", "10.9.0.6", null], given);
        Assert.Equal(5, ips.Capacity);
    }

    [Theory]
    [InlineData("172.28.0.0/17", "172.28.0.2", 32765)]   // the single-node default: 172.28.0.1 is the gateway
    [InlineData("172.28.1.0/24", "172.28.1.2", 253)]     // lab node 1: 172.28.1.1 is its DNS address
    [InlineData("172.28.3.77/24", "172.28.3.2", 253)]    // a host address in the CIDR means its network
    public void Starts_after_the_first_usable_address_of_the_range(string range, string first, long capacity)
    {
        var ips = new PodIpAllocator(range);
        Assert.Equal(first, ips.Allocate([]));
        Assert.Equal(capacity, ips.Capacity);
    }

    [Fact]
    public void Skips_addresses_containers_on_the_network_have_in_Dockers_notation_too()
    {
        var ips = new PodIpAllocator("10.9.0.0/24");
        Assert.Equal("10.9.0.4", ips.Allocate(["10.9.0.2/16", "10.9.0.3", "not an address", "fe80::1"]));
    }

    [Fact]
    public void An_address_in_flight_is_not_given_again_until_released_and_then_only_after_the_others()
    {
        var ips = new PodIpAllocator("10.9.0.0/29");
        var first = ips.Allocate([]);
        Assert.Equal("10.9.0.3", ips.Allocate([]));
        ips.Release(first!);
        // round-robin: the released address comes back only once the range wraps around
        Assert.Equal(["10.9.0.4", "10.9.0.5", "10.9.0.6", "10.9.0.2"], Enumerable.Range(0, 4).Select(_ => ips.Allocate([])).ToList());
        Assert.Null(ips.Allocate([]));
    }

    [Fact]
    public void A_restarted_agent_goes_on_after_the_highest_address_in_use_in_its_range()
    {
        var ips = new PodIpAllocator("10.9.0.0/29");
        // .3 and .5 belong to adopted pods; 10.9.1.9 is another node's
        Assert.Equal(["10.9.0.6", "10.9.0.2", "10.9.0.4", null],
            Enumerable.Range(0, 4).Select(_ => ips.Allocate(["10.9.0.3", "10.9.0.5", "10.9.1.9"])).ToList());
    }

    [Fact]
    public void A_full_range_gives_nothing_and_a_freed_address_is_found_again()
    {
        var ips = new PodIpAllocator("10.9.0.0/30"); // .2 is the only address pods may get
        Assert.Null(ips.Allocate(["10.9.0.2"]));
        Assert.Equal("10.9.0.2", ips.Allocate([]));
    }

    [Fact]
    public void Concurrent_allocations_never_share_an_address()
    {
        var ips = new PodIpAllocator("10.9.0.0/24");
        var given = new System.Collections.Concurrent.ConcurrentBag<string?>();
        Parallel.For(0, 200, _ => given.Add(ips.Allocate([])));
        var addresses = given.Where(a => a is not null).ToList();
        Assert.Equal(253, ips.Capacity);
        Assert.Equal(200, addresses.Count);
        Assert.Equal(200, addresses.Distinct().Count());
    }

    [Theory]
    [InlineData("10.9.0.0")]
    [InlineData("10.9.0.0/31")]
    [InlineData("fd00::/64")]
    public void Rejects_a_range_without_room_for_pods(string range) =>
        Assert.Throws<ArgumentException>(() => new PodIpAllocator(range));
}
