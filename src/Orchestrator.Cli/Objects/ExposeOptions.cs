using k8s.Models;
using Orchestrator.Cli.Parsing;

namespace Orchestrator.Cli.Objects;

/// <summary>
/// What `orchctl expose` builds: a Service named like the object (or --name) whose selector is the object's
/// selector (Deployment, ReplicaSet: matchLabels; ReplicationController: selector; Pod: its labels), like kubectl.
/// </summary>
internal sealed record ExposeOptions(string? Name, int? Port, string? TargetPort, string Type, int? NodePort,
    IReadOnlyList<string> ExternalIPs, string Protocol, IReadOnlyDictionary<string, string>? Labels)
{
    public static ExposeOptions From(ParsedArgs args)
    {
        var type = args.Get("type") ?? "ClusterIP";
        var known = new[] { "ClusterIP", "NodePort", "LoadBalancer", "ExternalName" };
        type = known.FirstOrDefault(k => k.Equals(type, StringComparison.OrdinalIgnoreCase))
               ?? throw new UsageException($"invalid --type \"{type}\": one of {string.Join(", ", known)}");
        var ips = (args.Get("external-ip") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        var labels = args.Get("labels") is { Length: > 0 } l ? RunOptions.ParsePairs(l.Split(','), "--labels") : null;
        return new ExposeOptions(args.Get("name"), args.GetInt("port"), args.Get("target-port"), type, args.GetInt("node-port"), ips,
            (args.Get("protocol") ?? "TCP").ToUpperInvariant(), labels);
    }

    /// <param name="objectName">The exposed object's name.</param>
    /// <param name="selector">Its selector, as kubectl derives it.</param>
    /// <param name="objectLabels">Its labels, copied to the Service like kubectl does.</param>
    /// <param name="containerPorts">Its pod template's container ports, the default --port when there is exactly one.</param>
    public V1Service ToService(string objectName, IDictionary<string, string> selector, IDictionary<string, string>? objectLabels,
        IReadOnlyList<int> containerPorts)
    {
        var port = Port ?? (containerPorts.Count == 1 ? containerPorts[0]
            : throw new UsageException("couldn't find port via --port flag or introspection"));
        if (NodePort is not null && Type == "ClusterIP")
            throw new UsageException("--node-port needs --type=NodePort (or LoadBalancer)");
        IntOrString target = TargetPort is null ? port.ToString()
            : TargetPort;
        return new V1Service
        {
            ApiVersion = "v1",
            Kind = "Service",
            Metadata = new V1ObjectMeta
            {
                Name = Name ?? objectName,
                Labels = Labels is not null ? new Dictionary<string, string>(Labels)
                    : objectLabels is { Count: > 0 } ? new Dictionary<string, string>(objectLabels) : null,
            },
            Spec = new V1ServiceSpec
            {
                Type = Type,
                Selector = new Dictionary<string, string>(selector),
                ExternalIPs = ExternalIPs.Count == 0 ? null : ExternalIPs.ToList(),
                Ports = [new V1ServicePort { Port = port, TargetPort = target, Protocol = Protocol, NodePort = NodePort }],
            },
        };
    }

    /// <summary>kubectl's rule: a selector of matchLabels only; expressions cannot be expressed in a Service.</summary>
    public static IDictionary<string, string> SelectorOf(V1LabelSelector? selector, string what)
    {
        if (selector?.MatchExpressions is { Count: > 0 })
            throw new CliException($"error: cannot expose {what}: its selector has matchExpressions, which a Service cannot express");
        return selector?.MatchLabels is { Count: > 0 } labels ? labels
            : throw new CliException($"error: cannot expose {what}: it has no selector");
    }
}
