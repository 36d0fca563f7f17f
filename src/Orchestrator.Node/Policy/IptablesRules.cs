using System.Globalization;
using System.Net;
using System.Text;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Node.Policy;

/// <summary>
/// The iptables form of the policies for this node's pods, as one <c>iptables-restore --noflush</c> batch of the
/// filter table (applied atomically). The node's own chain <see cref="Chain"/> (FORWARD jumps to it) lets replies of
/// allowed connections pass (conntrack ESTABLISHED,RELATED) and sends new traffic to an isolated pod through that pod's
/// ingress chain, and traffic from an isolated pod through its egress chain. A pod chain RETURNs what an allowance
/// matches and drops the rest, so a connection between two pods passes both pods' chains — those of two nodes too —
/// before Docker's own rules accept it. Only traffic between addresses on the pod bridge is forwarded here: the node's
/// proxy, its DNS and its probes reach pods from the host, which Kubernetes never isolates.
/// </summary>
internal static class IptablesRules
{
    public const string Prefix = "ORCH-NP-";

    /// <summary>The node instance's chain: the prefix and a hash of what tells node instances on a machine apart.</summary>
    public static string ChainFor(string nodeName, string podRange) =>
        Prefix + StableHash($"{nodeName}|{podRange}").ToString("x8", CultureInfo.InvariantCulture);

    /// <summary>The batch for the pods in <paramref name="isLocal"/>'s range; <paramref name="stale"/> are chains of
    /// this node that exist and are no longer used (deleted after the main chain stops jumping to them).</summary>
    public static Batch Build(string chain, NetworkPolicySet policies, Func<IPAddress, bool> isLocal, IEnumerable<string>? stale = null)
    {
        var chains = new List<string> { chain };
        var rules = new List<string> { $"-A {chain} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN" };
        var podChains = new List<string>();
        var index = 0;
        foreach (var pod in policies.Pods.Where(p => IPAddress.TryParse(p.Ip, out var ip) && isLocal(ip)).OrderBy(p => p.Ip, StringComparer.Ordinal))
        {
            foreach (var direction in new[] { Direction.Ingress, Direction.Egress })
            {
                if (policies.AllowancesOf(pod, direction) is not { } allowances) continue;
                var podChain = $"{chain}-{(direction == Direction.Ingress ? 'I' : 'E')}{index++}";
                chains.Add(podChain);
                rules.Add($"-A {chain} {(direction == Direction.Ingress ? "-d" : "-s")} {pod.Ip}/32 -j {podChain}");
                podChains.Add($"# {pod.Namespace}/{pod.Name} {direction}");
                foreach (var allowance in allowances) podChains.Add($"-A {podChain} {Match(allowance, direction)}-j RETURN");
                podChains.Add($"-A {podChain} -j DROP");
            }
        }
        var text = new StringBuilder("*filter\n");
        // with --noflush a declared chain keeps its rules (iptables-nft): each is flushed explicitly
        foreach (var name in chains) text.Append(':').Append(name).Append(" - [0:0]\n");
        foreach (var name in chains) text.Append("-F ").Append(name).Append('\n');
        foreach (var rule in rules) text.Append(rule).Append('\n');
        foreach (var rule in podChains) text.Append(rule).Append('\n');
        foreach (var name in (stale ?? []).Except(chains, StringComparer.Ordinal))
            text.Append("-F ").Append(name).Append('\n').Append("-X ").Append(name).Append('\n');
        text.Append("COMMIT\n");
        return new Batch(text.ToString(), chains);
    }

    /// <summary>The batch that removes every chain of the node (after its FORWARD jump is gone).</summary>
    public static string Removal(IEnumerable<string> chains)
    {
        var list = chains.ToList();
        var text = new StringBuilder("*filter\n");
        foreach (var name in list) text.Append(':').Append(name).Append(" - [0:0]\n");
        foreach (var name in list) text.Append("-F ").Append(name).Append('\n');
        foreach (var name in list) text.Append("-X ").Append(name).Append('\n');
        return text.Append("COMMIT\n").ToString();
    }

    /// <summary>The chains of <paramref name="chain"/>'s family in <c>iptables -S</c> output.</summary>
    public static IReadOnlyList<string> ChainsIn(string listing, string chain) =>
        listing.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Trim().Split(' '))
            .Where(f => f.Length == 2 && f[0] == "-N" && (f[1] == chain || f[1].StartsWith(chain + "-", StringComparison.Ordinal)))
            .Select(f => f[1])
            .ToList();

    /// <summary>Whether FORWARD in <paramref name="listing"/> (<c>iptables -S</c>) jumps to <paramref name="chain"/> before any
    /// rule that may accept traffic of <paramref name="bridge"/> (one naming the bridge, or no interface at all). Docker puts
    /// its accepts for a bridge at the top of FORWARD when it makes the network's rules again (a restart of the engine that
    /// re-creates them, or an iptables flush and restart): a jump that is merely present may then come too late.</summary>
    public static bool JumpsBeforeAccepts(string listing, string chain, string bridge)
    {
        foreach (var line in listing.Split('\n'))
        {
            var f = line.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 4 || f[0] != "-A" || f[1] != "FORWARD") continue;
            if (f.Length == 4 && f[2] == "-j" && f[3] == chain) return true;
            if (f[^2] != "-j" || f[^1] != "ACCEPT") continue;
            var interfaces = f.Where((_, i) => i > 0 && f[i - 1] is "-i" or "-o").ToList();
            if (interfaces.Count == 0 || interfaces.Contains(bridge)) return false;
        }
        return false;
    }

    private static string Match(Allowance allowance, Direction direction)
    {
        var text = new StringBuilder();
        if (allowance.Remote != Allowance.Everything.Remote)
            text.Append(direction == Direction.Ingress ? "-s " : "-d ").Append(allowance.Remote).Append(' ');
        if (allowance.Protocol is { } protocol)
        {
            var p = protocol.ToLowerInvariant();
            text.Append("-p ").Append(p).Append(' ');
            if (allowance.Port is { } port)
            {
                text.Append("-m ").Append(p).Append(" --dport ").Append(port.ToString(CultureInfo.InvariantCulture));
                if (allowance.EndPort is { } end) text.Append(':').Append(end.ToString(CultureInfo.InvariantCulture));
                text.Append(' ');
            }
        }
        return text.ToString();
    }

    private static uint StableHash(string text)
    {
        var hash = 2166136261u;
        foreach (var ch in text) hash = unchecked((hash ^ ch) * 16777619u);
        return hash;
    }

    internal sealed record Batch(string Text, IReadOnlyList<string> Chains);
}
