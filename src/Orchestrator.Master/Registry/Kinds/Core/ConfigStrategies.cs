using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Validation;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Registry.Kinds.Core;

/// <summary>core/v1 ConfigMap: keys are config keys, unique across data and binaryData, 1 MiB in all; once
/// <c>immutable</c>, neither the data nor the flag may change (Kubernetes' ValidateConfigMap/ValidateConfigMapUpdate).</summary>
internal sealed class ConfigMapStrategy : ModelStrategy<V1ConfigMap>
{
    protected override void Validate(V1ConfigMap cm, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        long size = 0;
        foreach (var (key, value) in cm.Data ?? new Dictionary<string, string>())
        {
            ConfigKeys.Validate($"data[{key}]", key, causes);
            size += key.Length + System.Text.Encoding.UTF8.GetByteCount(value);
        }
        foreach (var (key, value) in cm.BinaryData ?? new Dictionary<string, byte[]>())
        {
            ConfigKeys.Validate($"binaryData[{key}]", key, causes);
            if (cm.Data?.ContainsKey(key) == true) causes.Add(FieldErrors.Invalid($"data[{key}]", key, "duplicate of key present in binaryData"));
            size += key.Length + value.Length;
        }
        if (size > ConfigKeys.MaxSize)
            causes.Add(new StoreErrorCause("[]", "FieldValueTooLong", $"Too long: may not be more than {ConfigKeys.MaxSize} bytes"));
    }

    protected override void ValidateUpdate(V1ConfigMap cm, V1ConfigMap old, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        Validate(cm, context, causes);
        if (old.Immutable != true) return;
        if (cm.Immutable != true) causes.Add(FieldErrors.Forbidden("immutable", ConfigKeys.ImmutableMessage));
        if (!KubeObjects.SameJson(cm.Data ?? new Dictionary<string, string>(), old.Data ?? new Dictionary<string, string>()))
            causes.Add(FieldErrors.Forbidden("data", ConfigKeys.ImmutableMessage));
        if (!KubeObjects.SameJson(cm.BinaryData ?? new Dictionary<string, byte[]>(), old.BinaryData ?? new Dictionary<string, byte[]>()))
            causes.Add(FieldErrors.Forbidden("binaryData", ConfigKeys.ImmutableMessage));
    }
}

/// <summary>core/v1 Secret: <c>stringData</c> is merged into <c>data</c> (and never stored), the type defaults to Opaque
/// and cannot change; keys are config keys, 1 MiB in all; once <c>immutable</c>, neither the data nor the flag may change.</summary>
internal sealed class SecretStrategy : ModelStrategy<V1Secret>
{
    protected override void Default(V1Secret secret)
    {
        secret.Type ??= "Opaque";
        if (secret.StringData is not { Count: > 0 } stringData) return;
        // the API server's conversion: stringData's keys overwrite data's
        secret.Data ??= new Dictionary<string, byte[]>();
        foreach (var (key, value) in stringData) secret.Data[key] = System.Text.Encoding.UTF8.GetBytes(value);
        secret.StringData = null;
    }

    protected override void Validate(V1Secret secret, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        long size = 0;
        foreach (var (key, value) in secret.Data ?? new Dictionary<string, byte[]>())
        {
            ConfigKeys.Validate($"data[{key}]", key, causes);
            size += value.Length;
        }
        if (size > ConfigKeys.MaxSize) causes.Add(new StoreErrorCause("data", "FieldValueTooLong", $"Too long: may not be more than {ConfigKeys.MaxSize} bytes"));
        // kube-controller-manager's token controller would fill such a Secret in; this cluster has none, so one left
        // for it to fill is refused rather than left empty forever.
        if (secret.Type == ServiceAccountTokenType && secret.Data?.ContainsKey("token") != true)
            causes.Add(FieldErrors.Forbidden("type",
                "legacy ServiceAccount token Secrets are not populated by this cluster; request a token with TokenRequest (kubectl create token) instead"));
    }

    public const string ServiceAccountTokenType = "kubernetes.io/service-account-token";

    protected override void ValidateUpdate(V1Secret secret, V1Secret old, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        Validate(secret, context, causes);
        if ((secret.Type ?? "Opaque") != (old.Type ?? "Opaque")) causes.Add(FieldErrors.Invalid("type", secret.Type, "field is immutable"));
        if (old.Immutable != true) return;
        if (secret.Immutable != true) causes.Add(FieldErrors.Forbidden("immutable", ConfigKeys.ImmutableMessage));
        if (!KubeObjects.SameJson(secret.Data ?? new Dictionary<string, byte[]>(), old.Data ?? new Dictionary<string, byte[]>()))
            causes.Add(FieldErrors.Forbidden("data", ConfigKeys.ImmutableMessage));
    }
}
