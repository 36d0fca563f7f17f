using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Registry.Kinds.FlowControl;

/// <summary>flowcontrol/v1 FlowSchema (pkg/registry/flowcontrol/flowschema/strategy.go): matchingPrecedence 1000 by
/// default; status starts empty, is kept on updates and written through /status (validated: condition types present
/// and unique); generation counts spec changes.</summary>
internal sealed class FlowSchemaStrategy : ModelStrategy<V1FlowSchema>
{
    public const int DefaultMatchingPrecedence = 1000;

    protected override bool ValidatesStatusUpdates => true;

    protected override void PrepareForCreate(V1FlowSchema fs) => fs.Status = new V1FlowSchemaStatus();

    protected override void Default(V1FlowSchema fs)
    {
        fs.Spec ??= new V1FlowSchemaSpec();
        if (fs.Spec.MatchingPrecedence is null or 0) fs.Spec.MatchingPrecedence = DefaultMatchingPrecedence;
    }

    protected override void Validate(V1FlowSchema fs, IAdmissionContext context, List<StoreErrorCause> causes) =>
        FlowControlRules.ValidateFlowSchema(fs, causes);

    protected override void ValidateSubresourceUpdate(string subresource, V1FlowSchema fs, V1FlowSchema old, IAdmissionContext context,
        List<StoreErrorCause> causes)
    {
        if (subresource == "status") FlowControlRules.ValidateConditions(fs.Status?.Conditions?.Select(c => c.Type).ToList(), causes);
        else Validate(fs, context, causes);
    }
}

/// <summary>flowcontrol/v1 PriorityLevelConfiguration: v1's defaults (an exempt level's shares and lendable percent
/// 0; a limited level's shares 30 and lendable percent 0; queuing 64 queues, hand size 8, queue length 50), status
/// as for FlowSchemas.</summary>
internal sealed class PriorityLevelConfigurationStrategy : ModelStrategy<V1PriorityLevelConfiguration>
{
    public const int DefaultNominalConcurrencyShares = 30;

    protected override bool ValidatesStatusUpdates => true;

    protected override void PrepareForCreate(V1PriorityLevelConfiguration pl) => pl.Status = new V1PriorityLevelConfigurationStatus();

    protected override void Default(V1PriorityLevelConfiguration pl)
    {
        pl.Spec ??= new V1PriorityLevelConfigurationSpec();
        if (pl.Spec.Exempt is { } exempt)
        {
            exempt.NominalConcurrencyShares ??= 0;
            exempt.LendablePercent ??= 0;
        }
        if (pl.Spec.Limited is not { } limited) return;
        limited.NominalConcurrencyShares ??= DefaultNominalConcurrencyShares;
        limited.LendablePercent ??= 0;
        if (limited.LimitResponse?.Queuing is { } queuing)
        {
            if (queuing.HandSize is null or 0) queuing.HandSize = 8;
            if (queuing.Queues is null or 0) queuing.Queues = 64;
            if (queuing.QueueLengthLimit is null or 0) queuing.QueueLengthLimit = 50;
        }
    }

    protected override void Validate(V1PriorityLevelConfiguration pl, IAdmissionContext context, List<StoreErrorCause> causes) =>
        FlowControlRules.ValidatePriorityLevel(pl, causes);

    protected override void ValidateSubresourceUpdate(string subresource, V1PriorityLevelConfiguration pl, V1PriorityLevelConfiguration old,
        IAdmissionContext context, List<StoreErrorCause> causes)
    {
        if (subresource == "status") FlowControlRules.ValidateConditions(pl.Status?.Conditions?.Select(c => c.Type).ToList(), causes);
        else Validate(pl, context, causes);
    }
}
