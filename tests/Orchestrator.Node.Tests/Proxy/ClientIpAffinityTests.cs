using System.Net;
using Orchestrator.Node.Proxy;

namespace Orchestrator.Node.Tests.Proxy;

public sealed class ClientIpAffinityTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private readonly Clock _clock = new();

    private static IPAddress Client(int i) => new([10, (byte)(i >> 16), (byte)(i >> 8), (byte)i]);

    [Fact]
    public void A_client_is_held_until_it_has_been_silent_for_the_timeout()
    {
        var affinity = new ClientIpAffinity(_clock);
        affinity.Remember("p", Client(1), "172.28.0.2:80", Timeout);
        _clock.Advance(TimeSpan.FromSeconds(9.9));
        Assert.Equal("172.28.0.2:80", affinity.Lookup("p", Client(1), Timeout));
        Assert.Null(affinity.Lookup("other", Client(1), Timeout));
        Assert.Null(affinity.Lookup("p", Client(2), Timeout));

        affinity.Remember("p", Client(1), "172.28.0.2:80", Timeout); // seen again: the timer restarts
        _clock.Advance(TimeSpan.FromSeconds(9.9));
        Assert.Equal("172.28.0.2:80", affinity.Lookup("p", Client(1), Timeout));
        _clock.Advance(TimeSpan.FromSeconds(0.1));
        Assert.Null(affinity.Lookup("p", Client(1), Timeout));
    }

    [Fact]
    public void Expired_clients_are_swept_as_new_ones_come()
    {
        var affinity = new ClientIpAffinity(_clock);
        for (var i = 0; i < 1000; i++) affinity.Remember("p", Client(i), "172.28.0.2:80", Timeout);
        Assert.Equal(1000, affinity.Count("p"));

        _clock.Advance(TimeSpan.FromSeconds(11));
        affinity.Remember("p", Client(5000), "172.28.0.2:80", Timeout);
        Assert.Equal(1, affinity.Count("p"));
    }

    [Fact]
    public void A_table_never_holds_more_than_its_bound_of_live_clients()
    {
        var affinity = new ClientIpAffinity(_clock);
        var longTimeout = TimeSpan.FromHours(3);
        for (var i = 0; i <= ClientIpAffinity.MaxClients + 10; i++) affinity.Remember("p", Client(i), "172.28.0.2:80", longTimeout);

        Assert.InRange(affinity.Count("p"), 1, ClientIpAffinity.MaxClients);
        Assert.NotNull(affinity.Lookup("p", Client(ClientIpAffinity.MaxClients + 10), longTimeout)); // the newest stays
    }

    [Fact]
    public void Tables_of_ports_without_affinity_are_dropped()
    {
        var affinity = new ClientIpAffinity(_clock);
        affinity.Remember("a", Client(1), "172.28.0.2:80", Timeout);
        affinity.Remember("b", Client(1), "172.28.0.3:80", Timeout);
        affinity.Retain(new HashSet<string> { "b" });
        Assert.Equal(0, affinity.Count("a"));
        Assert.Equal(1, affinity.Count("b"));
    }

    private sealed class Clock : TimeProvider
    {
        private long _ticks = TimeSpan.TicksPerDay;
        public override long GetTimestamp() => _ticks;
        public override long TimestampFrequency => TimeSpan.TicksPerSecond;
        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }
}
