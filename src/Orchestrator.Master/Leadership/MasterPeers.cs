namespace Orchestrator.Master.Leadership;

/// <summary>
/// --peers: the cluster addresses (host:port, as each master's --cluster-address:--cluster-port) of every master of a
/// multi-master control plane, this one's included, in the same order on each (etcd's --initial-cluster, Akka's seed
/// nodes). None or only this master: the single master of today, whose own address is the only seed.
/// </summary>
internal sealed record MasterPeers(IReadOnlyList<string> Addresses)
{
    public bool Several => Addresses.Count > 1;

    /// <summary>The peers of the master at <paramref name="self"/> (host:port); <see cref="FormatException"/> names the
    /// problem: an entry that is not host:port, or a list without this master.</summary>
    public static MasterPeers Parse(string? value, string self)
    {
        if (string.IsNullOrWhiteSpace(value)) return new([self]);
        var peers = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var peer in peers)
            if (peer.LastIndexOf(':') is var colon && (colon <= 0 || !int.TryParse(peer[(colon + 1)..], out var port) || port is <= 0 or > 65535))
                throw new FormatException($"--peers: \"{peer}\" is not host:port (a master's --cluster-address:--cluster-port)");
        if (peers.Distinct(StringComparer.OrdinalIgnoreCase).Count() != peers.Length)
            throw new FormatException("--peers: a master is named twice");
        if (!peers.Contains(self, StringComparer.OrdinalIgnoreCase))
            throw new FormatException($"--peers: the list must name this master too ({self}, its --cluster-address:--cluster-port)");
        return new(peers);
    }

    /// <summary>The one-line refusal of a multi-master control plane on a store only this process can use, or null.</summary>
    public string? StoreProblem(bool sharedStore) => Several && !sharedStore
        ? "--peers names several masters: they share the store's journal, which needs --datastore-endpoint postgres://… (SQLite in the data directory is one master's only)"
        : null;
}
