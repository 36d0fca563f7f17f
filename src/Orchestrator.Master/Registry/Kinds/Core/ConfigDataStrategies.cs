using System.Text;
using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Registry.Kinds.Core;

/// <summary>core/v1 ConfigMap: data and binaryData together may hold at most 1 MiB (Kubernetes' MaxSecretSize);
/// the cause names the whole object ("[]"), as kube-apiserver's does.</summary>
internal class ConfigMapStrategy : ModelStrategy<V1ConfigMap>
{
    protected override void Validate(V1ConfigMap configMap, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        long total = (configMap.Data?.Values.Sum(v => (long)Encoding.UTF8.GetByteCount(v ?? "")) ?? 0) +
                     (configMap.BinaryData?.Values.Sum(v => (long)(v?.Length ?? 0)) ?? 0);
        if (total > DataSize.Limit) causes.Add(DataSize.TooLong("[]"));
    }
}

/// <summary>core/v1 Secret: stringData is merged into data (stringData wins, and is never stored), then data may
/// hold at most 1 MiB, as kube-apiserver does.</summary>
internal class SecretStrategy : ModelStrategy<V1Secret>
{
    protected override void Default(V1Secret secret)
    {
        if (secret.StringData is { Count: > 0 } stringData)
        {
            secret.Data ??= new Dictionary<string, byte[]>();
            foreach (var (key, value) in stringData) secret.Data[key] = Encoding.UTF8.GetBytes(value ?? "");
        }
        secret.StringData = null;
    }

    protected override void Validate(V1Secret secret, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        if ((secret.Data?.Values.Sum(v => (long)(v?.Length ?? 0)) ?? 0) > DataSize.Limit) causes.Add(DataSize.TooLong("data"));
    }
}

internal static class DataSize
{
    /// <summary>Kubernetes' MaxSecretSize, also the limit of a ConfigMap's data.</summary>
    public const int Limit = 1024 * 1024;

    public static StoreErrorCause TooLong(string field) =>
        new(field, "FieldValueTooLong", $"Too long: may not be more than {Limit} bytes");
}
