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

    /// <summary>A master member (Akka makes members only internally: its factory, by reflection).</summary>
    private static Akka.Cluster.Member Master(int port, Akka.Cluster.MemberStatus status) =>
        (Akka.Cluster.Member)typeof(Akka.Cluster.Member).GetMethod("Create", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static,
                [typeof(Akka.Cluster.UniqueAddress), typeof(int), typeof(Akka.Cluster.MemberStatus), typeof(System.Collections.Immutable.ImmutableHashSet<string>), typeof(Akka.Util.AppVersion)])!
            .Invoke(null, [new Akka.Cluster.UniqueAddress(new Akka.Actor.Address("akka.tcp", "orchestrator", "127.0.0.10", port), port), 1, status,
                System.Collections.Immutable.ImmutableHashSet.Create("master", $"api_127.0.0.10_{port + 3000}"), Akka.Util.AppVersion.Zero])!;

    private static IReadOnlyList<string> Listed(ClusterMemberView view) =>
        ApiServerEndpointsReconciler.LiveApiServers(view.Members.Select(m => ((IEnumerable<string>)m.Roles, view.UpAndReachable(m))), Self)
            .Select(s => s.ToString()).ToList();

    [Fact]
    public void The_members_are_those_the_events_tell_in_order_not_a_view_read_when_one_arrives()
    {
        var view = new ClusterMemberView();
        var one = Master(15060, Akka.Cluster.MemberStatus.Joining);
        var two = Master(15061, Akka.Cluster.MemberStatus.Up);
        view.Reset(new Akka.Cluster.ClusterEvent.CurrentClusterState().Copy(
            members: System.Collections.Immutable.ImmutableSortedSet.Create(two, one)));
        Assert.Equal(["127.0.0.10:18061"], Listed(view));

        // the restarted master moved to Up: listed at once, from the event itself
        view.Apply(new Akka.Cluster.ClusterEvent.MemberUp(Master(15060, Akka.Cluster.MemberStatus.Up)));
        Assert.Equal(["127.0.0.10:18060", "127.0.0.10:18061"], Listed(view));
        view.Apply(new Akka.Cluster.ClusterEvent.UnreachableMember(two));
        Assert.Equal(["127.0.0.10:18060"], Listed(view));
        view.Apply(new Akka.Cluster.ClusterEvent.ReachableMember(two));
        Assert.Equal(["127.0.0.10:18060", "127.0.0.10:18061"], Listed(view));
        view.Apply(new Akka.Cluster.ClusterEvent.MemberDowned(Master(15061, Akka.Cluster.MemberStatus.Down)));
        Assert.Equal(["127.0.0.10:18060"], Listed(view));
        view.Apply(new Akka.Cluster.ClusterEvent.MemberRemoved(Master(15061, Akka.Cluster.MemberStatus.Removed), Akka.Cluster.MemberStatus.Down));
        Assert.Single(view.Members);
    }
}
