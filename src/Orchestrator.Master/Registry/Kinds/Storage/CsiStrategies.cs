using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Validation;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Registry.Kinds.Storage;

/// <summary>storage/v1 CSIDriver: the name is a CSI driver name (a DNS-1123 subdomain of at most 63 characters);
/// Kubernetes' defaults (attachRequired true, podInfoOnMount false, Persistent lifecycle mode, storageCapacity false,
/// fsGroupPolicy ReadWriteOnceWithFSType, requiresRepublish false); attachRequired and the lifecycle modes may not
/// change.</summary>
internal sealed class CsiDriverStrategy : ModelStrategy<V1CSIDriver>
{
    private static readonly string[] FsGroupPolicies = ["File", "None", "ReadWriteOnceWithFSType"];
    private static readonly string[] LifecycleModes = ["Ephemeral", "Persistent"];

    protected override void Default(V1CSIDriver driver)
    {
        var spec = driver.Spec ??= new V1CSIDriverSpec();
        spec.AttachRequired ??= true;
        spec.PodInfoOnMount ??= false;
        spec.StorageCapacity ??= false;
        spec.RequiresRepublish ??= false;
        spec.FsGroupPolicy ??= "ReadWriteOnceWithFSType";
        if (spec.VolumeLifecycleModes is not { Count: > 0 }) spec.VolumeLifecycleModes = ["Persistent"];
    }

    protected override void Validate(V1CSIDriver driver, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        CsiNames.Validate(driver.Metadata.Name ?? "", "metadata.name", causes);
        var spec = driver.Spec!;
        if (!FsGroupPolicies.Contains(spec.FsGroupPolicy))
            causes.Add(FieldErrors.NotSupported("spec.fsGroupPolicy", spec.FsGroupPolicy, FsGroupPolicies));
        foreach (var mode in spec.VolumeLifecycleModes ?? [])
            if (!LifecycleModes.Contains(mode))
                causes.Add(FieldErrors.NotSupported("spec.volumeLifecycleModes", mode, LifecycleModes));
        var audiences = new HashSet<string>();
        for (var i = 0; i < (spec.TokenRequests?.Count ?? 0); i++)
        {
            var request = spec.TokenRequests![i];
            if (!audiences.Add(request.Audience ?? ""))
                causes.Add(FieldErrors.Duplicate($"spec.tokenRequests[{i}].audience", request.Audience ?? ""));
            if (request.ExpirationSeconds is { } seconds && (seconds < 600 || seconds > 1L << 32))
                causes.Add(FieldErrors.Invalid($"spec.tokenRequests[{i}].expirationSeconds", seconds,
                    seconds < 600 ? "may not specify a duration less than 10 minutes" : "may not specify a duration larger than 2^32 seconds"));
        }
    }

    protected override void ValidateUpdate(V1CSIDriver driver, V1CSIDriver old, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        Validate(driver, context, causes);
        if (driver.Spec!.AttachRequired != old.Spec?.AttachRequired)
            causes.Add(FieldErrors.Invalid("spec.attachRequired", driver.Spec.AttachRequired, "field is immutable"));
        if (!(driver.Spec.VolumeLifecycleModes ?? []).SequenceEqual(old.Spec?.VolumeLifecycleModes ?? []))
            causes.Add(FieldErrors.Invalid("spec.volumeLifecycleModes", FieldErrors.GoStrings(driver.Spec.VolumeLifecycleModes), "field is immutable"));
    }
}

/// <summary>storage/v1 CSINode: one entry per driver, each with a valid driver name, a node ID of at most 192
/// characters and topology keys that are label keys.</summary>
internal sealed class CsiNodeStrategy : ModelStrategy<V1CSINode>
{
    public CsiNodeStrategy() => HasGeneration = false; // its 1.32 strategy keeps no metadata.generation

    protected override void Validate(V1CSINode node, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        var drivers = node.Spec?.Drivers ?? [];
        var names = new HashSet<string>();
        for (var i = 0; i < drivers.Count; i++)
        {
            var at = $"spec.drivers[{i}]";
            var driver = drivers[i];
            CsiNames.Validate(driver.Name ?? "", $"{at}.name", causes);
            if (!names.Add(driver.Name ?? "")) causes.Add(FieldErrors.Duplicate($"{at}.name", driver.Name ?? ""));
            if (string.IsNullOrEmpty(driver.NodeID)) causes.Add(FieldErrors.Required($"{at}.nodeID", "nodeID must be provided"));
            else if (driver.NodeID.Length > 192)
                causes.Add(FieldErrors.Invalid($"{at}.nodeID", driver.NodeID, "must be 192 characters or less"));
            foreach (var key in driver.TopologyKeys ?? [])
            {
                if (key.Length == 0) causes.Add(FieldErrors.Required($"{at}.topologyKeys", key));
                foreach (var message in LabelRules.CheckKey(key))
                    causes.Add(FieldErrors.Invalid($"{at}.topologyKeys", key, message));
            }
        }
    }
}

