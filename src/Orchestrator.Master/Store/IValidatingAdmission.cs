using k8s;
using k8s.Models;

namespace Orchestrator.Master.Store;

/// <summary>An admission plugin the store runs: a <see cref="IMutatingAdmission"/>, an <see cref="IValidatingAdmission"/>
/// or both (kube's MutationInterface and ValidationInterface), in one chain given to the store at start.</summary>
internal interface IAdmissionPlugin;

/// <summary>
/// A mutating admission plugin (kube's MutationInterface), run on every create and update the kind's strategy admitted
/// (dry runs and controllers' writes included), before the validating plugins: it changes
/// <see cref="AdmissionAttributes.Object"/> in place (the store's own copy). When a plugin changed the object, the kind's
/// strategy defaults and validates it again, as kube-apiserver validates what mutating admission produced. A refusal ends
/// the write. A plugin that is both (LimitRanger) is given once, in the store's chain of plugins.
/// </summary>
internal interface IMutatingAdmission : IAdmissionPlugin
{
    /// <summary>What the plugin did: <see cref="AdmissionMutation.None"/> when it left the object alone.</summary>
    AdmissionMutation Admit(AdmissionAttributes attributes, IAdmissionContext context);
}

/// <summary>A mutating plugin's answer: whether it changed the object, or its refusal.</summary>
internal sealed record AdmissionMutation(bool Changed, StoreError? Refusal = null)
{
    public static readonly AdmissionMutation None = new(false), Mutated = new(true);

    public static AdmissionMutation Refuse(StoreError refusal) => new(false, refusal);
}

/// <summary>
/// A validating admission plugin, as kube-apiserver runs them after the kind's own defaulting and validation: the
/// store calls every one on each create and update (subresource updates included, /status too — a plugin ignores
/// what it does not judge) that its strategy admitted, dry runs included, controllers' writes included. What a plugin
/// needs of other objects it reads through the <see cref="IAdmissionContext"/>, against the state the write is
/// planned on. Given to the store at start (the composition root); the store never knows which plugins there are.
/// </summary>
internal interface IValidatingAdmission : IAdmissionPlugin
{
    /// <summary>Null when the plugin has nothing to say; otherwise a refusal and/or warnings and audit annotations.</summary>
    AdmissionVerdict? Validate(AdmissionAttributes attributes, IAdmissionContext context);

    /// <summary>Whether the plugin is also called on deletes (<see cref="AdmissionAttributes.Delete"/>), before the store
    /// plans what a delete removes; most plugins judge only what is written.</summary>
    bool ValidatesDeletes => false;
}

/// <summary>What is being written: the resource, CREATE or UPDATE (or DELETE, for the plugins that
/// <see cref="IValidatingAdmission.ValidatesDeletes"/>: then <see cref="Object"/> and <see cref="Old"/> are both the stored
/// object, which kube passes as the old object alone), the subresource (null for the main resource), the object as it will
/// be stored (defaulted, with its generated name) and the stored one on update; the requesting user's name when an API
/// request wrote it, and all of that user (<see cref="UserInfo"/>); whether the request is a dry run.</summary>
internal sealed record AdmissionAttributes(IStoredResource Resource, string Operation, string? Subresource,
    IKubernetesObject<V1ObjectMeta> Object, IKubernetesObject<V1ObjectMeta>? Old)
{
    public const string Create = "CREATE", Update = "UPDATE", Delete = "DELETE";
    public string? User { get; init; }
    public AdmissionUser? UserInfo { get; init; }
    public bool DryRun { get; init; }
}

/// <summary>The requesting user as authentication found it (k8s.io/apiserver's user.Info), for the plugins that read
/// more than the name (ValidatingAdmissionPolicies' request.userInfo).</summary>
internal sealed record AdmissionUser(string Name, string Uid, IReadOnlyList<string> Groups,
    IReadOnlyDictionary<string, IReadOnlyList<string>> Extra);

/// <summary>A plugin's answer: a refusal (nothing is written) or not, warnings for the client and annotations for the
/// request's audit event (with the plugin's key prefix, "pod-security.kubernetes.io/enforce-policy").</summary>
internal sealed record AdmissionVerdict(StoreError? Refusal, IReadOnlyList<string> Warnings,
    IReadOnlyDictionary<string, string> AuditAnnotations)
{
    /// <summary>Objects written in the same journal record as the admitted one (kube's quota admission charging
    /// status.used of the quotas a create consumes): planned against the same state, so concurrent writes, which the
    /// store plans one after another, never both take the last unit of a quota.</summary>
    public IReadOnlyList<PlannedWrite> Writes { get; init; } = [];

    public static AdmissionVerdict Annotated(IReadOnlyDictionary<string, string> annotations) => new(null, [], annotations);
}
