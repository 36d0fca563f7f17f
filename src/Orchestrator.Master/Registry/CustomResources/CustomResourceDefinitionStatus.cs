using k8s.Models;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Registry.CustomResources;

/// <summary>The status apiextensions-apiserver writes on a definition: its conditions (with unchanged ones keeping their
/// transition time), the accepted names and the stored versions.</summary>
internal static class CustomResourceDefinitionStatus
{
    public static V1CustomResourceDefinitionStatus Established(V1CustomResourceDefinition crd, string? conflict)
    {
        var status = Copy(crd.Status);
        if (conflict is null)
        {
            status.AcceptedNames = KubeObjects.Clone(crd.Spec.Names);
            Set(status, "NamesAccepted", "True", "NoConflicts", "no conflicts found");
            Set(status, "Established", "True", "InitialNamesAccepted", "the initial names have been accepted");
        }
        else
        {
            Set(status, "NamesAccepted", "False", "NamesConflict", conflict);
            Set(status, "Established", "False", "NotAccepted", "not all names are accepted");
        }
        var storage = crd.Spec.Versions.FirstOrDefault(v => v.Storage)?.Name;
        status.StoredVersions ??= [];
        if (storage is not null && !status.StoredVersions.Contains(storage)) status.StoredVersions.Add(storage);
        return status;
    }

    public static V1CustomResourceDefinitionStatus Terminating(V1CustomResourceDefinition crd)
    {
        var status = Copy(crd.Status);
        Set(status, "Terminating", "True", "InstanceDeletionInProgress", "CustomResource deletion is in progress");
        return status;
    }

    /// <summary>Equal apart from transition times.</summary>
    public static bool Same(V1CustomResourceDefinitionStatus? a, V1CustomResourceDefinitionStatus b)
    {
        if (a is null) return false;
        string Key(V1CustomResourceDefinitionStatus s) => KubeObjects.Serialize(new V1CustomResourceDefinitionStatus
        {
            AcceptedNames = s.AcceptedNames,
            StoredVersions = s.StoredVersions,
            Conditions = s.Conditions?.Select(c => new V1CustomResourceDefinitionCondition
                { Type = c.Type, Status = c.Status, Reason = c.Reason, Message = c.Message }).ToList(),
        });
        return Key(a) == Key(b);
    }

    private static V1CustomResourceDefinitionStatus Copy(V1CustomResourceDefinitionStatus? status) =>
        status is null ? new V1CustomResourceDefinitionStatus { Conditions = [], StoredVersions = [] } : KubeObjects.Clone(status);

    private static void Set(V1CustomResourceDefinitionStatus status, string type, string value, string reason, string message)
    {
        status.Conditions ??= [];
        var existing = status.Conditions.FirstOrDefault(c => c.Type == type);
        if (existing is not null && existing.Status == value && existing.Reason == reason && existing.Message == message) return;
        var now = DateTime.UtcNow;
        var condition = new V1CustomResourceDefinitionCondition
        {
            Type = type, Status = value, Reason = reason, Message = message,
            LastTransitionTime = existing?.Status == value ? existing.LastTransitionTime : new DateTime(now.Ticks - now.Ticks % TimeSpan.TicksPerSecond, DateTimeKind.Utc),
        };
        if (existing is null) status.Conditions.Add(condition);
        else status.Conditions[status.Conditions.IndexOf(existing)] = condition;
    }
}
