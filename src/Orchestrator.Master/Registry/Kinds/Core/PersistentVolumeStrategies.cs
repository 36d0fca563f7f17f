using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Kinds.Storage;
using Orchestrator.Master.Registry.Validation;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Registry.Kinds.Core;

/// <summary>core/v1 PersistentVolume (ValidatePersistentVolume): access modes and a storage capacity are required,
/// exactly one volume source (hostPath, nfs, local and csi checked in detail; a local volume needs node affinity),
/// reclaim policy Retain (default), Delete or Recycle, volume mode Filesystem (default) or Block; the source and the
/// volume mode may not change. A new volume is Pending.</summary>
internal sealed class PersistentVolumeStrategy : ModelStrategy<V1PersistentVolume>
{
    public PersistentVolumeStrategy() => HasGeneration = false; // its 1.32 strategy keeps no metadata.generation

    /// <summary>The volume sources of a PersistentVolumeSpec, in the order Kubernetes checks them.</summary>
    private static readonly string[] Sources =
    [
        "gcePersistentDisk", "awsElasticBlockStore", "hostPath", "glusterfs", "flocker", "nfs", "rbd", "quobyte",
        "cephfs", "iscsi", "cinder", "fc", "flexVolume", "azureFile", "vsphereVolume", "photonPersistentDisk",
        "portworxVolume", "azureDisk", "scaleIO", "local", "storageos", "csi",
    ];

    private static readonly string[] ReclaimPolicies = ["Delete", "Recycle", "Retain"];

    public const string ProtectionFinalizer = "kubernetes.io/pv-protection";

    protected override void PrepareForCreate(V1PersistentVolume pv)
    {
        pv.Status = new V1PersistentVolumeStatus { Phase = "Pending", LastPhaseTransitionTime = DateTime.UtcNow };
        AddFinalizer(pv.Metadata, ProtectionFinalizer); // the StorageObjectInUseProtection admission plugin
    }

    internal static void AddFinalizer(V1ObjectMeta metadata, string finalizer)
    {
        metadata.Finalizers ??= new List<string>();
        if (!metadata.Finalizers.Contains(finalizer)) metadata.Finalizers.Add(finalizer);
    }

    protected override void Default(V1PersistentVolume pv)
    {
        var spec = pv.Spec ??= new V1PersistentVolumeSpec();
        spec.PersistentVolumeReclaimPolicy ??= "Retain";
        spec.VolumeMode ??= "Filesystem";
        if (spec.HostPath is { } hostPath) hostPath.Type ??= "";
        // VolumeAttributesClass is a beta feature off by default in 1.32: the API server drops the field
        spec.VolumeAttributesClassName = null;
        pv.Status ??= new V1PersistentVolumeStatus();
        if (string.IsNullOrEmpty(pv.Status.Phase)) pv.Status.Phase = "Pending";
    }

    protected override void Validate(V1PersistentVolume pv, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        var spec = pv.Spec!;
        Claims.ValidateAccessModes(spec.AccessModes, "spec.accessModes", "", causes);
        var capacity = spec.Capacity ?? new Dictionary<string, ResourceQuantity>();
        if (capacity.Count == 0) causes.Add(FieldErrors.Required("spec.capacity"));
        if (!capacity.ContainsKey("storage") || capacity.Count > 1)
            causes.Add(FieldErrors.NotSupported("spec.capacity", Claims.ResourceList(capacity), ["storage"]));
        foreach (var (name, quantity) in capacity)
            if (quantity.ToDecimal() <= 0)
                causes.Add(FieldErrors.Invalid($"spec.capacity[{name}]", Quantities.Text(quantity), "must be greater than zero"));

        var json = JsonNode.Parse(KubernetesJson.Serialize(spec))!.AsObject();
        var count = 0;
        foreach (var source in Sources)
        {
            if (json[source] is null) continue;
            if (count++ > 0) causes.Add(FieldErrors.Forbidden($"spec.{source}", "may not specify more than 1 volume type"));
        }
        if (count == 0) causes.Add(FieldErrors.Required("spec", "must specify a volume type"));
        if (count == 1) ValidateSource(spec, causes);

        if (spec.PersistentVolumeReclaimPolicy is { Length: > 0 } policy && !ReclaimPolicies.Contains(policy))
            causes.Add(FieldErrors.NotSupported("spec.persistentVolumeReclaimPolicy", policy, ReclaimPolicies));
        if (spec.HostPath?.Path is { Length: > 0 } hp && hp.Trim('/').Length == 0 &&
            spec.PersistentVolumeReclaimPolicy == "Recycle")
            causes.Add(FieldErrors.Forbidden("spec.persistentVolumeReclaimPolicy", "may not be 'recycle' for a hostPath mount of '/'"));
        if (spec.StorageClassName is { Length: > 0 } cls)
            foreach (var message in Names.Check(cls, Names.Rule.Dns1123Subdomain))
                causes.Add(FieldErrors.Invalid("spec.storageClassName", cls, message));
        Claims.ValidateVolumeMode(spec.VolumeMode, "spec.volumeMode", causes);
        if (spec.NodeAffinity is { } affinity && affinity.Required is null)
            causes.Add(FieldErrors.Required("spec.nodeAffinity.required", "must specify required node constraints"));
    }

