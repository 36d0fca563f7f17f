using Orchestrator.Layering;
using Xunit;

namespace Orchestrator.Master.Tests;

/// <summary>The master's layering rule (docs/architecture.md), checked on the compiled assembly.</summary>
public sealed class LayeringTests
{
    /// <summary>Each folder and the layers directly below it. The store is the bottom; the control-loop foundation
    /// carries Controllers, Scheduling and Nodes, which never use each other; the registry (descriptions and
    /// strategies of the kinds) sits on the store, and the Api's folders form their own layers above the registry;
    /// the root namespace (Program, ControlPlaneHosting) composes everything.</summary>
    internal static readonly LayerRule Rule = new("Orchestrator.Master",
        ("Diagnostics", []),
        ("Identity", []),
        ("Store/Encryption", []),
        ("Store/Persistence", ["Diagnostics", "Store/Encryption"]),
        ("Store", ["Store/Persistence", "Store/Encryption"]),
        ("Registry/Validation", ["Store"]),
        ("Registry/Tables", ["Store"]),
        ("Registry/Catalog", ["Registry/Validation", "Registry/Tables"]),
        ("Registry/Kinds", ["Registry/Catalog"]),
        ("Registry/CustomResources", ["Registry/Catalog"]),
        ("Registry", ["Registry/Kinds", "Registry/CustomResources"]),
        ("Admission/PodSecurity", ["Store"]),
        ("Admission/Storage", ["Store"]),
        ("Admission/Ingress", ["Store"]),
        ("Admission/Pods", ["Store"]),
        ("Admission/Nodes", ["Store"]),
        ("Quota", ["Store"]),
        ("Admission/LimitRanges", ["Quota"]),
        ("Admission/ResourceQuotas", ["Quota"]),
        ("Admission/ServiceAccount", ["Store"]),
        ("Admission/Policies", ["Registry/Validation"]),
        ("ResourceMetrics", []),
        ("ControlLoop", ["Store"]),
        ("Controllers/Autoscaling", ["ControlLoop", "ResourceMetrics"]),
        ("Controllers/Deployments", ["ControlLoop"]),
        ("Controllers/Endpoints", ["ControlLoop"]),
        ("Controllers/ReplicaSets", ["ControlLoop"]),
        ("Controllers/Rbac", ["ControlLoop"]),
        ("Controllers/Jobs", ["Controllers/ReplicaSets"]),
        ("Controllers/CronJobs", ["ControlLoop"]),
        ("Controllers/Revisions", ["ControlLoop"]),
        ("Controllers/DaemonSets", ["Controllers/ReplicaSets", "Controllers/Revisions"]),
        ("Controllers/StatefulSets", ["Controllers/Revisions"]),
        ("Controllers", ["ControlLoop", "Quota", "Admission/Policies", "Controllers/Deployments", "Controllers/Endpoints", "Controllers/ReplicaSets", "Controllers/Rbac", "Controllers/Jobs",
            "Controllers/CronJobs", "Controllers/Revisions", "Controllers/DaemonSets", "Controllers/StatefulSets", "Controllers/Autoscaling"]),
        ("Scheduling/Framework", ["ControlLoop"]),
        ("Scheduling/Filters", ["Scheduling/Framework"]),
        ("Scheduling/Scoring", ["Scheduling/Framework"]),
        ("Scheduling", ["Scheduling/Filters", "Scheduling/Scoring"]),
        ("Nodes", ["ControlLoop", "Identity", "ResourceMetrics"]),
        ("Api/Http", ["Registry"]),
        ("Api/Storage", ["Api/Http"]),
        ("Api/Patching", ["Api/Http"]),
        ("Api/Protobuf", ["Api/Http"]),
        ("Api/Bodies", ["Api/Protobuf"]),
        ("Api/Responses", ["Api/Http", "Api/Protobuf"]),
        ("Api/Security", ["Api/Http"]),
        ("Api/Rest", ["Api/Storage", "Api/Bodies", "Api/Patching", "Api/Responses"]),
        ("Api/Discovery", ["Api/Rest", "Admission/Policies"]),
        ("Api/Authentication", ["Api/Rest", "Api/Security", "Identity"]),
        ("Api/Authorization", ["Api/Rest", "Api/Security", "ControlLoop"]),
        ("Api/Audit", ["Api/Authorization"]),
        ("Api/FlowControl", ["Api/Authorization"]),
        ("Api/Metrics", ["Api/Rest", "ResourceMetrics"]),
        ("Api/Webhooks", ["Api/Rest", "Admission/Policies", "ControlLoop"]),
        ("Api/Aggregation", ["Api/Discovery", "Api/Authorization", "Api/Webhooks"]),
        ("Api", ["Api/Discovery", "Api/Audit", "Api/Authentication", "Api/Metrics", "Api/FlowControl", "Api/Webhooks", "Api/Aggregation"]),
        ("Ui", ["Api"]),
        ("Leadership", ["Api/Security", "Api/Rest"]),
        ("", ["Ui", "Leadership", "Controllers", "Scheduling", "Nodes", "Admission/PodSecurity", "Admission/Storage", "Admission/Ingress", "Admission/Pods", "Admission/Nodes", "Admission/LimitRanges", "Admission/ResourceQuotas", "Admission/ServiceAccount", "Admission/Policies"]));

    private static readonly IReadOnlyCollection<(string From, string To)> References =
        TypeReferences.Of(typeof(ControlPlaneHosting).Assembly.Location);

    [Fact]
    public void Folders_use_only_the_layers_below_them()
    {
        var violations = Rule.Violations(References);
        Assert.True(violations.Count == 0, "Layering rule broken:\n" + string.Join("\n", violations));
    }

    [Fact]
    public void Controllers_scheduling_and_nodes_do_not_use_each_other()
    {
        foreach (var layer in new[] { "Controllers", "Scheduling", "Nodes" })
            Assert.DoesNotContain(Rule.MayUse(layer), l => l.Split('/')[0] != layer && l.Split('/')[0] is "Controllers" or "Scheduling" or "Nodes");
    }

    [Fact]
    public void Namespaces_follow_the_folders()
    {
        var mismatches = SourceFolders.Mismatches(SourceFolders.Of("Orchestrator.Master"), "Orchestrator.Master");
        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
    }

    [Fact]
    public void The_reader_sees_references_from_signatures_and_method_bodies()
    {
        var edges = Rule.LayerEdges(References);
        Assert.Contains(("Scheduling", "ControlLoop"), edges.Keys);      // Scheduler's base type
        Assert.Contains(("Api/Rest", "Api/Storage"), edges.Keys);         // handlers' constructor parameters
        Assert.Contains(("Registry/Catalog", "Store"), edges.Keys);       // ModelStrategy implements IResourceStrategy
        Assert.Equal("Api/Protobuf", Rule.LayerOf("Orchestrator.Master.Api.Protobuf.Wire.Core.Pod"));
        Assert.Equal("", Rule.LayerOf("Orchestrator.Master.ControlPlaneHosting"));
        Assert.Null(Rule.LayerOf("Program"));                                 // top-level statements: the composition root
    }
}
