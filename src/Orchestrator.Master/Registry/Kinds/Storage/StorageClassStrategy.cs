using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Validation;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Registry.Kinds.Storage;

/// <summary>storage/v1 StorageClass (ValidateStorageClass): a provisioner that is a qualified name, parameters with
/// non-empty keys (at most 512 of them, 256 KiB in all), reclaimPolicy Delete (default) or Retain, volumeBindingMode
/// Immediate (default) or WaitForFirstConsumer, allowed topologies with keys and values; provisioner, parameters,
/// reclaimPolicy and volumeBindingMode may not change.</summary>
internal sealed class StorageClassStrategy : ModelStrategy<V1StorageClass>
{
    public const string DefaultAnnotation = "storageclass.kubernetes.io/is-default-class";
    public const string BetaDefaultAnnotation = "storageclass.beta.kubernetes.io/is-default-class";

    /// <summary>storageutil.IsDefaultAnnotation: the class claims without a class get.</summary>
    public static bool IsDefault(V1ObjectMeta? metadata) =>
        metadata?.Annotations is { } a &&
        ((a.TryGetValue(DefaultAnnotation, out var v) && v == "true") || (a.TryGetValue(BetaDefaultAnnotation, out var b) && b == "true"));

    protected override void Default(V1StorageClass sc)
    {
        sc.ReclaimPolicy ??= "Delete";
        sc.VolumeBindingMode ??= "Immediate";
    }

    protected override void Validate(V1StorageClass sc, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        if (string.IsNullOrEmpty(sc.Provisioner)) causes.Add(FieldErrors.Required("provisioner"));
        else
            foreach (var message in LabelRules.CheckKey(sc.Provisioner.ToLowerInvariant()))
                causes.Add(FieldErrors.Invalid("provisioner", sc.Provisioner.ToLowerInvariant(), message));
        StorageRules.ValidateParameters(sc.Parameters, "parameters", causes);
        if (sc.ReclaimPolicy is { Length: > 0 } policy && policy is not ("Delete" or "Retain"))
            causes.Add(FieldErrors.NotSupported("reclaimPolicy", policy, ["Delete", "Retain"]));
        if (sc.VolumeBindingMode is not ("Immediate" or "WaitForFirstConsumer"))
            causes.Add(FieldErrors.NotSupported("volumeBindingMode", sc.VolumeBindingMode, ["Immediate", "WaitForFirstConsumer"]));
        for (var i = 0; i < (sc.AllowedTopologies?.Count ?? 0); i++)
            StorageRules.ValidateTopologyTerm(sc.AllowedTopologies![i], $"allowedTopologies[{i}]", causes);
    }

    protected override void ValidateUpdate(V1StorageClass sc, V1StorageClass old, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        Validate(sc, context, causes);
        if (!SameMap(sc.Parameters, old.Parameters))
            causes.Add(FieldErrors.Forbidden("parameters", "updates to parameters are forbidden."));
        if (sc.Provisioner != old.Provisioner)
            causes.Add(FieldErrors.Forbidden("provisioner", "updates to provisioner are forbidden."));
        if (sc.ReclaimPolicy != old.ReclaimPolicy)
            causes.Add(FieldErrors.Forbidden("reclaimPolicy", "updates to reclaimPolicy are forbidden."));
        if (sc.VolumeBindingMode != old.VolumeBindingMode)
            causes.Add(FieldErrors.Invalid("volumeBindingMode", sc.VolumeBindingMode, "field is immutable"));
    }

    private static bool SameMap(IDictionary<string, string>? a, IDictionary<string, string>? b) =>
        (a?.Count ?? 0) == (b?.Count ?? 0) && (a is null || a.All(kv => b!.TryGetValue(kv.Key, out var v) && v == kv.Value));
}

/// <summary>Rules shared by the storage kinds.</summary>
internal static class StorageRules
{
    private const int MaxParameters = 512;
    private const int MaxParameterBytes = 256 * 1024;

    public static void ValidateParameters(IDictionary<string, string>? parameters, string path, List<StoreErrorCause> causes)
    {
        if (parameters is null) return;
        if (parameters.Count > MaxParameters)
        {
            causes.Add(new StoreErrorCause(path, "FieldValueTooLong",
                $"Too long: may not be more than {MaxParameters} bytes"));
            return;
        }
        long size = 0;
        foreach (var (key, value) in parameters)
        {
            if (key.Length < 1) causes.Add(FieldErrors.Invalid(path, key, "field can not be empty."));
            size += key.Length + value.Length;
        }
        if (size > MaxParameterBytes)
            causes.Add(new StoreErrorCause(path, "FieldValueTooLong", $"Too long: may not be more than {MaxParameterBytes} bytes"));
    }

    /// <summary>ValidateTopologySelectorTerm: each requirement has a label key and at least one value.</summary>
    public static void ValidateTopologyTerm(V1TopologySelectorTerm term, string path, List<StoreErrorCause> causes)
    {
        var requirements = term.MatchLabelExpressions ?? [];
        var keys = new HashSet<string>();
        for (var j = 0; j < requirements.Count; j++)
        {
            var at = $"{path}.matchLabelExpressions[{j}]";
            var req = requirements[j];
            foreach (var message in LabelRules.CheckKey(req.Key ?? ""))
                causes.Add(FieldErrors.Invalid($"{at}.key", req.Key ?? "", message));
            if (req.Values is not { Count: > 0 })
                causes.Add(FieldErrors.Required($"{at}.values", "must specify as least one value"));
            foreach (var value in req.Values ?? [])
                foreach (var message in LabelRules.CheckValue(value))
                    causes.Add(FieldErrors.Invalid($"{at}.values", value, message));
            if (req.Key is { } key && !keys.Add(key))
                causes.Add(FieldErrors.Duplicate($"{path}.matchLabelExpressions[{j}].key", key));
        }
    }
}
