using k8s.Models;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Admission.ServiceAccount;

/// <summary>
/// Kubernetes' ServiceAccount admission (plugin/pkg/admission/serviceaccount), on the creation of pods: the account
/// defaults to <c>default</c> and must exist (403 otherwise; the API asks again for a while when the namespace's
/// <c>default</c> is not made yet, as kube's lookup retries); unless the pod or else the account turns
/// automountServiceAccountToken off, every container and init container (not ephemeral ones) gets the read-only mount
/// of a <c>kube-api-access-xxxxx</c> projected volume (a bound token, the cluster's CA, the namespace) at
/// /var/run/secrets/kubernetes.io/serviceaccount, except a container that mounts something there already; and a pod
/// without imagePullSecrets gets the account's. An account annotated <c>kubernetes.io/enforce-mountable-secrets: true</c>
/// limits the pod's secret volumes, secret env references and imagePullSecrets to those the account lists (403 naming
/// the first other one); on the <c>ephemeralcontainers</c> subresource it limits the ephemeral containers' secret env
/// references the same way (kube's limitEphemeralContainerSecretReferences). Mirror pods do not exist here (no static pods).
/// </summary>
internal sealed class ServiceAccountAdmission : IMutatingAdmission
{
    public const string DefaultServiceAccountName = "default";
    public const string DefaultAPITokenMountPath = "/var/run/secrets/kubernetes.io/serviceaccount";
    public const string VolumeNamePrefix = "kube-api-access-";
    public const string RootCaConfigMap = "kube-root-ca.crt";
    /// <summary>What kube-apiserver asks for (WarnOnlyBoundTokenExpirationSeconds): an hour and 7 s, which it extends.</summary>
    public const long TokenExpirationSeconds = 3607;
    private const int DefaultMode = 0x1A4; // 0644, set explicitly as kube does (#104464)
    private const string ServiceAccounts = "serviceaccounts";

    private readonly Func<string, string> _generateName;

    /// <param name="generateName">names the volume from its prefix (kube's SimpleNameGenerator); tests fix it</param>
    public ServiceAccountAdmission(Func<string, string>? generateName = null) =>
        _generateName = generateName ?? NameGenerator.Generate;

    public AdmissionMutation Admit(AdmissionAttributes attributes, IAdmissionContext context)
    {
        if (attributes is { Operation: AdmissionAttributes.Update, Subresource: "ephemeralcontainers", Resource: { Group: "", Resource: "pods" }, Object: V1Pod updated })
            return AdmitEphemeralContainers(attributes, updated, context);
        if (attributes is not { Operation: AdmissionAttributes.Create, Subresource: null } ||
            attributes.Resource is not { Group: "", Resource: "pods" } || attributes.Object is not V1Pod pod)
            return AdmissionMutation.None;
        var spec = pod.Spec ??= new V1PodSpec();
        var ns = pod.Metadata.NamespaceProperty ?? "";
        var changed = string.IsNullOrEmpty(spec.ServiceAccountName);
        if (changed) spec.ServiceAccountName = DefaultServiceAccountName;
        var account = context.List(ServiceAccounts, ns).OfType<V1ServiceAccount>()
            .FirstOrDefault(a => a.Metadata.Name == spec.ServiceAccountName);
        if (account is null)
        {
            // kube's NewForbidden names the pod by its generateName when it has one (its name is not generated yet there)
            var name = pod.Metadata.GenerateName is { Length: > 0 } g ? g : pod.Metadata.Name is { Length: > 0 } n ? n : "Unknown";
            return AdmissionMutation.Refuse(StoreErrors.Forbidden(attributes.Resource, name,
                $"error looking up service account {ns}/{spec.ServiceAccountName}: serviceaccount \"{spec.ServiceAccountName}\" not found") with
            {
                RetryAfter = spec.ServiceAccountName == DefaultServiceAccountName ? TimeSpan.FromMilliseconds(100 + Random.Shared.Next(100)) : null,
            });
        }
        if (ShouldAutomount(account, pod)) changed |= MountServiceAccountToken(spec);
        if (spec.ImagePullSecrets is not { Count: > 0 } && account.ImagePullSecrets is { Count: > 0 } pullSecrets)
        {
            spec.ImagePullSecrets = pullSecrets.Select(s => new V1LocalObjectReference { Name = s.Name }).ToList();
            changed = true;
        }
        if (EnforceMountableSecrets(account) && SecretReferenceRefusal(account, pod) is { } refusal)
        {
            var name = pod.Metadata.GenerateName is { Length: > 0 } g ? g : pod.Metadata.Name is { Length: > 0 } n ? n : "Unknown";
            return AdmissionMutation.Refuse(StoreErrors.Forbidden(attributes.Resource, name, refusal));
        }
        return changed ? AdmissionMutation.Mutated : AdmissionMutation.None;
    }

