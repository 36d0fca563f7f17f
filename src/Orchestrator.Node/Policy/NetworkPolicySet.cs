using System.Collections.Concurrent;
using System.Net;
using k8s.Models;
using Orchestrator.Shared.Api;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Node.Policy;

/// <summary>
/// One <see cref="NetworkPoliciesChanged"/> made evaluable, with Kubernetes' semantics: a pod is isolated for a
/// direction when some policy of its namespace selects it and lists that direction in its policyTypes; traffic an
/// isolated pod sends or receives is allowed when any rule of any such policy allows it, and a connection needs both
/// the sender's egress and the receiver's ingress (an address that is no pod is not isolated). Immutable; the
/// allowances of a pod are computed once, when first asked for.
/// </summary>
internal sealed class NetworkPolicySet
{
    public const string NamespaceNameLabel = "kubernetes.io/metadata.name";

    private readonly IReadOnlyList<V1NetworkPolicy> _policies;
    private readonly Dictionary<string, IReadOnlyDictionary<string, string>> _namespaceLabels;
    private readonly IReadOnlyList<PolicyPod> _pods;
    private readonly Dictionary<string, PolicyPod> _podsByIp;
    private readonly ConcurrentDictionary<(string Ip, Direction Direction), IReadOnlyList<Allowance>?> _allowances = new();

