using k8s.Models;
using Orchestrator.Master.Registry.Tables;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Registry.Kinds.Apps;

/// <summary>NAME DESIRED CURRENT READY UP-TO-DATE AVAILABLE NODE SELECTOR AGE; wide: CONTAINERS IMAGES SELECTOR.</summary>
internal sealed class DaemonSetTablePrinter : TablePrinter<V1DaemonSet>
{
    public override IReadOnlyList<TableColumnDefinition> Columns { get; } =
    [
        TableColumnDefinition.NameColumn,
        TableColumnDefinition.Integer("Desired", "The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod)."),
        TableColumnDefinition.Integer("Current", "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod."),
        TableColumnDefinition.Integer("Ready", "numberReady is the number of nodes that should be running the daemon pod and have one or more of the daemon pod running with a Ready Condition."),
        TableColumnDefinition.Integer("Up-to-date", "The total number of nodes that are running updated daemon pod"),
        TableColumnDefinition.Integer("Available", "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)"),
        TableColumnDefinition.Text("Node Selector", "NodeSelector is a selector which must be true for the pod to fit on a node. Selector which must match a node's labels for the pod to be scheduled on that node."),
        TableColumnDefinition.AgeColumn,
        TableColumnDefinition.Text("Containers", "Names of each container in the template.", 1),
        TableColumnDefinition.Text("Images", "Images referenced by each container in the template.", 1),
        TableColumnDefinition.Text("Selector", "A label query over pods that are managed by the daemon set.", 1),
    ];

    protected override IReadOnlyList<object> Cells(V1DaemonSet ds, DateTime now) =>
    [
        ds.Metadata.Name, (long)(ds.Status?.DesiredNumberScheduled ?? 0), (long)(ds.Status?.CurrentNumberScheduled ?? 0),
        (long)(ds.Status?.NumberReady ?? 0), (long)(ds.Status?.UpdatedNumberScheduled ?? 0), (long)(ds.Status?.NumberAvailable ?? 0),
        FormatLabels(ds.Spec?.Template?.Spec?.NodeSelector), Age(ds, now),
        ContainerNames(ds.Spec?.Template), ContainerImages(ds.Spec?.Template), FormatSelector(ds.Spec?.Selector),
    ];
}

/// <summary>NAME READY AGE; wide: CONTAINERS IMAGES.</summary>
internal sealed class StatefulSetTablePrinter : TablePrinter<V1StatefulSet>
{
    public override IReadOnlyList<TableColumnDefinition> Columns { get; } =
    [
        TableColumnDefinition.NameColumn,
        TableColumnDefinition.Text("Ready", "Number of the pod with ready state"),
        TableColumnDefinition.AgeColumn,
        TableColumnDefinition.Text("Containers", "Names of each container in the template.", 1),
        TableColumnDefinition.Text("Images", "Images referenced by each container in the template.", 1),
    ];

    protected override IReadOnlyList<object> Cells(V1StatefulSet sts, DateTime now) =>
    [
        sts.Metadata.Name, $"{sts.Status?.ReadyReplicas ?? 0}/{sts.Spec?.Replicas ?? 1}", Age(sts, now),
        ContainerNames(sts.Spec?.Template), ContainerImages(sts.Spec?.Template),
    ];
}

/// <summary>NAME CONTROLLER REVISION AGE; CONTROLLER is kind.group/name of the controller reference.</summary>
internal sealed class ControllerRevisionTablePrinter : TablePrinter<V1ControllerRevision>
{
    public override IReadOnlyList<TableColumnDefinition> Columns { get; } =
    [
        TableColumnDefinition.NameColumn,
        TableColumnDefinition.Text("Controller", "Controller of the object"),
        TableColumnDefinition.Integer("Revision", "Revision indicates the revision of the state represented by Data."),
        TableColumnDefinition.AgeColumn,
    ];

    protected override IReadOnlyList<object> Cells(V1ControllerRevision revision, DateTime now)
    {
        var owner = revision.Metadata.OwnerReferences?.FirstOrDefault(r => r.Controller == true);
        var controller = None;
        if (owner is not null)
        {
            var (group, _) = ApiVersions.GroupVersionOf(owner.ApiVersion);
            var kind = owner.Kind.ToLowerInvariant();
            controller = group.Length == 0 ? $"{kind}/{owner.Name}" : $"{kind}.{group}/{owner.Name}";
        }
        return [revision.Metadata.Name, controller, revision.Revision ?? 0, Age(revision, now)];
    }
}
