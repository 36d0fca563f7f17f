using Akka.Actor;
using k8s.Models;
using Orchestrator.Master.Api.Security;
using Orchestrator.Master.Api.Storage;
using Orchestrator.Master.ControlLoop;

namespace Orchestrator.Master.Api.Authorization;

/// <summary>kube's nodeidentifier: a user in group system:nodes named system:node:NAME is node NAME; a user in the
/// group with another name is a node that cannot be identified ("").</summary>
internal static class NodeIdentity
{
    public const string NodesGroup = "system:nodes";
    public const string UserPrefix = "system:node:";

    public static (string Name, bool IsNode) Of(UserInfo user)
    {
        if (!user.Name.StartsWith(UserPrefix, StringComparison.Ordinal)) return ("", false);
        return user.Groups.Contains(NodesGroup) ? (user.Name[UserPrefix.Length..], true) : ("", false);
    }
}

/// <summary>
/// One consistent view of what each node may reach, as the Node authorizer's graph holds it: a pod bound to a node
/// reaches it, and so do the Secrets, ConfigMaps, PersistentVolumeClaims (ephemeral ones included) and ServiceAccount
/// the pod uses, and the PersistentVolume a claim is bound to (by the volume's claimRef) with the Secrets the volume's
/// CSI source names. Also the pods, nodes and claims themselves, for the NodeRestriction checks (kube's listers).
/// </summary>
internal sealed class NodeGraph
{
    public const string Pod = "pod", Secret = "secret", ConfigMap = "configmap", Claim = "pvc", Volume = "pv", ServiceAccount = "serviceAccount";
    public static readonly NodeGraph Empty = new([], [], [], []);

    private readonly Dictionary<(string Type, string Namespace, string Name), HashSet<string>> _reaches = new();
    private readonly Dictionary<(string Namespace, string Name), V1Pod> _pods = new();
    private readonly Dictionary<string, V1Node> _nodes = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Namespace, string Name), V1PersistentVolumeClaim> _claims = new();

    public NodeGraph(IEnumerable<V1Pod> pods, IEnumerable<V1PersistentVolumeClaim> claims, IEnumerable<V1PersistentVolume> volumes,
        IEnumerable<V1Node> nodes)
    {
        foreach (var node in nodes) _nodes[node.Metadata.Name] = node;
        foreach (var claim in claims) _claims[(claim.Metadata.NamespaceProperty ?? "", claim.Metadata.Name)] = claim;
        var claimNodes = new Dictionary<(string, string), HashSet<string>>();
        foreach (var pod in pods)
        {
            var ns = pod.Metadata.NamespaceProperty ?? "default";
            _pods[(ns, pod.Metadata.Name)] = pod;
            if (pod.Spec?.NodeName is not { Length: > 0 } node) continue;
            Add(Pod, ns, pod.Metadata.Name, node);
            foreach (var name in PodReferences.Secrets(pod)) Add(Secret, ns, name, node);
            foreach (var name in PodReferences.ConfigMaps(pod)) Add(ConfigMap, ns, name, node);
            Add(ServiceAccount, ns, pod.Spec.ServiceAccountName is { Length: > 0 } account ? account : "default", node);
            foreach (var claim in VolumeFacts.Claims(pod))
            {
                Add(Claim, ns, claim.ClaimName, node);
                if (!claimNodes.TryGetValue((ns, claim.ClaimName), out var set)) claimNodes[(ns, claim.ClaimName)] = set = [];
                set.Add(node);
            }
        }
        foreach (var volume in volumes)
        {
            if (volume.Spec?.ClaimRef is not { } claimRef ||
                !claimNodes.TryGetValue((claimRef.NamespaceProperty ?? "", claimRef.Name ?? ""), out var reached)) continue;
            foreach (var node in reached)
            {
                Add(Volume, "", volume.Metadata.Name, node);
                foreach (var secret in VolumeSecrets(volume)) Add(Secret, secret.NamespaceProperty ?? "", secret.Name ?? "", node);
            }
        }
    }

    private static IEnumerable<V1SecretReference> VolumeSecrets(V1PersistentVolume volume)
    {
        if (volume.Spec?.Csi is not { } csi) yield break;
        foreach (var secret in new[] { csi.ControllerPublishSecretRef, csi.NodeStageSecretRef, csi.NodePublishSecretRef, csi.ControllerExpandSecretRef, csi.NodeExpandSecretRef })
            if (secret?.Name is { Length: > 0 }) yield return secret;
    }

    private void Add(string type, string ns, string name, string node)
    {
        if (!_reaches.TryGetValue((type, ns, name), out var set)) _reaches[(type, ns, name)] = set = [];
        set.Add(node);
    }

    /// <summary>Whether the object of <paramref name="type"/> has a path to node <paramref name="node"/>.</summary>
    public bool Reaches(string type, string @namespace, string name, string node) =>
        _reaches.TryGetValue((type, @namespace, name), out var set) && set.Contains(node);

    public V1Pod? PodOf(string @namespace, string name) => _pods.GetValueOrDefault((@namespace, name));

    public V1Node? NodeOf(string name) => _nodes.GetValueOrDefault(name);

    public V1PersistentVolumeClaim? ClaimOf(string @namespace, string name) => _claims.GetValueOrDefault((@namespace, name));
}

/// <summary>
/// The Node authorizer's informer: pods, claims, volumes and nodes kept current from the store's watch, published as
/// an immutable <see cref="NodeGraph"/> rebuilt once per burst of changes (a rebuild is queued behind the changes
/// already in the mailbox). Until all are listed the graph is empty: nodes reach nothing.
/// </summary>
internal sealed class NodeGraphCache(ObjectStoreClient store) : IHostedService
{
    public static readonly string[] Resources = ["pods", "persistentvolumeclaims", "persistentvolumes", "nodes"];

    private volatile NodeGraph _graph = NodeGraph.Empty;
    private IActorRef? _informer;

    public NodeGraph Graph => _graph;

    internal void Publish(NodeGraph graph) => _graph = graph;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _informer = StoreInformers.Start("node-graph-informer", store, Resources, cache => Publish(new NodeGraph(cache.List<V1Pod>("pods"),
            cache.List<V1PersistentVolumeClaim>("persistentvolumeclaims"), cache.List<V1PersistentVolume>("persistentvolumes"),
            cache.List<V1Node>("nodes"))));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _informer?.Tell(PoisonPill.Instance);
        return Task.CompletedTask;
    }
}