    private static void ValidateSource(V1PersistentVolumeSpec spec, List<StoreErrorCause> causes)
    {
        if (spec.HostPath is { } hostPath)
        {
            if (string.IsNullOrEmpty(hostPath.Path)) causes.Add(FieldErrors.Required("spec.hostPath.path"));
            else NoBacksteps(hostPath.Path, "spec.hostPath.path", causes);
            string[] types = ["", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File", "FileOrCreate", "Socket"];
            if (hostPath.Type is { } type && !types.Contains(type))
                causes.Add(FieldErrors.NotSupported("spec.hostPath.type", type, types));
        }
        if (spec.Nfs is { } nfs)
        {
            if (string.IsNullOrEmpty(nfs.Server)) causes.Add(FieldErrors.Required("spec.nfs.server"));
            if (string.IsNullOrEmpty(nfs.Path)) causes.Add(FieldErrors.Required("spec.nfs.path"));
            else if (!nfs.Path.StartsWith('/')) causes.Add(FieldErrors.Invalid("spec.nfs.path", nfs.Path, "must be an absolute path"));
        }
        if (spec.Local is { } local)
        {
            if (string.IsNullOrEmpty(local.Path)) causes.Add(FieldErrors.Required("spec.local.path"));
            else NoBacksteps(local.Path, "spec.local.path", causes);
            if (spec.NodeAffinity?.Required is null)
                causes.Add(FieldErrors.Required("spec.nodeAffinity", "Local volume requires node affinity"));
        }
        if (spec.Csi is { } csi)
        {
            if (string.IsNullOrEmpty(csi.Driver)) causes.Add(FieldErrors.Required("spec.csi.driver"));
            else CsiNames.Validate(csi.Driver, "spec.csi.driver", causes);
            if (string.IsNullOrEmpty(csi.VolumeHandle)) causes.Add(FieldErrors.Required("spec.csi.volumeHandle"));
        }
    }

    private static void NoBacksteps(string path, string field, List<StoreErrorCause> causes)
    {
        if (path.Split('/').Contains("..")) causes.Add(FieldErrors.Invalid(field, path, "must not contain '..'"));
    }

    protected override void ValidateUpdate(V1PersistentVolume pv, V1PersistentVolume old, IAdmissionContext context,
        List<StoreErrorCause> causes)
    {
        Validate(pv, context, causes);
        var now = JsonNode.Parse(KubernetesJson.Serialize(pv.Spec))!.AsObject();
        var before = JsonNode.Parse(KubernetesJson.Serialize(old.Spec))!.AsObject();
        if (Sources.Any(s => !JsonNode.DeepEquals(now[s], before[s])))
            causes.Add(FieldErrors.Forbidden("spec.persistentvolumesource", "spec.persistentvolumesource is immutable after creation"));
        if (pv.Spec!.VolumeMode != old.Spec?.VolumeMode)
            causes.Add(FieldErrors.Invalid("volumeMode", pv.Spec.VolumeMode, "field is immutable"));
        if (old.Spec?.NodeAffinity is not null && !KubeObjects.SameJson(pv.Spec.NodeAffinity, old.Spec.NodeAffinity))
            causes.Add(FieldErrors.Invalid("nodeAffinity", new RawValue("core.VolumeNodeAffinity{...}"), "field is immutable"));
    }
}

/// <summary>core/v1 PersistentVolumeClaim (ValidatePersistentVolumeClaim): at least one access mode, a positive
/// storage request, volume mode Filesystem (default) or Block, a storage class name that is a DNS subdomain. On create
/// a claim without a class gets the default StorageClass (the DefaultStorageClass admission plugin). After creation the
/// spec may only gain a volumeName (once) or a class (from none), and a bound claim may grow its storage request.
/// A new claim is Pending.</summary>
internal sealed class PersistentVolumeClaimStrategy : ModelStrategy<V1PersistentVolumeClaim>
{
    public PersistentVolumeClaimStrategy() => HasGeneration = false; // its 1.32 strategy keeps no metadata.generation