    public const string EnforceMountableSecretsAnnotation = "kubernetes.io/enforce-mountable-secrets";

    /// <summary>An update of pods/ephemeralcontainers: the pod's account must exist, and when it enforces mountable
    /// secrets the ephemeral containers may reference only the secrets it lists.</summary>
    private static AdmissionMutation AdmitEphemeralContainers(AdmissionAttributes attributes, V1Pod pod, IAdmissionContext context)
    {
        var ns = pod.Metadata.NamespaceProperty ?? "";
        var name = pod.Metadata.Name ?? "";
        var accountName = pod.Spec?.ServiceAccountName;
        if (string.IsNullOrEmpty(accountName))
            return AdmissionMutation.Refuse(StoreErrors.Forbidden(attributes.Resource, name, $"no service account specified for pod {ns}/{name}"));
        var account = context.List(ServiceAccounts, ns).OfType<V1ServiceAccount>().FirstOrDefault(a => a.Metadata.Name == accountName);
        if (account is null)
            return AdmissionMutation.Refuse(StoreErrors.Forbidden(attributes.Resource, name,
                $"error looking up service account {ns}/{accountName}: serviceaccount \"{accountName}\" not found"));
        if (!EnforceMountableSecrets(account) || EphemeralSecretReferenceRefusal(account, pod) is not { } refusal) return AdmissionMutation.None;
        return AdmissionMutation.Refuse(StoreErrors.Forbidden(attributes.Resource, name, refusal));
    }

    /// <summary>The first secret an ephemeral container references (env, envFrom) that the account does not list.</summary>
    internal static string? EphemeralSecretReferenceRefusal(V1ServiceAccount account, V1Pod pod)
    {
        var sa = account.Metadata.Name;
        var mountable = (account.Secrets ?? []).Select(s => s.Name).ToHashSet();
        foreach (var container in pod.Spec?.EphemeralContainers ?? [])
        {
            foreach (var env in container.Env ?? [])
                if (env.ValueFrom?.SecretKeyRef is { } reference && !mountable.Contains(reference.Name))
                    return $"ephemeral container {container.Name} with envVar {env.Name} referencing secret.secretName=\"{reference.Name}\" is not allowed because service account {sa} does not reference that secret";
            foreach (var from in container.EnvFrom ?? [])
                if (from.SecretRef is { } reference && !mountable.Contains(reference.Name))
                    return $"ephemeral container {container.Name} with envFrom referencing secret.secretName=\"{reference.Name}\" is not allowed because service account {sa} does not reference that secret";
        }
        return null;
    }

    /// <summary>The annotation as Go's strconv.ParseBool reads it; anything else is false.</summary>
    private static bool EnforceMountableSecrets(V1ServiceAccount account) =>
        account.Metadata.Annotations?.TryGetValue(EnforceMountableSecretsAnnotation, out var value) == true &&
        value is "1" or "t" or "T" or "true" or "TRUE" or "True";

