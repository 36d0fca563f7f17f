using Akka.Actor;
using k8s;
using k8s.Models;
using Orchestrator.Master.Admission.Policies;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Controllers;

/// <summary>
/// kube-controller-manager's ValidatingAdmissionPolicy status controller (pkg/controller/validatingadmissionpolicystatus):
/// a policy whose generation is newer than its <c>status.observedGeneration</c> is type-checked
/// (<see cref="PolicyTypeChecker"/>) and its status written through /status: observedGeneration and
/// <c>typeChecking.expressionWarnings</c>. A policy already checked at its generation is left alone, as in kube: the
/// check is not run again when kinds or schemas change later. It never changes a policy's spec or its enforcement.
/// </summary>
internal sealed class ValidatingAdmissionPolicyStatusController : ControllerActor
{
    public const string Policies = "validatingadmissionpolicies";
    public const string ActorName = "validatingadmissionpolicy-status-controller";
    /// <summary>kube's field manager (the controller's ControllerName); kube applies the status (an Apply entry in
    /// managedFields), this controller updates it (an Update entry).</summary>
    public const string ManagerName = "validatingadmissionpolicy-status";

    private readonly IPolicySchemaSource _schemas;

    public ValidatingAdmissionPolicyStatusController(IActorRef store, TimeSpan resync, IPolicySchemaSource schemas)
        : base(store, [Policies], resync) => _schemas = schemas;

    public static Props Props(IActorRef store, TimeSpan resync, IPolicySchemaSource schemas) =>
        Akka.Actor.Props.Create(() => new ValidatingAdmissionPolicyStatusController(store, resync, schemas));

    protected override IEnumerable<ResourceKey> AllKeys() => Cache.Keys(Policies);

    protected override void OnChanged(string resource, IKubernetesObject<V1ObjectMeta>? old, IKubernetesObject<V1ObjectMeta>? current)
    {
        if (current is not null) Enqueue(ObjectCache.KeyOf(resource, current));
    }

    protected override void Reconcile(ResourceKey key)
    {
        if (Cache.Get(key) is not V1ValidatingAdmissionPolicy policy || StatusFor(policy, _schemas) is not { } status) return;
        var updated = KubeObjects.Clone(policy);
        updated.Status = status;
        Send(new UpdateObject(Policies, updated, "status", Manager: new FieldManager(ManagerName, Subresource: "status")), key);
    }

    protected override void OnStoreReplied(StoreReplied reply)
    {
        // a conflict: the feed brings the newer policy and enqueues it again; a vanished one needs nothing
        if (reply.Failed is { } failed && failed.Error.Code is not (409 or 404) && reply.Tag is ResourceKey key)
            RequeueAfter(key, TimeSpan.FromSeconds(5));
        base.OnStoreReplied(reply);
    }

    /// <summary>The status to write: null when the policy's generation was already observed.</summary>
    internal static V1ValidatingAdmissionPolicyStatus? StatusFor(V1ValidatingAdmissionPolicy policy, IPolicySchemaSource schemas)
    {
        var generation = policy.Metadata.Generation ?? 0;
        if (generation <= (policy.Status?.ObservedGeneration ?? 0)) return null;
        var warnings = PolicyTypeChecker.Check(policy, schemas);
        return new V1ValidatingAdmissionPolicyStatus
        {
            ObservedGeneration = generation,
            // kube applies an empty list of warnings as none: typeChecking: {}
            TypeChecking = new V1TypeChecking { ExpressionWarnings = warnings.Count == 0 ? null : warnings },
            Conditions = policy.Status?.Conditions,
        };
    }
}
