using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Validation;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Registry.Kinds.Networking;

/// <summary>networking/v1 NetworkPolicy (ValidateNetworkPolicy): label selectors, ports (TCP default, UDP or SCTP; a
/// number or a name; endPort only after a numeric port and not below it), peers (exactly one of an ipBlock or
/// pod/namespace selectors; ipBlock a CIDR whose exceptions are strict subsets), policyTypes Ingress and Egress
/// (default Ingress, plus Egress when egress rules are given). Enforced by each node's Policy component, which the
/// NodeGateway sends them to.</summary>
internal sealed class NetworkPolicyStrategy : ModelStrategy<V1NetworkPolicy>
{
    private static readonly string[] Protocols = ["TCP", "UDP", "SCTP"];
    private static readonly string[] PolicyTypes = ["Ingress", "Egress"];

    protected override void Default(V1NetworkPolicy policy)
    {
        var spec = policy.Spec ??= new V1NetworkPolicySpec();
        spec.PodSelector ??= new V1LabelSelector();
        foreach (var port in (spec.Ingress ?? []).SelectMany(r => r.Ports ?? []).Concat((spec.Egress ?? []).SelectMany(r => r.Ports ?? [])))
            port.Protocol ??= "TCP";
        if (spec.PolicyTypes is not { Count: > 0 })
            spec.PolicyTypes = spec.Egress is { Count: > 0 } ? ["Ingress", "Egress"] : ["Ingress"];
    }

    protected override void Validate(V1NetworkPolicy policy, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        var spec = policy.Spec!;
        LabelRules.ValidateSelector(spec.PodSelector, "spec.podSelector", causes);
        ValidateRules(spec.Ingress?.Select(r => ((IList<V1NetworkPolicyPort>?)r.Ports, (IList<V1NetworkPolicyPeer>?)r.FromProperty)).ToList(), "spec.ingress", "from", causes);
        ValidateRules(spec.Egress?.Select(r => ((IList<V1NetworkPolicyPort>?)r.Ports, (IList<V1NetworkPolicyPeer>?)r.To)).ToList(), "spec.egress", "to", causes);
        var types = spec.PolicyTypes ?? [];
        if (types.Count > 2)
        {
            causes.Add(FieldErrors.Invalid("spec.policyTypes", FieldErrors.GoStrings(types), "may not specify more than two policyTypes"));
            return;
        }
        for (var i = 0; i < types.Count; i++)
            if (!PolicyTypes.Contains(types[i]))
                causes.Add(FieldErrors.NotSupported($"spec.policyTypes[{i}]", types[i], PolicyTypes));
    }

    private static void ValidateRules(List<(IList<V1NetworkPolicyPort>? Ports, IList<V1NetworkPolicyPeer>? Peers)>? rules, string path,
        string peersName, List<StoreErrorCause> causes)
    {
        for (var i = 0; i < (rules?.Count ?? 0); i++)
        {
            var (ports, peers) = rules![i];
            for (var j = 0; j < (ports?.Count ?? 0); j++) ValidatePort(ports![j], $"{path}[{i}].ports[{j}]", causes);
            for (var j = 0; j < (peers?.Count ?? 0); j++) ValidatePeer(peers![j], $"{path}[{i}].{peersName}[{j}]", causes);
        }
    }

    private static void ValidatePort(V1NetworkPolicyPort port, string path, List<StoreErrorCause> causes)
    {
        if (port.Protocol is { } protocol && !Protocols.Contains(protocol))
            causes.Add(FieldErrors.NotSupported($"{path}.protocol", protocol, Protocols));
        if (port.Port is null)
        {
            if (port.EndPort is { } end)
                causes.Add(FieldErrors.Invalid($"{path}.endPort", end, "may not be specified when `port` is not specified"));
            return;
        }
        var value = port.Port.Value;
        if (int.TryParse(value, out var number))
        {
            foreach (var message in NetworkRules.CheckPort(number))
                causes.Add(FieldErrors.Invalid($"{path}.port", number, message));
            if (port.EndPort is { } end)
            {
                if (end < number) causes.Add(FieldErrors.Invalid($"{path}.endPort", number, "must be greater than or equal to `port`"));
                foreach (var message in NetworkRules.CheckPort(end))
                    causes.Add(FieldErrors.Invalid($"{path}.endPort", end, message));
            }
            return;
        }
        if (port.EndPort is { } endPort)
            causes.Add(FieldErrors.Invalid($"{path}.endPort", endPort, "may not be specified when `port` is non-numeric"));
        foreach (var message in PortNames.Check(value))
            causes.Add(FieldErrors.Invalid($"{path}.port", value, message));
    }

    private static void ValidatePeer(V1NetworkPolicyPeer peer, string path, List<StoreErrorCause> causes)
    {
        var count = 0;
        if (peer.PodSelector is { } pods)
        {
            count++;
            LabelRules.ValidateSelector(pods, $"{path}.podSelector", causes);
        }
        if (peer.NamespaceSelector is { } namespaces)
        {
            count++;
            LabelRules.ValidateSelector(namespaces, $"{path}.namespaceSelector", causes);
        }
        if (peer.IpBlock is { } block)
        {
            count++;
            ValidateIpBlock(block, $"{path}.ipBlock", causes);
        }
        if (count == 0) causes.Add(FieldErrors.Required(path, "must specify a peer"));
        else if (count > 1 && peer.IpBlock is not null) causes.Add(FieldErrors.Forbidden(path, "may not specify both ipBlock and another peer"));
    }

    private static void ValidateIpBlock(V1IPBlock block, string path, List<StoreErrorCause> causes)
    {
        if (string.IsNullOrEmpty(block.Cidr))
        {
            causes.Add(FieldErrors.Required($"{path}.cidr"));
            return;
        }
        NetworkRules.ValidateCidr(block.Cidr, $"{path}.cidr", causes);
        if (!NetworkRules.TryParseCidr(block.Cidr, out _, out _)) return;
        for (var i = 0; i < (block.Except?.Count ?? 0); i++)
        {
            var except = block.Except![i];
            var at = $"{path}.except[{i}]";
            NetworkRules.ValidateCidr(except, at, causes);
            if (NetworkRules.TryParseCidr(except, out _, out _) && !NetworkRules.StrictSubset(block.Cidr, except))
                causes.Add(FieldErrors.Invalid(at, except, "must be a strict subset of `cidr`"));
        }
    }
}
