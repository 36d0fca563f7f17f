using Orchestrator.Layering;

namespace Orchestrator.Node.Tests;

/// <summary>The node's layering rule (docs/architecture.md), checked on the compiled assembly.</summary>
public sealed class LayeringTests
{
    /// <summary>Each folder and the layers directly below it. Host and Diagnostics are the bottom; the Services view
    /// is the one way the agent, the proxy and DNS share the cluster's Services; NodeHost composes them all.</summary>
    internal static readonly LayerRule Rule = new("Orchestrator.Node",
        ("Diagnostics", []),
        ("Host", ["Diagnostics"]),
        ("Services", ["Host"]),
        ("Config", ["Host"]),
        ("Runtime", ["Services", "Config"]),
        ("Agent", ["Runtime"]),
        ("Proxy", ["Services"]),
        ("Dns", ["Services"]),
        ("Policy", ["Services"]),
        ("", ["Agent", "Proxy", "Dns", "Policy"]));

    private static readonly IReadOnlyCollection<(string From, string To)> References =
        TypeReferences.Of(typeof(NodeHost).Assembly.Location);

    [Fact]
    public void Folders_use_only_the_layers_below_them()
    {
        var violations = Rule.Violations(References);
        Assert.True(violations.Count == 0, "Layering rule broken:\n" + string.Join("\n", violations));
    }

    [Fact]
    public void Namespaces_follow_the_folders()
    {
        var mismatches = SourceFolders.Mismatches(SourceFolders.Of("Orchestrator.Node"), "Orchestrator.Node");
        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
    }

    [Fact]
    public void The_reader_sees_references_from_signatures_and_method_bodies()
    {
        var edges = Rule.LayerEdges(References);
        Assert.Contains(("Agent", "Runtime"), edges.Keys);       // NodeAgent's fields and constructor
        Assert.Contains(("Dns", "Host"), edges.Keys);            // NodeDnsAddress creates an IpCommand in a field initializer
        Assert.Contains(("", "Dns"), edges.Keys);                // NodeHost news up ClusterDns in a method body
        Assert.Equal("Dns", Rule.LayerOf("Orchestrator.Node.Dns.ClusterDns"));
        Assert.Equal("Agent", Rule.LayerOf("Orchestrator.Node.Agent.Kubelet.KubeletServer"));
        Assert.Equal("Policy", Rule.LayerOf("Orchestrator.Node.Policy.IptablesRules"));
    }
}
