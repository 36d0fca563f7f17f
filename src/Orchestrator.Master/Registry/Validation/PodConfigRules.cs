using k8s.Models;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Registry.Validation;

/// <summary>
/// Defaults and validation of how a pod uses configuration (Kubernetes' SetDefaults_* and validateEnv, validateEnvFrom,
/// validateVolumeSource for configMap, secret, downwardAPI and projected): env <c>valueFrom</c> with exactly one source,
/// the downward API's field paths and resources, key and path rules of <c>items</c>, file modes. A projected
/// serviceAccountToken source (nodes do not project tokens yet; TokenRequest issues them) or clusterTrustBundle source is refused.
/// </summary>
internal static class PodConfigRules
{
    private const int DefaultMode = 0x1A4; // 0644

    private static readonly string[] EnvFieldPaths =
    [
        "metadata.annotations", "metadata.labels", "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName",
        "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs",
    ];

    private static readonly string[] VolumeFieldPaths = ["metadata.annotations", "metadata.labels", "metadata.name", "metadata.namespace", "metadata.uid"];

    private static readonly string[] Resources =
        ["limits.cpu", "limits.ephemeral-storage", "limits.memory", "requests.cpu", "requests.ephemeral-storage", "requests.memory"];

    private static readonly string[] CpuDivisors = ["1m", "1"];
    private static readonly string[] MemoryDivisors = ["1", "1k", "1M", "1G", "1T", "1P", "1E", "1Ki", "1Mi", "1Gi", "1Ti", "1Pi", "1Ei"];

    public static void Default(V1PodSpec spec)
    {
        foreach (var c in (spec.InitContainers ?? []).Concat(spec.Containers ?? []))
            foreach (var env in c.Env ?? [])
                if (env.ValueFrom?.FieldRef is { } fieldRef) fieldRef.ApiVersion ??= "v1";
        foreach (var volume in spec.Volumes ?? [])
        {
            // SetDefaults_Volume: a volume naming no source is an emptyDir (kubectl apply's retainKeys test relies on it)
            if (HasNoSource(volume)) volume.EmptyDir = new V1EmptyDirVolumeSource();
            if (volume.ConfigMap is { } cm) cm.DefaultMode ??= DefaultMode;
            if (volume.Secret is { } secret) secret.DefaultMode ??= DefaultMode;
            // SetDefaults_HostPathVolumeSource: an unset type is HostPathUnset, "" (no check before the mount).
            if (volume.HostPath is { } hostPath) hostPath.Type ??= "";
            if (volume.DownwardAPI is { } downward)
            {
                downward.DefaultMode ??= DefaultMode;
                foreach (var item in downward.Items ?? []) if (item.FieldRef is { } f) f.ApiVersion ??= "v1";
            }
            if (volume.Projected is { } projected)
            {
                projected.DefaultMode ??= DefaultMode;
                foreach (var token in (projected.Sources ?? []).Select(s => s.ServiceAccountToken).OfType<V1ServiceAccountTokenProjection>())
                    token.ExpirationSeconds ??= 3600;
                foreach (var item in (projected.Sources ?? []).SelectMany(s => s.DownwardAPI?.Items ?? []))
                    if (item.FieldRef is { } f) f.ApiVersion ??= "v1";
            }
        }
    }

    private static readonly System.Reflection.PropertyInfo[] VolumeSources =
        typeof(V1Volume).GetProperties().Where(p => p.Name != nameof(V1Volume.Name)).ToArray();

    private static bool HasNoSource(V1Volume volume) => VolumeSources.All(p => p.GetValue(volume) is null);

