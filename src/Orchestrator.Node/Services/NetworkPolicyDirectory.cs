using System.Collections.Immutable;
using System.Net;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Node.Services;

/// <summary>
/// The node's view of the cluster's NetworkPolicies: the newest <see cref="NetworkPoliciesChanged"/> the master sent
/// (policies, namespaces' labels, pods as peers) and a change notification. The agent publishes into it; the node's
/// Policy component subscribes. Like <see cref="ServiceDirectory"/>, it owns no sockets, no timers and no rules.
/// </summary>
internal sealed class NetworkPolicyDirectory
{
    private readonly object _gate = new();
    private NetworkPoliciesChanged? _current;
    private ImmutableArray<Action<NetworkPoliciesChanged>> _subscribers = [];

    /// <summary>Replaces the view, then hands it to every subscriber in turn (a subscriber that throws does not keep
    /// the others from it).</summary>
    public void Publish(NetworkPoliciesChanged changed)
    {
        lock (_gate)
        {
            if (_current is { } current && changed.Generation < current.Generation) return;
            _current = changed;
            var failures = new List<Exception>();
            foreach (var subscriber in _subscribers)
            {
                try { subscriber(changed); }
                catch (Exception e) { failures.Add(e); }
            }
            if (failures.Count > 0) throw new AggregateException(failures);
        }
    }

    /// <summary>Calls <paramref name="onChanged"/> with every published view from now on, and at once with the current one.</summary>
    public void Subscribe(Action<NetworkPoliciesChanged> onChanged)
    {
        lock (_gate)
        {
            _subscribers = _subscribers.Add(onChanged);
            if (_current is { } current) onChanged(current);
        }
    }
}

/// <summary>The seam through which the service proxy asks whether the cluster's NetworkPolicies let a client reach a
/// backend pod (the proxied connection leaves from the node, so the pod network's rules never see the client).
/// Implemented by the node's Policy component; no implementation means everything is allowed.</summary>
internal interface IConnectionPolicy
{
    /// <summary>True when <paramref name="client"/> may open a <paramref name="protocol"/> connection to
    /// <paramref name="backend"/> on <paramref name="port"/>: the client pod's egress and the backend pod's ingress
    /// both allow it (an address that is no pod is not isolated).</summary>
    bool Allows(IPAddress client, IPAddress backend, int port, string protocol = "TCP");

    /// <summary>True when no NetworkPolicy exists: every connection is allowed, and the proxy need not ask per
    /// endpoint (a Service of 1,000 endpoints would cost 1,000 checks on every request).</summary>
    bool AllowsEverything { get; }
}