    /// <summary>kube's limitSecretReferences: the first secret the pod references that the account does not list.</summary>
    internal static string? SecretReferenceRefusal(V1ServiceAccount account, V1Pod pod)
    {
        var sa = account.Metadata.Name;
        var mountable = (account.Secrets ?? []).Select(s => s.Name).ToHashSet();
        foreach (var volume in pod.Spec?.Volumes ?? [])
            if (volume.Secret is { } secret && !mountable.Contains(secret.SecretName))
                return $"volume with secret.secretName=\"{secret.SecretName}\" is not allowed because service account {sa} does not reference that secret";
        foreach (var (containers, kind) in new[] { (pod.Spec?.InitContainers, "init container"), (pod.Spec?.Containers, "container") })
        foreach (var container in containers ?? [])
        {
            foreach (var env in container.Env ?? [])
                if (env.ValueFrom?.SecretKeyRef is { } reference && !mountable.Contains(reference.Name))
                    return $"{kind} {container.Name} with envVar {env.Name} referencing secret.secretName=\"{reference.Name}\" is not allowed because service account {sa} does not reference that secret";
            foreach (var from in container.EnvFrom ?? [])
                if (from.SecretRef is { } reference && !mountable.Contains(reference.Name))
                    return $"{kind} {container.Name} with envFrom referencing secret.secretName=\"{reference.Name}\" is not allowed because service account {sa} does not reference that secret";
        }
        var pullSecrets = (account.ImagePullSecrets ?? []).Select(s => s.Name).ToHashSet();
        var references = pod.Spec?.ImagePullSecrets ?? [];
        for (var i = 0; i < references.Count; i++)
            if (!pullSecrets.Contains(references[i].Name))
                return $"imagePullSecrets[{i}].name=\"{references[i].Name}\" is not allowed because service account {sa} does not reference that imagePullSecret";
        return null;
    }

    /// <summary>The pod's choice wins, then the account's; mounted by default.</summary>
    public static bool ShouldAutomount(V1ServiceAccount account, V1Pod pod) =>
        pod.Spec?.AutomountServiceAccountToken ?? account.AutomountServiceAccountToken ?? true;

    /// <summary>Whether a mount or the volume was added.</summary>
    private bool MountServiceAccountToken(V1PodSpec spec)
    {
        // a kube-api-access volume the pod has already (one it was given back, say) is the one to mount
        var existing = (spec.Volumes ?? []).FirstOrDefault(v => v.Name?.StartsWith(VolumeNamePrefix, StringComparison.Ordinal) == true);
        var volumeName = existing?.Name ?? _generateName(VolumeNamePrefix);
        var needsVolume = false;
        foreach (var container in (spec.InitContainers ?? []).Concat(spec.Containers ?? []))
        {
            if ((container.VolumeMounts ?? []).Any(m => m.MountPath == DefaultAPITokenMountPath)) continue;
            container.VolumeMounts ??= new List<V1VolumeMount>();
            container.VolumeMounts.Add(new V1VolumeMount { Name = volumeName, ReadOnlyProperty = true, MountPath = DefaultAPITokenMountPath });
            needsVolume = true;
        }
        if (existing is not null || !needsVolume) return needsVolume;
        spec.Volumes ??= new List<V1Volume>();
        spec.Volumes.Add(new V1Volume { Name = volumeName, Projected = TokenVolumeSource() });
        return true;
    }

    /// <summary>kube's TokenVolumeSource: the token, the CA bundle of kube-root-ca.crt, the namespace.</summary>
    public static V1ProjectedVolumeSource TokenVolumeSource() => new()
    {
        DefaultMode = DefaultMode,
        Sources =
        [
            new V1VolumeProjection
            {
                ServiceAccountToken = new V1ServiceAccountTokenProjection { Path = "token", ExpirationSeconds = TokenExpirationSeconds },
            },
            new V1VolumeProjection
            {
                ConfigMap = new V1ConfigMapProjection { Name = RootCaConfigMap, Items = [new V1KeyToPath { Key = "ca.crt", Path = "ca.crt" }] },
            },
            new V1VolumeProjection
            {
                DownwardAPI = new V1DownwardAPIProjection
                {
                    Items = [new V1DownwardAPIVolumeFile
                    {
                        Path = "namespace", FieldRef = new V1ObjectFieldSelector { ApiVersion = "v1", FieldPath = "metadata.namespace" },
                    }],
                },
            },
        ],
    };
}
