using k8s;
using k8s.Models;

namespace Orchestrator.Master.Store;

/// <summary>An admission plugin the store runs: a <see cref="IMutatingAdmission"/>, an <see cref="IValidatingAdmission"/>
/// or both (kube's MutationInterface and ValidationInterface), in one chain given to the store at start.</summary>
internal interface IAdmissionPlugin;

/// <summary>
/// A mutating admission plugin, as kube-apiserver runs them before the kind's own defaulting and validation: the store
/// calls every one on each create and update it is asked for (dry runs and controllers' writes included), with the
/// object as the request sent it (its own copy: the plugin changes it in place). A refusal ends the write. Mutations
/// run in the order of the chain, all before any validation.
/// </summary>
internal interface IMutatingAdmission : IAdmissionPlugin
{
    /// <summary>Null to let the write go on (with whatever the plugin changed); otherwise the refusal.</summary>
    StoreError? Admit(AdmissionAttributes attributes, IAdmissionContext context);
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
}

/// <summary>What is being written: the resource, CREATE or UPDATE, the subresource (null for the main resource), the
/// object as it will be stored (defaulted, with its generated name) and the stored one on update.</summary>
internal sealed record AdmissionAttributes(IStoredResource Resource, string Operation, string? Subresource,
    IKubernetesObject<V1ObjectMeta> Object, IKubernetesObject<V1ObjectMeta>? Old)
{
    public const string Create = "CREATE", Update = "UPDATE";
}

/// <summary>A plugin's answer: a refusal (nothing is written) or not, warnings for the client and annotations for the
/// request's audit event (with the plugin's key prefix, "pod-security.kubernetes.io/enforce-policy").</summary>
internal sealed record AdmissionVerdict(StoreError? Refusal, IReadOnlyList<string> Warnings,
    IReadOnlyDictionary<string, string> AuditAnnotations)
{
    public static AdmissionVerdict Annotated(IReadOnlyDictionary<string, string> annotations) => new(null, [], annotations);
}
