using k8s.Models;
using Orchestrator.Master.Registry.Tables;

namespace Orchestrator.Master.Registry.Kinds.FlowControl;

/// <summary>NAME PRIORITYLEVEL MATCHINGPRECEDENCE DISTINGUISHERMETHOD AGE MISSINGPL (kube's printFlowSchema: the
/// distinguisher "<none>" when there is none, MissingPL the Dangling condition's status or "?").</summary>
internal sealed class FlowSchemaTablePrinter : TablePrinter<V1FlowSchema>
{
    public override IReadOnlyList<TableColumnDefinition> Columns { get; } =
    [
        TableColumnDefinition.NameColumn,
        TableColumnDefinition.Text("PriorityLevel", "`name` is the name of the priority level configuration being referenced Required."),
        TableColumnDefinition.Text("MatchingPrecedence", "`matchingPrecedence` is used to choose among the FlowSchemas that match a given request. The chosen FlowSchema is among those with the numerically lowest (which we take to be logically highest) MatchingPrecedence.  Each MatchingPrecedence value must be ranged in [1,10000]. Note that if the precedence is not specified, it will be set to 1000 as default."),
        TableColumnDefinition.Text("DistinguisherMethod", "`distinguisherMethod` defines how to compute the flow distinguisher for requests that match this schema. `nil` specifies that the distinguisher is disabled and thus will always be the empty string."),
        TableColumnDefinition.AgeColumn,
        TableColumnDefinition.Text("MissingPL", "indicates if the referenced priority level exists"),
    ];

    protected override IReadOnlyList<object> Cells(V1FlowSchema fs, DateTime now) =>
    [
        fs.Metadata.Name, fs.Spec?.PriorityLevelConfiguration?.Name ?? "", (long)(fs.Spec?.MatchingPrecedence ?? 0),
        fs.Spec?.DistinguisherMethod?.Type ?? None, Age(fs, now),
        fs.Status?.Conditions?.FirstOrDefault(c => c.Type == "Dangling")?.Status ?? "?",
    ];
}

/// <summary>NAME TYPE NOMINALCONCURRENCYSHARES QUEUES HANDSIZE QUEUELENGTHLIMIT AGE (kube's
/// printPriorityLevelConfiguration: "&lt;none&gt;" where the level is not limited or does not queue).</summary>
internal sealed class PriorityLevelConfigurationTablePrinter : TablePrinter<V1PriorityLevelConfiguration>
{
    public override IReadOnlyList<TableColumnDefinition> Columns { get; } =
    [
        TableColumnDefinition.NameColumn,
        TableColumnDefinition.Text("Type", "`type` indicates whether this priority level is subject to limitation on request execution.  A value of `\"Exempt\"` means that requests of this priority level are not subject to a limit (and thus are never queued) and do not detract from the capacity made available to other priority levels.  A value of `\"Limited\"` means that (a) requests of this priority level _are_ subject to limits and (b) some of the server's limited capacity is made available exclusively to this priority level. Required."),
        TableColumnDefinition.Text("NominalConcurrencyShares", "`nominalConcurrencyShares` (NCS) contributes to the computation of the NominalConcurrencyLimit (NominalCL) of this level. This is the number of execution seats available at this priority level."),
        TableColumnDefinition.Text("Queues", "`queues` is the number of queues for this priority level. The queues exist independently at each apiserver. The value must be positive.  Setting it to 1 effectively precludes shufflesharding and thus makes the distinguisher method of associated flow schemas irrelevant.  This field has a default value of 64."),
        TableColumnDefinition.Text("HandSize", "`handSize` is a small positive number that configures the shuffle sharding of requests into queues.  When enqueuing a request at this priority level the request's flow identifier (a string pair) is hashed and the hash value is used to shuffle the list of queues and deal a hand of the size specified here.  The request is put into one of the shortest queues in that hand. `handSize` must be no larger than `queues`, and should be significantly smaller (so that a few heavy flows do not saturate most of the queues)."),
        TableColumnDefinition.Text("QueueLengthLimit", "`queueLengthLimit` is the maximum number of requests allowed to be waiting in a given queue of this priority level at a time; excess requests are rejected.  This value must be positive.  If not specified, it will be defaulted to 50."),
        TableColumnDefinition.AgeColumn,
    ];

    protected override IReadOnlyList<object> Cells(V1PriorityLevelConfiguration pl, DateTime now)
    {
        var limited = pl.Spec?.Limited;
        var queuing = limited?.LimitResponse?.Queuing;
        return
        [
            pl.Metadata.Name, pl.Spec?.Type ?? "", limited is null ? None : (long)(limited.NominalConcurrencyShares ?? 0),
            queuing is null ? None : (long)(queuing.Queues ?? 0), queuing is null ? None : (long)(queuing.HandSize ?? 0),
            queuing is null ? None : (long)(queuing.QueueLengthLimit ?? 0), Age(pl, now),
        ];
    }
}
