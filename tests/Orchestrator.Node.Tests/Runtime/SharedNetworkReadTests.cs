using Orchestrator.Node.Runtime;

namespace Orchestrator.Node.Tests.Runtime;

public class SharedNetworkReadTests
{
    private int _reads;

    private Func<Task<IReadOnlyList<string>>> Network(params string[] used) => () =>
    {
        _reads++;
        return Task.FromResult<IReadOnlyList<string>>(used);
    };

    [Fact]
    public async Task Allocations_waiting_together_share_one_read_of_the_network()
    {
        var shared = new SharedNetworkRead();
        var first = shared.Ask();
        var second = shared.Ask();
        var third = shared.Ask();

        Assert.Equal(["10.1.0.2"], await shared.GetAsync(first, Network("10.1.0.2")));
        Assert.Equal(["10.1.0.2"], await shared.GetAsync(second, Network("10.1.0.3")));
        Assert.Equal(["10.1.0.2"], await shared.GetAsync(third, Network("10.1.0.4")));
        Assert.Equal(1, _reads);
    }

    [Fact]
    public async Task An_allocation_asked_after_the_read_began_reads_the_network_again()
    {
        var shared = new SharedNetworkRead();
        var first = shared.Ask();
        long during = 0;
        await shared.GetAsync(first, () =>
        {
            during = shared.Ask(); // asked while the read is under way: the read may predate what it must see
            return Network("10.1.0.2")();
        });
        Assert.Equal(["10.1.0.3"], await shared.GetAsync(during, Network("10.1.0.3")));
        var after = shared.Ask();
        Assert.Equal(["10.1.0.4"], await shared.GetAsync(after, Network("10.1.0.4")));
        Assert.Equal(3, _reads);
        Assert.Equal(3, shared.Reads);
    }

    [Fact]
    public async Task An_address_released_since_the_read_makes_the_next_allocation_read_again()
    {
        var shared = new SharedNetworkRead();
        var first = shared.Ask();
        var second = shared.Ask();
        await shared.GetAsync(first, Network("10.1.0.2"));

        // the sandbox of 10.1.0.5 started (it is on the network now, which the read cannot show) and gave its reservation back
        shared.Released();

        Assert.Equal(["10.1.0.2", "10.1.0.5"], await shared.GetAsync(second, Network("10.1.0.2", "10.1.0.5")));
        Assert.Equal(2, _reads);
    }

    [Fact]
    public async Task A_shared_read_still_gives_each_allocation_an_address_of_its_own()
    {
        // end to end with the allocator: the second allocation, served by the first one's read, still gets another address
        var shared = new SharedNetworkRead();
        var ips = new PodIpAllocator("10.1.0.0/24");
        var first = shared.Ask();
        var second = shared.Ask();
        var a = ips.Allocate(await shared.GetAsync(first, Network("10.1.0.2")));
        var b = ips.Allocate(await shared.GetAsync(second, Network("10.1.0.9")));

        Assert.Equal("10.1.0.3", a);
        Assert.Equal("10.1.0.4", b);
        Assert.Equal(1, _reads);
    }
}