    public static void ValidateContainer(V1Container c, string at, List<StoreErrorCause> causes)
    {
        for (var i = 0; i < (c.Env?.Count ?? 0); i++)
        {
            var env = c.Env![i];
            var path = $"{at}.env[{i}]";
            if (string.IsNullOrEmpty(env.Name)) causes.Add(FieldErrors.Required($"{path}.name"));
            if (env.ValueFrom is not { } from) continue;
            var fromPath = $"{path}.valueFrom";
            var sources = new object?[] { from.FieldRef, from.ResourceFieldRef, from.ConfigMapKeyRef, from.SecretKeyRef }.Count(s => s is not null);
            if (!string.IsNullOrEmpty(env.Value)) causes.Add(FieldErrors.Invalid(fromPath, "", "may not be specified when `value` is not empty"));
            if (sources == 0) causes.Add(FieldErrors.Invalid(fromPath, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"));
            else if (sources > 1) causes.Add(FieldErrors.Invalid(fromPath, "", "may not have more than one field specified at a time"));
            if (from.FieldRef is { } fieldRef) ValidateFieldRef(fieldRef, $"{fromPath}.fieldRef", EnvFieldPaths, subscripts: true, causes);
            if (from.ResourceFieldRef is { } resourceRef) ValidateResourceRef(resourceRef, $"{fromPath}.resourceFieldRef", containerRequired: false, causes);
            if (from.ConfigMapKeyRef is { } cmRef) ValidateKeyRef(cmRef.Name, cmRef.Key, $"{fromPath}.configMapKeyRef", causes);
            if (from.SecretKeyRef is { } secretRef) ValidateKeyRef(secretRef.Name, secretRef.Key, $"{fromPath}.secretKeyRef", causes);
        }
        for (var i = 0; i < (c.EnvFrom?.Count ?? 0); i++)
        {
            var from = c.EnvFrom![i];
            var path = $"{at}.envFrom[{i}]";
            var count = (from.ConfigMapRef is null ? 0 : 1) + (from.SecretRef is null ? 0 : 1);
            if (count == 0) causes.Add(FieldErrors.Invalid(path, "", "must specify one of: `configMapRef` or `secretRef`"));
            else if (count > 1) causes.Add(FieldErrors.Invalid(path, "", "may not have more than one field specified at a time"));
            if (from.ConfigMapRef is { } cm && string.IsNullOrEmpty(cm.Name)) causes.Add(FieldErrors.Required($"{path}.configMapRef.name"));
            if (from.SecretRef is { } secret && string.IsNullOrEmpty(secret.Name)) causes.Add(FieldErrors.Required($"{path}.secretRef.name"));
        }
    }

    public static void ValidateVolumes(IList<V1Volume>? volumes, string at, List<StoreErrorCause> causes)
    {
        for (var i = 0; i < (volumes?.Count ?? 0); i++)
        {
            var volume = volumes![i];
            var path = $"{at}[{i}]";
            ValidateVolumeType(volume, path, causes);
            if (volume.ConfigMap is { } cm)
            {
                if (string.IsNullOrEmpty(cm.Name)) causes.Add(FieldErrors.Required($"{path}.configMap.name"));
                ValidateMode(cm.DefaultMode, $"{path}.configMap.defaultMode", causes);
                ValidateItems(cm.Items, $"{path}.configMap.items", causes);
            }
            if (volume.Secret is { } secret)
            {
                if (string.IsNullOrEmpty(secret.SecretName)) causes.Add(FieldErrors.Required($"{path}.secret.secretName"));
                ValidateMode(secret.DefaultMode, $"{path}.secret.defaultMode", causes);
                ValidateItems(secret.Items, $"{path}.secret.items", causes);
            }
            if (volume.DownwardAPI is { } downward)
            {
                ValidateMode(downward.DefaultMode, $"{path}.downwardAPI.defaultMode", causes);
                ValidateDownwardItems(downward.Items, $"{path}.downwardAPI", causes);
            }
            if (volume.Projected is { } projected) ValidateProjected(projected, $"{path}.projected", causes);
            if (volume.PersistentVolumeClaim is { } claim && string.IsNullOrEmpty(claim.ClaimName))
                causes.Add(FieldErrors.Required($"{path}.persistentVolumeClaim.claimName"));
            if (volume.Ephemeral is { } ephemeral) ValidateEphemeral(ephemeral, $"{path}.ephemeral", causes);
        }
    }

    /// <summary>The volume types the nodes mount; any other is refused rather than skipped by the node.</summary>
    private static readonly HashSet<string> MountedTypes =
        ["emptyDir", "hostPath", "configMap", "secret", "downwardAPI", "projected", "persistentVolumeClaim", "ephemeral"];

    /// <summary>Exactly one volume source, as Kubernetes requires, and one these nodes mount.</summary>
    private static void ValidateVolumeType(V1Volume volume, string path, List<StoreErrorCause> causes)
    {
        var types = ((System.Text.Json.Nodes.JsonObject)System.Text.Json.Nodes.JsonNode.Parse(KubeObjects.Serialize(volume))!)
            .Where(kv => kv.Key != "name" && kv.Value is not null).Select(kv => kv.Key).ToList();
        if (types.Count == 0)
            causes.Add(FieldErrors.Required(path, "must specify a volume type"));
        else if (types.Count > 1)
            causes.Add(FieldErrors.Forbidden($"{path}.{types[1]}", "may not specify more than 1 volume type"));
        else if (!MountedTypes.Contains(types[0]))
            causes.Add(FieldErrors.Forbidden($"{path}.{types[0]}",
                $"{types[0]} volumes are not supported by this cluster's nodes (supported: {string.Join(", ", MountedTypes)})"));
    }

    /// <summary>An ephemeral volume needs a claim template with access modes and a storage request (the claim's own rules
    /// are checked when the ephemeral volume controller creates it).</summary>
    private static void ValidateEphemeral(V1EphemeralVolumeSource ephemeral, string path, List<StoreErrorCause> causes)
    {
        if (ephemeral.VolumeClaimTemplate is not { } template)
        {
            causes.Add(FieldErrors.Required($"{path}.volumeClaimTemplate"));
            return;
        }
        if (template.Spec?.AccessModes is not { Count: > 0 })
            causes.Add(FieldErrors.Required($"{path}.volumeClaimTemplate.spec.accessModes", "at least 1 access mode is required"));
        if (template.Spec?.Resources?.Requests?.ContainsKey("storage") != true)
            causes.Add(FieldErrors.Required($"{path}.volumeClaimTemplate.spec.resources[storage]"));
    }

    private static void ValidateProjected(V1ProjectedVolumeSource projected, string path, List<StoreErrorCause> causes)
    {
        ValidateMode(projected.DefaultMode, $"{path}.defaultMode", causes);
        var paths = new HashSet<string>(StringComparer.Ordinal);
        for (var j = 0; j < (projected.Sources?.Count ?? 0); j++)
        {
            var source = projected.Sources![j];
            var at = $"{path}.sources[{j}]";
            var count = new object?[] { source.ConfigMap, source.Secret, source.DownwardAPI, source.ServiceAccountToken, source.ClusterTrustBundle }
                .Count(s => s is not null);
            if (count > 1) causes.Add(FieldErrors.Forbidden(at, "may not specify more than 1 volume type per source"));
            if (source.ConfigMap is { } cm)
            {
                if (string.IsNullOrEmpty(cm.Name)) causes.Add(FieldErrors.Required($"{at}.configMap.name"));
                ValidateItems(cm.Items, $"{at}.configMap.items", causes, paths);
            }
            if (source.Secret is { } secret)
            {
                if (string.IsNullOrEmpty(secret.Name)) causes.Add(FieldErrors.Required($"{at}.secret.name"));
                ValidateItems(secret.Items, $"{at}.secret.items", causes, paths);
            }
            if (source.DownwardAPI is { } downward) ValidateDownwardItems(downward.Items, $"{at}.downwardAPI", causes, paths);
            if (source.ServiceAccountToken is { } token)
            {
                var tokenAt = $"{at}.serviceAccountToken";
                if (token.ExpirationSeconds < 10 * 60)
                    causes.Add(FieldErrors.Invalid($"{tokenAt}.expirationSeconds", token.ExpirationSeconds, "may not specify a duration less than 10 minutes"));
                if (token.ExpirationSeconds > 1L << 32)
                    causes.Add(FieldErrors.Invalid($"{tokenAt}.expirationSeconds", token.ExpirationSeconds, "may not specify a duration larger than 2^32 seconds"));
                ValidatePath(token.Path, $"{tokenAt}.path", causes, paths);
            }
            // dropped on create (ClusterTrustBundleProjection is off in 1.32): left only in a stored object's update
            if (source.ClusterTrustBundle is not null)
                causes.Add(FieldErrors.Forbidden($"{at}.clusterTrustBundle", "ClusterTrustBundle projections are not supported by this cluster"));
        }
    }

    private static void ValidateKeyRef(string? name, string? key, string path, List<StoreErrorCause> causes)
    {
        if (string.IsNullOrEmpty(name)) causes.Add(FieldErrors.Required($"{path}.name"));
        if (string.IsNullOrEmpty(key)) causes.Add(FieldErrors.Required($"{path}.key"));
        else ConfigKeys.Validate($"{path}.key", key, causes);
    }

    private static void ValidateItems(IList<V1KeyToPath>? items, string path, List<StoreErrorCause> causes, HashSet<string>? paths = null)
    {
        for (var k = 0; k < (items?.Count ?? 0); k++)
        {
            var item = items![k];
            var at = $"{path}[{k}]";
            if (string.IsNullOrEmpty(item.Key)) causes.Add(FieldErrors.Required($"{at}.key"));
            ValidatePath(item.Path, $"{at}.path", causes, paths);
            ValidateMode(item.Mode, $"{at}.mode", causes);
        }
    }

    private static void ValidateDownwardItems(IList<V1DownwardAPIVolumeFile>? items, string path, List<StoreErrorCause> causes, HashSet<string>? paths = null)
    {
        for (var k = 0; k < (items?.Count ?? 0); k++)
        {
            var item = items![k];
            var at = $"{path}.items[{k}]";
            ValidatePath(item.Path, $"{at}.path", causes, paths);
            ValidateMode(item.Mode, $"{at}.mode", causes);
            if (item.FieldRef is not null && item.ResourceFieldRef is not null)
                causes.Add(FieldErrors.Invalid(at, "resource", "fieldRef and resourceFieldRef can not be specified simultaneously"));
            else if (item.FieldRef is null && item.ResourceFieldRef is null)
                causes.Add(FieldErrors.Required(at, "one of fieldRef and resourceFieldRef is required"));
            if (item.FieldRef is { } fieldRef) ValidateFieldRef(fieldRef, $"{at}.fieldRef", VolumeFieldPaths, subscripts: true, causes);
            if (item.ResourceFieldRef is { } resourceRef) ValidateResourceRef(resourceRef, $"{at}.resourceFieldRef", containerRequired: true, causes);
        }
    }

    private static void ValidateFieldRef(V1ObjectFieldSelector fieldRef, string path, string[] allowed, bool subscripts, List<StoreErrorCause> causes)
    {
        if (string.IsNullOrEmpty(fieldRef.FieldPath))
        {
            causes.Add(FieldErrors.Required($"{path}.fieldPath"));
            return;
        }
        if (fieldRef.ApiVersion is { } version && version != "v1")
        {
            causes.Add(FieldErrors.Invalid($"{path}.fieldPath", fieldRef.FieldPath, $"error converting fieldPath: field label not supported: {fieldRef.FieldPath}"));
            return;
        }
        var fieldPath = fieldRef.FieldPath;
        if (subscripts && (fieldPath.StartsWith("metadata.labels[", StringComparison.Ordinal) || fieldPath.StartsWith("metadata.annotations[", StringComparison.Ordinal)))
        {
            var open = fieldPath.IndexOf('[');
            var valid = fieldPath.EndsWith("']", StringComparison.Ordinal) && fieldPath.Length > open + 4 && fieldPath[open + 1] == '\'';
            if (!valid) causes.Add(FieldErrors.Invalid($"{path}.fieldPath", fieldPath, "error converting fieldPath: field label not supported"));
            return;
        }
        if (!allowed.Contains(fieldPath)) causes.Add(FieldErrors.NotSupported($"{path}.fieldPath", fieldPath, allowed));
    }

    private static void ValidateResourceRef(V1ResourceFieldSelector selector, string path, bool containerRequired, List<StoreErrorCause> causes)
    {
        if (containerRequired && string.IsNullOrEmpty(selector.ContainerName)) causes.Add(FieldErrors.Required($"{path}.containerName"));
        if (string.IsNullOrEmpty(selector.Resource))
        {
            causes.Add(FieldErrors.Required($"{path}.resource"));
            return;
        }
        if (!Resources.Contains(selector.Resource))
        {
            causes.Add(FieldErrors.NotSupported($"{path}.resource", selector.Resource, Resources));
            return;
        }
        if (selector.Divisor is not { } divisor) return;
        var text = divisor.ToString();
        var allowed = selector.Resource.EndsWith(".cpu", StringComparison.Ordinal) ? CpuDivisors : MemoryDivisors;
        if (!allowed.Contains(text))
            causes.Add(FieldErrors.Invalid($"{path}.divisor", text, selector.Resource.EndsWith(".cpu", StringComparison.Ordinal)
                ? "only divisor's values 1m and 1 are supported with the cpu resource"
                : "only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei are supported with the memory resource"));
    }

    /// <summary>validateLocalDescendingPath, and unique paths within one volume.</summary>
    private static void ValidatePath(string? value, string path, List<StoreErrorCause> causes, HashSet<string>? paths)
    {
        if (string.IsNullOrEmpty(value))
        {
            causes.Add(FieldErrors.Required(path));
            return;
        }
        if (value.StartsWith('/')) causes.Add(FieldErrors.Invalid(path, value, "must be a relative path"));
        if (value.Split('/').Contains("..")) causes.Add(FieldErrors.Invalid(path, value, "must not contain '..'"));
        if (value.StartsWith("..", StringComparison.Ordinal)) causes.Add(FieldErrors.Invalid(path, value, "must not start with '..'"));
        if (paths is not null && !paths.Add(value)) causes.Add(FieldErrors.Invalid(path, value, "conflicting duplicate paths"));
    }

    private static void ValidateMode(int? mode, string path, List<StoreErrorCause> causes)
    {
        if (mode is { } m && (m < 0 || m > 0x1FF))
            causes.Add(FieldErrors.Invalid(path, m, "must be a number between 0 and 0777 (octal), both inclusive"));
    }
}