    public NetworkPolicySet(NetworkPoliciesChanged changed)
    {
        _policies = changed.Policies;
        _pods = changed.Pods;
        _namespaceLabels = changed.Namespaces.ToDictionary(n => n.Name, n => n.Labels ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        _podsByIp = new Dictionary<string, PolicyPod>(StringComparer.Ordinal);
        foreach (var pod in changed.Pods) _podsByIp[pod.Ip] = pod;
    }

    public static NetworkPolicySet Empty { get; } = new(new NetworkPoliciesChanged(0, [], [], []));

    public bool IsEmpty => _policies.Count == 0;

    public IReadOnlyList<PolicyPod> Pods => _pods;

    public PolicyPod? PodAt(IPAddress address) =>
        _podsByIp.GetValueOrDefault((address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString());

    /// <summary>True when the connection is allowed by the sender's egress and the receiver's ingress.</summary>
    public bool Allows(IPAddress source, IPAddress destination, int port, string protocol)
    {
        if (IsEmpty) return true;
        if (PodAt(source) is { } sender && AllowancesOf(sender, Direction.Egress) is { } egress
            && !egress.Any(a => a.Matches(destination, port, protocol))) return false;
        if (PodAt(destination) is { } receiver && AllowancesOf(receiver, Direction.Ingress) is { } ingress
            && !ingress.Any(a => a.Matches(source, port, protocol))) return false;
        return true;
    }

    /// <summary>What may reach (<see cref="Direction.Ingress"/>) or leave (<see cref="Direction.Egress"/>) the pod;
    /// null when no policy isolates it for that direction (everything is allowed), empty when nothing is.</summary>
    public IReadOnlyList<Allowance>? AllowancesOf(PolicyPod pod, Direction direction) =>
        _allowances.GetOrAdd((pod.Ip, direction), _ => Compile(pod, direction));

    private IReadOnlyList<Allowance>? Compile(PolicyPod pod, Direction direction)
    {
        var selecting = _policies.Where(p => Selects(p, pod) && Isolates(p, direction)).ToList();
        if (selecting.Count == 0) return null;
        var allowances = new List<Allowance>();
        foreach (var policy in selecting)
        {
            var ns = policy.Metadata.NamespaceProperty ?? "default";
            var rules = direction == Direction.Ingress
                ? (policy.Spec.Ingress ?? []).Select(r => (r.Ports, Peers: r.FromProperty))
                : (policy.Spec.Egress ?? []).Select(r => (r.Ports, Peers: r.To));
            foreach (var (ports, peers) in rules) allowances.AddRange(RuleAllowances(ns, pod, direction, ports, peers));
        }
        return allowances.Distinct().ToList();
    }

    private static bool Isolates(V1NetworkPolicy policy, Direction direction)
    {
        var types = policy.Spec?.PolicyTypes;
        if (types is not { Count: > 0 }) // as the API server defaults them
            return direction == Direction.Ingress || policy.Spec?.Egress is { Count: > 0 };
        return types.Contains(direction == Direction.Ingress ? "Ingress" : "Egress");
    }

    private static bool Selects(V1NetworkPolicy policy, PolicyPod pod) =>
        (policy.Metadata.NamespaceProperty ?? "default") == pod.Namespace
        && Selector(policy.Spec?.PodSelector ?? new V1LabelSelector()).Matches(Labels(pod.Labels));

    /// <summary>One rule: every peer (all addresses when there are none) crossed with every port (all when none).
    /// A named port is the destination pod's: the selected pod for ingress, each peer pod for egress.</summary>
    private IEnumerable<Allowance> RuleAllowances(string policyNamespace, PolicyPod pod, Direction direction,
        IList<V1NetworkPolicyPort>? ports, IList<V1NetworkPolicyPeer>? peers)
    {
        var remotes = peers is { Count: > 0 }
            ? peers.SelectMany(peer => PeerBlocks(policyNamespace, peer)).ToList()
            : [new Remote(Allowance.Everything.Remote, null)];
        foreach (var remote in remotes)
        {
            if (ports is not { Count: > 0 })
            {
                yield return new Allowance(remote.Cidr);
                continue;
            }
            foreach (var port in ports)
            {
                var protocol = (port.Protocol ?? "TCP").ToUpperInvariant();
                if (port.Port is null)
                {
                    yield return new Allowance(remote.Cidr, protocol);
                    continue;
                }
                if (int.TryParse(port.Port.Value, out var number))
                {
                    yield return new Allowance(remote.Cidr, protocol, number, port.EndPort is { } end && end > number ? end : null);
                    continue;
                }
                if (direction == Direction.Ingress)
                {
                    if (NamedPort(pod, port.Port.Value, protocol) is { } resolved) yield return new Allowance(remote.Cidr, protocol, resolved);
                    continue;
                }
                // egress to a named port: the pods inside the remote block that have it, each at its own number
                foreach (var target in remote.Pod is { } single ? [single] : _pods.Where(p => Allowance.Contains(remote.Cidr, IPAddress.Parse(p.Ip))))
                    if (NamedPort(target, port.Port.Value, protocol) is { } resolved) yield return new Allowance($"{target.Ip}/32", protocol, resolved);
            }
        }
    }

    private sealed record Remote(string Cidr, PolicyPod? Pod);

    private IEnumerable<Remote> PeerBlocks(string policyNamespace, V1NetworkPolicyPeer peer)
    {
        if (peer.IpBlock is { } block)
            return (Allowance.Subtract(block.Cidr, block.Except) ?? []).Select(c => new Remote(c, null));
        if (peer.PodSelector is null && peer.NamespaceSelector is null) return [];
        var pods = Selector(peer.PodSelector ?? new V1LabelSelector());
        var namespaces = peer.NamespaceSelector is { } nsSelector ? Selector(nsSelector) : null;
        return _pods.Where(p => (namespaces is null ? p.Namespace == policyNamespace : namespaces.Matches(NamespaceLabels(p.Namespace)))
                                && pods.Matches(Labels(p.Labels)))
            .Select(p => new Remote($"{p.Ip}/32", p));
    }

    private IDictionary<string, string> NamespaceLabels(string name)
    {
        var labels = new Dictionary<string, string>(_namespaceLabels.GetValueOrDefault(name) ?? new Dictionary<string, string>());
        labels.TryAdd(NamespaceNameLabel, name); // the API server sets it on every namespace
        return labels;
    }

    private static int? NamedPort(PolicyPod pod, string name, string protocol) =>
        pod.Ports?.FirstOrDefault(p => p.Name == name && string.Equals(p.Protocol, protocol, StringComparison.OrdinalIgnoreCase))?.Port;

    private static IDictionary<string, string> Labels(IReadOnlyDictionary<string, string>? labels) =>
        labels is null ? new Dictionary<string, string>() : new Dictionary<string, string>(labels);

    private static LabelSelector Selector(V1LabelSelector selector)
    {
        try { return LabelSelector.FromLabelSelector(selector); }
        catch (FormatException) { return LabelSelector.Nothing; } // validated by the API server; never widen on doubt
    }
}
