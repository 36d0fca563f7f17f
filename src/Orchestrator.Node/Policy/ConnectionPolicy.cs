using System.Net;
using Orchestrator.Node.Services;

namespace Orchestrator.Node.Policy;

/// <summary>The proxy's view of the policies (<see cref="IConnectionPolicy"/>): the newest <see cref="NetworkPolicySet"/>
/// made from the node's <see cref="NetworkPolicyDirectory"/>, swapped whole on every change.</summary>
internal sealed class ConnectionPolicy : IConnectionPolicy
{
    private volatile NetworkPolicySet _current = NetworkPolicySet.Empty;

    public ConnectionPolicy(NetworkPolicyDirectory directory) => directory.Subscribe(changed => _current = new NetworkPolicySet(changed));

    public NetworkPolicySet Current => _current;

    public bool AllowsEverything => _current.IsEmpty;

    public bool Allows(IPAddress client, IPAddress backend, int port, string protocol = "TCP") =>
        _current.Allows(client, backend, port, protocol);
}