    public const string BetaStorageClassAnnotation = "volume.beta.kubernetes.io/storage-class";

    public const string ProtectionFinalizer = "kubernetes.io/pvc-protection";

    protected override void PrepareForCreate(V1PersistentVolumeClaim pvc)
    {
        pvc.Status = new V1PersistentVolumeClaimStatus { Phase = "Pending" };
        PersistentVolumeStrategy.AddFinalizer(pvc.Metadata, ProtectionFinalizer); // the StorageObjectInUseProtection admission plugin
    }

    protected override void Default(V1PersistentVolumeClaim pvc)
    {
        var spec = pvc.Spec ??= new V1PersistentVolumeClaimSpec();
        spec.VolumeMode ??= "Filesystem";
        // VolumeAttributesClass is a beta feature off by default in 1.32: the API server drops the field
        spec.VolumeAttributesClassName = null;
        pvc.Status ??= new V1PersistentVolumeClaimStatus();
        if (string.IsNullOrEmpty(pvc.Status.Phase)) pvc.Status.Phase = "Pending";
    }

    protected override void Validate(V1PersistentVolumeClaim pvc, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        AssignDefaultClass(pvc, context);
        ValidateSpec(pvc.Spec!, causes);
    }

    /// <summary>The DefaultStorageClass admission plugin: the newest class marked default, unless the claim names a
    /// class (in the spec or the beta annotation).</summary>
    private static void AssignDefaultClass(V1PersistentVolumeClaim pvc, IAdmissionContext context)
    {
        if (pvc.Spec!.StorageClassName is not null || pvc.Metadata.Annotations?.ContainsKey(BetaStorageClassAnnotation) == true) return;
        var defaultClass = context.List(StorageResources.StorageClasses.StoreName).OfType<V1StorageClass>()
            .Where(sc => StorageClassStrategy.IsDefault(sc.Metadata))
            .OrderByDescending(sc => sc.Metadata.CreationTimestamp).ThenBy(sc => sc.Metadata.Name, StringComparer.Ordinal)
            .FirstOrDefault();
        if (defaultClass is not null) pvc.Spec.StorageClassName = defaultClass.Metadata.Name;
    }

    private static void ValidateSpec(V1PersistentVolumeClaimSpec spec, List<StoreErrorCause> causes)
    {
        Claims.ValidateAccessModes(spec.AccessModes, "spec.accessModes", "at least 1 access mode is required", causes);
        if (spec.Selector is { } selector) LabelRules.ValidateSelector(selector, "spec.selector", causes);
        if (spec.Resources?.Requests is not { } requests || !requests.TryGetValue("storage", out var storage))
            causes.Add(FieldErrors.Required("spec.resources[storage]"));
        else if (storage.ToDecimal() <= 0)
            causes.Add(FieldErrors.Invalid("spec.resources[storage]", storage.ToString(), "must be greater than zero"));
        if (spec.StorageClassName is { Length: > 0 } cls)
            foreach (var message in Names.Check(cls, Names.Rule.Dns1123Subdomain))
                causes.Add(FieldErrors.Invalid("spec.storageClassName", cls, message));
        Claims.ValidateVolumeMode(spec.VolumeMode, "spec.volumeMode", causes);
        if (spec.DataSource is { } source)
        {
            if (string.IsNullOrEmpty(source.Name)) causes.Add(FieldErrors.Required("spec.dataSource.name"));
            if (string.IsNullOrEmpty(source.Kind)) causes.Add(FieldErrors.Required("spec.dataSource.kind"));
            if (string.IsNullOrEmpty(source.ApiGroup) && source.Kind is { Length: > 0 } kind && kind != "PersistentVolumeClaim")
                causes.Add(FieldErrors.Invalid("spec.dataSource.kind", kind, "must be 'PersistentVolumeClaim' when referencing the default apiGroup"));
        }
    }

