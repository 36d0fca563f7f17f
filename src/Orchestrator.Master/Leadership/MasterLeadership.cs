using Akka.Cluster;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Master.Leadership;

/// <summary>Whether this master holds the control plane (the singleton runs here), and where the master that does
/// serves the API. Each master announces its API URL as a cluster role "api=URL", so every master finds the leader's
/// from the cluster state alone.</summary>
internal sealed class MasterLeadership
{
    public const string ApiRolePrefix = MasterApiRole.Prefix;

    private volatile bool _hostsControlPlane;

    /// <summary>True while the control plane singleton runs on this master: the API serves from the local store.</summary>
    public bool HostsControlPlane
    {
        get => _hostsControlPlane;
        set => _hostsControlPlane = value;
    }

    /// <summary>The role announcing the API at <paramref name="apiAddress"/>:<paramref name="apiPort"/>; an API listening on
    /// every address (0.0.0.0, ::) is announced at the master's cluster address, which every member reaches.</summary>
    public static string ApiRole(string apiAddress, int apiPort, string clusterAddress)
    {
        var host = apiAddress is "0.0.0.0" or "::" or "[::]" ? clusterAddress : apiAddress;
        return MasterApiRole.Format(host, apiPort);
    }

    /// <summary>The API URL a role of <see cref="ApiRole"/> announces ("api_10.0.0.1_6443", "api_~~1_6443" for ::1).</summary>
    public static Uri? ApiOf(string role)
    {
        if (MasterApiRole.Parse(role) is not { } api) return null;
        var (host, port) = api;
        if (host.Contains(':')) host = $"[{host}]";
        return Uri.TryCreate($"https://{host}:{port}", UriKind.Absolute, out var uri) ? uri : null;
    }

    /// <summary>Where the control plane is, seen from <paramref name="state"/>: the oldest master that is up (where the
    /// ClusterSingletonManager places the singleton) and whether it is reachable.</summary>
    public static LeaderView Find(ClusterEvent.CurrentClusterState state, Member self)
    {
        Member? oldest = null;
        foreach (var member in state.Members)
            if (member.Status == MemberStatus.Up && member.HasRole(NodeProtocolNames.MasterRole) && (oldest is null || member.IsOlderThan(oldest)))
                oldest = member;
        if (oldest is null) return new LeaderView(null, null, Reachable: false, IsSelf: false);
        var api = oldest.Roles.FirstOrDefault(r => r.StartsWith(ApiRolePrefix, StringComparison.Ordinal)) is { } role ? ApiOf(role) : null;
        return new LeaderView(oldest.Address, api, !state.Unreachable.Contains(oldest), oldest.UniqueAddress.Equals(self.UniqueAddress));
    }
}

/// <summary>The leader as one master sees it; <see cref="Address"/> null: no master is up.</summary>
internal sealed record LeaderView(Akka.Actor.Address? Address, Uri? Api, bool Reachable, bool IsSelf);
