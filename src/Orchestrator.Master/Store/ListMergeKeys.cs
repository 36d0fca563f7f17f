namespace Orchestrator.Master.Store;

/// <summary>
/// The keys by which lists of objects merge, as in the Kubernetes API types' <c>patchMergeKey</c> tags: strategic
/// merge patch merges such lists element by element, and field management names their elements by key.
/// </summary>
internal static class ListMergeKeys
{
    private static readonly Dictionary<string, string> ByField = new()
    {
        ["containers"] = "name",
        ["initContainers"] = "name",
        ["ephemeralContainers"] = "name",
        ["env"] = "name",
        ["volumes"] = "name",
        ["volumeMounts"] = "mountPath",
        ["volumeDevices"] = "devicePath",
        ["conditions"] = "type",
        ["imagePullSecrets"] = "name",
        ["hostAliases"] = "ip",
        ["ownerReferences"] = "uid",
        ["addresses"] = "type",
        ["topologySpreadConstraints"] = "topologyKey",
        ["resourceClaims"] = "name",
        ["containerStatuses"] = "name",
        ["initContainerStatuses"] = "name",
        ["ephemeralContainerStatuses"] = "name",
    };

    /// <summary>The merge key of the list <paramref name="field"/> inside <paramref name="parentField"/>, or null for an
    /// atomic list. Container ports merge by containerPort; Service ports by port.</summary>
    public static string? For(string field, string? parentField) => field switch
    {
        "ports" => parentField is "spec" ? "port" : "containerPort",
        _ => ByField.GetValueOrDefault(field),
    };
}