    protected override void ValidateUpdate(V1PersistentVolumeClaim pvc, V1PersistentVolumeClaim old, IAdmissionContext context,
        List<StoreErrorCause> causes)
    {
        ValidateSpec(pvc.Spec!, causes);
        var now = JsonNode.Parse(KubernetesJson.Serialize(pvc.Spec))!.AsObject();
        var before = JsonNode.Parse(KubernetesJson.Serialize(old.Spec))!.AsObject();
        if (string.IsNullOrEmpty(old.Spec?.VolumeName)) CopyField(now, before, "volumeName");
        if (old.Spec?.StorageClassName is null && !HasBetaClass(old)) CopyField(now, before, "storageClassName");
        var oldStorage = old.Spec?.Resources?.Requests?.TryGetValue("storage", out var o) == true ? o : null;
        var newStorage = pvc.Spec!.Resources?.Requests?.TryGetValue("storage", out var n) == true ? n : null;
        if (pvc.Status?.Phase == "Bound" && now["resources"]?["requests"] is JsonObject nowRequests)
            nowRequests["storage"] = before["resources"]?["requests"]?["storage"]?.DeepClone();
        if (!JsonNode.DeepEquals(now, before))
            causes.Add(FieldErrors.Forbidden("spec",
                "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"));
        if (oldStorage is not null && newStorage is not null && newStorage.ToDecimal() < oldStorage.ToDecimal())
            causes.Add(FieldErrors.Forbidden("spec.resources.requests.storage", "field can not be less than previous value"));
        // Growth is judged by the PersistentVolumeClaimResize admission plugin (403), as in Kubernetes.
    }

    /// <summary>The field as <paramref name="from"/> has it (absent when absent: a null-valued key would compare unequal).</summary>
    private static void CopyField(JsonObject from, JsonObject to, string name)
    {
        if (from[name] is { } value) to[name] = value.DeepClone();
        else to.Remove(name);
    }

    private static bool HasBetaClass(V1PersistentVolumeClaim pvc) =>
        pvc.Metadata.Annotations?.ContainsKey(BetaStorageClassAnnotation) == true;
}

/// <summary>What volumes and claims share: access modes, volume modes, how a resource list prints.</summary>
internal static class Claims
{
    private static readonly string[] AccessModes = ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"];
    private static readonly string[] VolumeModes = ["Block", "Filesystem"];

    public static void ValidateAccessModes(IList<string>? modes, string path, string requiredDetail, List<StoreErrorCause> causes)
    {
        if (modes is not { Count: > 0 })
        {
            causes.Add(FieldErrors.Required(path, requiredDetail));
            return;
        }
        foreach (var mode in modes)
            if (!AccessModes.Contains(mode))
                causes.Add(FieldErrors.NotSupported(path, mode, AccessModes));
        if (modes.Contains("ReadWriteOncePod") && modes.Any(m => m != "ReadWriteOncePod"))
            causes.Add(FieldErrors.Forbidden(path, "may not use ReadWriteOncePod with other access modes"));
    }

    public static void ValidateVolumeMode(string? mode, string path, List<StoreErrorCause> causes)
    {
        if (mode is not null && !VolumeModes.Contains(mode)) causes.Add(FieldErrors.NotSupported(path, mode, VolumeModes));
        // nodes mount volumes as directories; a raw block device would reach no pod (volumeDevices are not served either)
        else if (mode == "Block")
            causes.Add(FieldErrors.Forbidden(path, "volumeMode Block is not supported by this cluster: its volumes are directories on the nodes (use Filesystem)"));
    }

    /// <summary>helper.GetAccessModesAsString: RWO, ROX, RWX, RWOP in that order.</summary>
    public static string ModesText(IList<string>? modes)
    {
        if (modes is null) return "";
        var shown = new List<string>();
        if (modes.Contains("ReadWriteOnce")) shown.Add("RWO");
        if (modes.Contains("ReadOnlyMany")) shown.Add("ROX");
        if (modes.Contains("ReadWriteMany")) shown.Add("RWX");
        if (modes.Contains("ReadWriteOncePod")) shown.Add("RWOP");
        return string.Join(",", shown);
    }

    public static RawValue ResourceList(IDictionary<string, ResourceQuantity> list) =>
        new("core.ResourceList{" + string.Join(", ", list.OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => $"\"{kv.Key}\":\"{kv.Value}\"")) + "}");
}
