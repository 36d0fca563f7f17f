using System.Security.Cryptography;
using k8s;
using k8s.Models;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Controllers.ReplicaSets;

/// <summary>What the pod-count loop needs to know about a ReplicaSet or ReplicationController.</summary>
internal sealed record ReplicaOwner(
    IKubernetesObject<V1ObjectMeta> Object,
    LabelSelector Selector,
    V1PodTemplateSpec? Template,
    int Replicas,
    int MinReadySeconds);

/// <summary>The status both kinds report: the numbers, and the ReplicaFailure condition (null: none).</summary>
internal sealed record ReplicaCounts(int Replicas, int FullyLabeledReplicas, int ReadyReplicas, int AvailableReplicas,
    long? ObservedGeneration, ReplicaFailure? Failure = null);

/// <summary>Kubernetes' ReplicaFailure condition: why the last sync's creates (FailedCreate) or deletes (FailedDelete) failed.</summary>
internal sealed record ReplicaFailure(string Reason, string Message)
{
    public const string ConditionType = "ReplicaFailure";
}

/// <summary>The owner's pods: those it controls and still selects, orphans it should adopt, and pods it controls
/// but no longer selects (to release).</summary>
internal sealed record PodClaim(IReadOnlyList<V1Pod> Owned, IReadOnlyList<V1Pod> ToAdopt, IReadOnlyList<V1Pod> ToRelease);

/// <summary>
/// The pure part of the ReplicaSet / ReplicationController loop (Kubernetes' replica_set.go): claiming pods,
/// counting them, and building new pods from the template. No actor, no store: easy to test.
/// </summary>
internal static class PodReplicaSync
{
    private const string NameAlphabet = "bcdfghjklmnpqrstvwxz2456789";
    private const int MaxGeneratedPrefix = 63 - 5;

    /// <summary>Kubernetes' PodControllerRefManager.ClaimPods, for one owner over the pods of its namespace.</summary>
    public static PodClaim Claim(ReplicaOwner owner, IEnumerable<V1Pod> pods)
    {
        var uid = owner.Object.Metadata.Uid;
        var owned = new List<V1Pod>();
        var adopt = new List<V1Pod>();
        var release = new List<V1Pod>();
        foreach (var pod in pods)
        {
            var controller = OwnerReferences.ControllerOf(pod);
            var selected = owner.Selector.Matches(pod.Metadata.Labels);
            if (controller is not null)
            {
                if (controller.Uid != uid) continue;
                if (selected) owned.Add(pod);
                else if (owner.Object.Metadata.DeletionTimestamp is null) release.Add(pod);
            }
            else if (selected && owner.Object.Metadata.DeletionTimestamp is null && pod.Metadata.DeletionTimestamp is null
                     && !PodFacts.IsTerminal(pod))
            {
                adopt.Add(pod);
            }
        }
        return new PodClaim(owned, adopt, release);
    }

    public static IReadOnlyList<V1Pod> Active(IEnumerable<V1Pod> pods) => pods.Where(PodFacts.IsActive).ToList();

    /// <summary>Kubernetes' calculateStatus over the owner's active pods; <paramref name="failure"/> is the failure to
    /// report (an existing ReplicaFailure condition is kept as it is while the syncs go on failing).</summary>
    public static ReplicaCounts Count(ReplicaOwner owner, IReadOnlyList<V1Pod> active, DateTime now, ReplicaFailure? failure = null)
    {
        var templateLabels = owner.Template?.Metadata?.Labels;
        return new ReplicaCounts(
            active.Count,
            active.Count(p => PodFacts.HasLabels(p, templateLabels)),
            active.Count(PodFacts.IsReady),
            active.Count(p => PodFacts.IsAvailable(p, owner.MinReadySeconds, now)),
            owner.Object.Metadata.Generation,
            failure);
    }

    /// <summary>A pod from the owner's template (Kubernetes' GetPodFromTemplate), named like generateName would.</summary>
    public static V1Pod NewPod(ReplicaOwner owner)
    {
        var template = owner.Template is null ? new V1PodTemplateSpec() : KubeObjects.Clone(owner.Template);
        var prefix = GenerateNamePrefix(owner.Object.Metadata.Name);
        return new V1Pod
        {
            ApiVersion = "v1",
            Kind = "Pod",
            Metadata = new V1ObjectMeta
            {
                Name = prefix + RandomSuffix(),
                GenerateName = prefix,
                NamespaceProperty = owner.Object.Metadata.NamespaceProperty,
                Labels = template.Metadata?.Labels is { } labels ? new Dictionary<string, string>(labels) : null,
                Annotations = template.Metadata?.Annotations is { } annotations
                    ? new Dictionary<string, string>(annotations)
                    : null,
                Finalizers = template.Metadata?.Finalizers,
                OwnerReferences = [OwnerReferences.NewControllerRef(owner.Object)],
            },
            Spec = template.Spec,
        };
    }

    public static string GenerateNamePrefix(string ownerName)
    {
        var prefix = ownerName + "-";
        return prefix.Length > MaxGeneratedPrefix ? prefix[..MaxGeneratedPrefix] : prefix;
    }

    // The API server's generateName suffix: five characters from an alphabet without vowels or look-alikes.
    public static string RandomSuffix() =>
        string.Create(5, 0, (span, _) =>
        {
            for (var i = 0; i < span.Length; i++) span[i] = NameAlphabet[RandomNumberGenerator.GetInt32(NameAlphabet.Length)];
        });
}
