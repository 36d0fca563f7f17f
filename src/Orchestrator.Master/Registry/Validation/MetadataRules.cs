using k8s.Models;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Registry.Validation;

/// <summary>The rules every object's metadata follows (apimachinery's ValidateObjectMetaAccessor and
/// ValidateObjectMetaAccessorUpdate, the parts the store does not set itself): the name and the generateName prefix by the kind's rule on create,
/// generation not negative on create, label and annotation syntax, owner references and finalizers always, and no new
/// finalizer on an object being deleted.</summary>
internal static class MetadataRules
{
    private const string OrphanDependents = "orphan", DeleteDependents = "foregroundDeletion";

    public static void Validate(V1ObjectMeta metadata, Names.Rule nameRule, List<StoreErrorCause> causes, V1ObjectMeta? old)
    {
        var name = metadata.Name ?? "";
        if (old is null)
        {
            // the prefix by the name's rule, a trailing dash read as a letter (maskTrailingDash), before the name made from it
            if (metadata.GenerateName is { Length: > 0 } prefix)
                foreach (var message in Names.Check(prefix[^1] == '-' ? prefix[..^1] + "a" : prefix, nameRule))
                    causes.Add(FieldErrors.Invalid("metadata.generateName", prefix, message));
            foreach (var message in Names.Check(name, nameRule))
                causes.Add(FieldErrors.Invalid("metadata.name", name, message));
            // the store keeps the stored generation on update; on create a kind without one keeps the client's
            if (metadata.Generation < 0) causes.Add(FieldErrors.Invalid("metadata.generation", metadata.Generation, WorkloadRules.NonNegative));
        }
        LabelRules.ValidateLabels(metadata.Labels, "metadata.labels", causes);
        LabelRules.ValidateAnnotations(metadata.Annotations, "metadata.annotations", causes);
        ValidateOwnerReferences(metadata.OwnerReferences, causes);
        ValidateFinalizers(metadata.Finalizers, causes);
        if (old?.DeletionTimestamp is not null && metadata.Finalizers is { Count: > 0 } finalizers)
        {
            var added = finalizers.Except(old.Finalizers ?? []).Distinct().Order(StringComparer.Ordinal).ToList();
            if (added.Count > 0)
                causes.Add(FieldErrors.Forbidden("metadata.finalizers",
                    $"no new finalizers can be added if the object is being deleted, found new finalizers {FieldErrors.GoStrings(added).Text}"));
        }
    }

    /// <summary>apimachinery's ValidateOwnerReferences: each reference names a version, kind, name and uid (the fields'
    /// path has no index, as Go's), an Event owns nothing, and at most one reference is the controller.</summary>
    private static void ValidateOwnerReferences(IList<V1OwnerReference>? references, List<StoreErrorCause> causes)
    {
        if (references is null) return;
        const string path = "metadata.ownerReferences";
        string? firstController = null;
        foreach (var reference in references)
        {
            var (group, version) = ApiVersions.GroupVersionOf(reference.ApiVersion);
            if (version.Length == 0) causes.Add(FieldErrors.Invalid(path + ".apiVersion", reference.ApiVersion ?? "", "version must not be empty"));
            if (string.IsNullOrEmpty(reference.Kind)) causes.Add(FieldErrors.Invalid(path + ".kind", reference.Kind ?? "", "must not be empty"));
            if (string.IsNullOrEmpty(reference.Name)) causes.Add(FieldErrors.Invalid(path + ".name", reference.Name ?? "", "must not be empty"));
            if (string.IsNullOrEmpty(reference.Uid)) causes.Add(FieldErrors.Invalid(path + ".uid", reference.Uid ?? "", "must not be empty"));
            if (group.Length == 0 && version == "v1" && reference.Kind == "Event")
                causes.Add(FieldErrors.Invalid(path, GoValue(reference), "/v1, Kind=Event is disallowed from being an owner"));
            if (reference.Controller != true) continue;
            var controller = reference.Kind + "/" + reference.Name;
            if (firstController is null) firstController = controller;
            else
                causes.Add(FieldErrors.Invalid(path, new RawValue("[]v1.OwnerReference{" + string.Join(", ", references.Select(r => GoValue(r).Text)) + "}"),
                    $"Only one reference can have Controller set to true. Found \"true\" in references for {firstController} and {controller}"));
        }
    }

    /// <summary>An owner reference in Go's %#v notation, as field errors print it (a set pointer as its value: Go prints
    /// the address).</summary>
    private static RawValue GoValue(V1OwnerReference r) =>
        new($"v1.OwnerReference{{APIVersion:{FieldErrors.Format(r.ApiVersion ?? "")}, Kind:{FieldErrors.Format(r.Kind ?? "")}, " +
            $"Name:{FieldErrors.Format(r.Name ?? "")}, UID:{FieldErrors.Format(r.Uid ?? "")}, Controller:{GoBool(r.Controller)}, " +
            $"BlockOwnerDeletion:{GoBool(r.BlockOwnerDeletion)}}}");

    private static string GoBool(bool? value) => value is null ? "(*bool)(nil)" : $"(*bool)({(value.Value ? "true" : "false")})";

    /// <summary>apimachinery's ValidateFinalizers: each a qualified name, and not both orphan and foregroundDeletion.</summary>
    private static void ValidateFinalizers(IList<string>? finalizers, List<StoreErrorCause> causes)
    {
        if (finalizers is null) return;
        foreach (var finalizer in finalizers)
        foreach (var message in LabelRules.CheckKey(finalizer))
            causes.Add(FieldErrors.Invalid("metadata.finalizers", finalizer, message));
        if (finalizers.Contains(OrphanDependents) && finalizers.Contains(DeleteDependents))
            causes.Add(FieldErrors.Invalid("metadata.finalizers", FieldErrors.GoStrings(finalizers),
                $"finalizer {OrphanDependents} and {DeleteDependents} cannot be both set"));
    }
}