/// <summary>storage/v1 VolumeAttachment: an attacher (CSI driver name), exactly one source, a node name; the spec
/// is immutable and status is written only by the attacher through /status.</summary>
internal sealed class VolumeAttachmentStrategy : ModelStrategy<V1VolumeAttachment>
{
    public VolumeAttachmentStrategy() => HasGeneration = false; // its 1.32 strategy keeps no metadata.generation

    protected override void PrepareForCreate(V1VolumeAttachment attachment) => attachment.Status = null;

    protected override void Validate(V1VolumeAttachment attachment, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        var spec = attachment.Spec ?? new V1VolumeAttachmentSpec();
        CsiNames.Validate(spec.Attacher ?? "", "spec.attacher", causes);
        var source = spec.Source ?? new V1VolumeAttachmentSource();
        var hasPv = source.PersistentVolumeName is not null;
        var hasInline = source.InlineVolumeSpec is not null;
        if (hasPv == hasInline)
            causes.Add(FieldErrors.Required("spec.source", "must specify exactly one of inlineVolumeSpec and persistentVolumeName"));
        if (hasPv && source.PersistentVolumeName!.Length == 0)
            causes.Add(FieldErrors.Required("spec.source.persistentVolumeName", "must specify non empty persistentVolumeName"));
        if (string.IsNullOrEmpty(spec.NodeName)) causes.Add(FieldErrors.Required("spec.nodeName"));
        else
            foreach (var message in Names.Check(spec.NodeName, Names.Rule.Dns1123Subdomain))
                causes.Add(FieldErrors.Invalid("spec.nodeName", spec.NodeName, message));
    }

    protected override void ValidateUpdate(V1VolumeAttachment attachment, V1VolumeAttachment old, IAdmissionContext context,
        List<StoreErrorCause> causes)
    {
        Validate(attachment, context, causes);
        if (!KubeObjects.SameJson(attachment.Spec, old.Spec))
            causes.Add(FieldErrors.Invalid("spec", new RawValue("storage.VolumeAttachmentSpec{...}"), "field is immutable"));
    }
}

/// <summary>CSI driver names (ValidateCSIDriverName): required, at most 63 characters, a DNS-1123 subdomain.</summary>
internal static class CsiNames
{
    public static void Validate(string name, string path, List<StoreErrorCause> causes)
    {
        if (name.Length == 0)
        {
            causes.Add(FieldErrors.Required(path, name));
            return;
        }
        if (name.Length > 63) causes.Add(new StoreErrorCause(path, "FieldValueTooLong", "Too long: may not be more than 63 bytes"));
        foreach (var message in Names.Check(name.ToLowerInvariant(), Names.Rule.Dns1123Subdomain))
            causes.Add(FieldErrors.Invalid(path, name, message));
    }
}

/// <summary>storage/v1 CSIStorageCapacity (a CSI driver's report of free space per topology, for the scheduler of
/// volumes that driver provisions; no CSI driver runs here, so nothing reads it): the name a DNS-1123 subdomain, the
/// node topology a valid label selector, the storage class name a DNS-1123 subdomain, the capacity not negative;
/// the topology and class may not change (they are the inputs of the driver's GetCapacity).</summary>
internal sealed class CsiStorageCapacityStrategy : ModelStrategy<V1CSIStorageCapacity>
{
    protected override void Validate(V1CSIStorageCapacity capacity, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        if (capacity.NodeTopology is { } topology) LabelRules.ValidateSelector(topology, "nodeTopology", causes);
        foreach (var message in Names.Check(capacity.StorageClassName ?? "", Names.Rule.Dns1123Subdomain))
            causes.Add(FieldErrors.Invalid("storageClassName", capacity.StorageClassName ?? "", message));
        if (capacity.Capacity is { } quantity && quantity.ToDecimal() < 0)
            causes.Add(FieldErrors.Invalid("capacity", Quantities.Text(quantity), "must be greater than or equal to 0"));
    }

    protected override void ValidateUpdate(V1CSIStorageCapacity capacity, V1CSIStorageCapacity old, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        Validate(capacity, context, causes);
        if (!KubeObjects.SameJson(old.NodeTopology, capacity.NodeTopology))
            causes.Add(FieldErrors.Invalid("nodeTopology", capacity.NodeTopology is null
                ? new RawValue("(*v1.LabelSelector)(nil)")
                : new RawValue("&" + Selectors.Format(capacity.NodeTopology).Text), "field is immutable"));
        if (capacity.StorageClassName != old.StorageClassName)
            causes.Add(FieldErrors.Invalid("storageClassName", capacity.StorageClassName ?? "", "field is immutable"));
    }
}
