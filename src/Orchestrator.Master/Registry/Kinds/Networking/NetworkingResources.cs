using k8s.Models;
using Orchestrator.Master.Registry.Catalog;

namespace Orchestrator.Master.Registry.Kinds.Networking;

/// <summary>The networking.k8s.io group: Ingresses (with status), IngressClasses and NetworkPolicies, stored and
/// validated as the API server does. No ingress controller ships with the cluster; NetworkPolicies are enforced by the
/// nodes (their Policy component, on the pod bridge and in the service proxy).</summary>
internal static class NetworkingResources
{
    public const string Group = "networking.k8s.io";

    public static readonly ResourceDescription Ingresses = new()
    {
        Group = Group, Version = "v1", Resource = "ingresses", Kind = "Ingress", Namespaced = true,
        ObjectType = typeof(V1Ingress), Strategy = new IngressStrategy(), Printer = new IngressTablePrinter(),
        ShortNames = ["ing"], Subresources = [SubresourceDescription.Status("Ingress")],
        ProtobufMessage = "k8s.io.api.networking.v1.Ingress",
    };

    public static readonly ResourceDescription IngressClasses = new()
    {
        Group = Group, Version = "v1", Resource = "ingressclasses", Kind = "IngressClass", Namespaced = false,
        ObjectType = typeof(V1IngressClass), Strategy = new IngressClassStrategy(), Printer = new IngressClassTablePrinter(),
        ProtobufMessage = "k8s.io.api.networking.v1.IngressClass",
    };

    public static readonly ResourceDescription NetworkPolicies = new()
    {
        Group = Group, Version = "v1", Resource = "networkpolicies", Kind = "NetworkPolicy", Namespaced = true,
        ObjectType = typeof(V1NetworkPolicy), Strategy = new NetworkPolicyStrategy(), Printer = new NetworkPolicyTablePrinter(),
        ShortNames = ["netpol"], ProtobufMessage = "k8s.io.api.networking.v1.NetworkPolicy",
    };

    public static IReadOnlyList<ResourceDescription> All => [IngressClasses, Ingresses, NetworkPolicies];
}
