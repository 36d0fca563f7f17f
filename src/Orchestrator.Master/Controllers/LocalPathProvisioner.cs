using Akka.Actor;
using Akka.Event;
using k8s;
using k8s.Models;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Controllers;

/// <summary>
/// The built-in dynamic provisioner (k3s' local-path-provisioner, <see cref="VolumeFacts.LocalPathProvisioner"/>): makes
/// the default StorageClass <c>local-path</c> when the cluster has none of that name (WaitForFirstConsumer, reclaim
/// Delete, expandable), and for each unbound claim of a class it provisions makes a volume <c>pvc-UID</c>: a hostPath
/// directory under the node's local-path root (<see cref="VolumeFacts.LocalPathRoot"/>, which each node reports) with node
/// affinity to that node, pre-bound to the claim — on the node the scheduler selected (WaitForFirstConsumer) or, for
/// Immediate, on the Ready node holding the fewest such volumes. The node makes the directory when a pod mounts it and
/// deletes it when the gateway tells it the volume is being deleted (the volume's provisioner finalizer). A bound claim
/// whose request grows gets its volume's capacity raised (directories have no quota: capacity is a label, not a
/// limit). Writes classes, volumes and claim events; never binds (the binder's job).
/// </summary>
internal sealed class LocalPathProvisioner : ControllerActor
{
    public const string Component = "rancher.io/local-path_orchestrator";
    private const string Classes = "storageclasses";
    private const string Claims = "persistentvolumeclaims";
    private const string Volumes = "persistentvolumes";
    private const string Nodes = "nodes";
    private static readonly ResourceKey DefaultClassKey = new(Classes, null, VolumeFacts.LocalPathClass);

    private readonly EventRecorder _events;
    private readonly HashSet<string> _told = new(); // claim uid + message: each failure told once
    private bool _defaultClassMade;

    public LocalPathProvisioner(IActorRef store, TimeSpan resync) : base(store, [Classes, Claims, Volumes, Nodes], resync)
    {
        _events = new EventRecorder(store, Component);
    }

    public static Props Props(IActorRef store, TimeSpan resync) => Akka.Actor.Props.Create(() => new LocalPathProvisioner(store, resync));

    protected override IEnumerable<ResourceKey> AllKeys() => Cache.Keys(Claims).Append(DefaultClassKey);

    protected override void OnSynced() => Enqueue(DefaultClassKey);

    protected override void OnChanged(string resource, IKubernetesObject<V1ObjectMeta>? old, IKubernetesObject<V1ObjectMeta>? current)
    {
        switch ((current ?? old)!)
        {
            case V1PersistentVolumeClaim pvc:
                Enqueue(ObjectCache.KeyOf(Claims, pvc));
                break;
            case V1PersistentVolume { Spec.ClaimRef: { } claimRef }:
                Enqueue(new ResourceKey(Claims, claimRef.NamespaceProperty, claimRef.Name));
                break;
            case V1Node or V1StorageClass:
                // a node that reports its root, or a new class, may let a waiting claim be provisioned
                foreach (var claim in Cache.List<V1PersistentVolumeClaim>(Claims).Where(c => !VolumeFacts.IsBound(c)))
                    Enqueue(ObjectCache.KeyOf(Claims, claim));
                break;
        }
    }

    protected override void Reconcile(ResourceKey key)
    {
        if (key == DefaultClassKey)
        {
            EnsureDefaultClass();
            return;
        }
        var pvc = Cache.Get<V1PersistentVolumeClaim>(Claims, key.Namespace, key.Name);
        if (pvc is null || pvc.Metadata.DeletionTimestamp is not null) return;
        var storageClass = pvc.Spec?.StorageClassName is { Length: > 0 } name ? Cache.Get<V1StorageClass>(Classes, null, name) : null;
        if (storageClass?.Provisioner != VolumeFacts.LocalPathProvisioner) return;
        if (VolumeFacts.IsBound(pvc)) Expand(pvc, key);
        else Provision(pvc, storageClass, key);
    }

    private void EnsureDefaultClass()
    {
        if (_defaultClassMade || Cache.Get<V1StorageClass>(Classes, null, VolumeFacts.LocalPathClass) is not null) return;
        _defaultClassMade = true; // once per start: a class the administrator deletes stays deleted until the next start, as in k3s
        var anyDefault = Cache.List<V1StorageClass>(Classes).Any(IsDefault);
        Send(new CreateObject(Classes, DefaultClass(markDefault: !anyDefault)), DefaultClassKey);
    }

    private static bool IsDefault(V1StorageClass sc) =>
        sc.Metadata.Annotations?.TryGetValue("storageclass.kubernetes.io/is-default-class", out var v) == true && v == "true";

    /// <summary>The class k3s installs, marked default unless the cluster already has a default class.</summary>
    internal static V1StorageClass DefaultClass(bool markDefault) => new()
    {
        ApiVersion = "storage.k8s.io/v1", Kind = "StorageClass",
        Metadata = new V1ObjectMeta
        {
            Name = VolumeFacts.LocalPathClass,
            Annotations = markDefault ? new Dictionary<string, string> { ["storageclass.kubernetes.io/is-default-class"] = "true" } : null,
        },
        Provisioner = VolumeFacts.LocalPathProvisioner,
        ReclaimPolicy = "Delete",
        VolumeBindingMode = "WaitForFirstConsumer",
        AllowVolumeExpansion = true,
    };

    private void Provision(V1PersistentVolumeClaim pvc, V1StorageClass storageClass, ResourceKey key)
    {
        var volumeName = VolumeNameFor(pvc);
        if (Cache.Get<V1PersistentVolume>(Volumes, null, volumeName) is not null) return; // made; the binder binds it
        var waits = storageClass.VolumeBindingMode == "WaitForFirstConsumer";
        string? nodeName;
        if (waits)
        {
            if (pvc.Metadata.Annotations?.TryGetValue(VolumeFacts.SelectedNode, out nodeName) != true) return; // no consumer yet
        }
        else nodeName = ChooseNode();
        var node = nodeName is null ? null : Cache.Get<V1Node>(Nodes, null, nodeName);
        var failure = Refusal(pvc, storageClass)
                      ?? (node is null ? (nodeName is null ? "no Ready node reports a local-path directory" : $"node \"{nodeName}\" not found") : null)
                      ?? (RootOf(node!) is null ? $"node \"{nodeName}\" does not report a local-path directory ({VolumeFacts.LocalPathRoot})" : null);
        if (failure is not null)
        {
            if (_told.Add(pvc.Metadata.Uid + failure))
                _events.Record(pvc, EventRecorder.Warning, "ProvisioningFailed", $"failed to provision volume with StorageClass \"{storageClass.Metadata.Name}\": {failure}", Self);
            RequeueAfter(key, TimeSpan.FromSeconds(10));
            return;
        }
        _events.Record(pvc, EventRecorder.Normal, "Provisioning",
            $"External provisioner is provisioning volume for claim \"{pvc.Metadata.NamespaceProperty}/{pvc.Metadata.Name}\"", Self);
        Send(new CreateObject(Volumes, VolumeFor(pvc, storageClass, node!.Metadata.Name, RootOf(node)!)), new Provisioned(key, pvc, volumeName));
    }

    private sealed record Provisioned(ResourceKey Key, V1PersistentVolumeClaim Claim, string Volume);

    /// <summary>What this provisioner cannot make (the external provisioner's refusals).</summary>
    internal static string? Refusal(V1PersistentVolumeClaim pvc, V1StorageClass storageClass)
    {
        if (pvc.Spec?.Selector is not null) return "claim Selector is not supported";
        if (pvc.Spec?.VolumeMode == "Block") return "local-path volumes are directories: volumeMode Block is not supported";
        if (pvc.Spec?.DataSource is not null || pvc.Spec?.DataSourceRef is not null) return "data sources (cloning, snapshots) are not supported";
        if (storageClass.Parameters is { Count: > 0 } p) return $"unsupported parameters: {string.Join(", ", p.Keys.Order(StringComparer.Ordinal))}";
        return null;
    }

    public static string VolumeNameFor(V1PersistentVolumeClaim pvc) => $"pvc-{pvc.Metadata.Uid}";

    private static string? RootOf(V1Node node) =>
        node.Metadata.Annotations?.TryGetValue(VolumeFacts.LocalPathRoot, out var root) == true && root.StartsWith('/') ? root : null;

    /// <summary>For Immediate classes: the Ready, schedulable node with a local-path root holding the fewest volumes.</summary>
    private string? ChooseNode()
    {
        var counts = Cache.List<V1PersistentVolume>(Volumes).Select(VolumeFacts.NodeOf).OfType<string>()
            .GroupBy(n => n).ToDictionary(g => g.Key, g => g.Count());
        return Cache.List<V1Node>(Nodes)
            .Where(n => RootOf(n) is not null && n.Spec?.Unschedulable != true &&
                        n.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true)
            .OrderBy(n => counts.GetValueOrDefault(n.Metadata.Name)).ThenBy(n => n.Metadata.Name, StringComparer.Ordinal)
            .Select(n => n.Metadata.Name).FirstOrDefault();
    }

    /// <summary>The volume for a claim on a node: a directory named as k3s names them, pre-bound to the claim.</summary>
    internal static V1PersistentVolume VolumeFor(V1PersistentVolumeClaim pvc, V1StorageClass storageClass, string node, string root)
    {
        var name = VolumeNameFor(pvc);
        return new V1PersistentVolume
        {
            ApiVersion = "v1", Kind = "PersistentVolume",
            Metadata = new V1ObjectMeta
            {
                Name = name,
                Annotations = new Dictionary<string, string> { [VolumeFacts.ProvisionedBy] = VolumeFacts.LocalPathProvisioner },
                Finalizers = [VolumeFacts.ProvisionerFinalizer],
            },
            Spec = new V1PersistentVolumeSpec
            {
                Capacity = new Dictionary<string, ResourceQuantity> { ["storage"] = pvc.Spec!.Resources!.Requests!["storage"] },
                AccessModes = pvc.Spec.AccessModes,
                PersistentVolumeReclaimPolicy = storageClass.ReclaimPolicy ?? "Delete",
                StorageClassName = storageClass.Metadata.Name,
                VolumeMode = "Filesystem",
                HostPath = new V1HostPathVolumeSource
                {
                    Path = $"{root.TrimEnd('/')}/{name}_{pvc.Metadata.NamespaceProperty}_{pvc.Metadata.Name}", Type = "DirectoryOrCreate",
                },
                ClaimRef = new V1ObjectReference
                {
                    ApiVersion = "v1", Kind = "PersistentVolumeClaim", NamespaceProperty = pvc.Metadata.NamespaceProperty,
                    Name = pvc.Metadata.Name, Uid = pvc.Metadata.Uid, ResourceVersion = pvc.Metadata.ResourceVersion,
                },
                NodeAffinity = new V1VolumeNodeAffinity
                {
                    Required = new V1NodeSelector
                    {
                        NodeSelectorTerms =
                        [
                            new V1NodeSelectorTerm
                            {
                                MatchExpressions = [new V1NodeSelectorRequirement { Key = "kubernetes.io/hostname", OperatorProperty = "In", Values = [node] }],
                            },
                        ],
                    },
                },
            },
        };
    }

    /// <summary>Online expansion of a bound local-path claim: its volume takes the new request.</summary>
    private void Expand(V1PersistentVolumeClaim pvc, ResourceKey key)
    {
        var pv = Cache.Get<V1PersistentVolume>(Volumes, null, pvc.Spec!.VolumeName);
        if (pv is null || pv.Metadata.DeletionTimestamp is not null ||
            !(pv.Metadata.Annotations?.TryGetValue(VolumeFacts.ProvisionedBy, out var by) == true && by == VolumeFacts.LocalPathProvisioner)) return;
        if (VolumeFacts.Request(pvc) <= VolumeFacts.Capacity(pv)) return;
        var grown = KubeObjects.Clone(pv);
        grown.Spec!.Capacity!["storage"] = pvc.Spec.Resources!.Requests!["storage"];
        Send(new UpdateObject(Volumes, grown), new Expanded(key, pvc));
    }

    private sealed record Expanded(ResourceKey Key, V1PersistentVolumeClaim Claim);

    protected override void OnStoreReplied(StoreReplied reply)
    {
        switch (reply.Tag)
        {
            case Provisioned p when reply.Succeeded:
                _events.Record(p.Claim, EventRecorder.Normal, "ProvisioningSucceeded", $"Successfully provisioned volume {p.Volume}", Self);
                break;
            case Provisioned p when reply.Failed!.Error.Code != 409:
                Log.Warning("provisioning {0} failed: {1}", p.Key, reply.Failed.Error.Message);
                RequeueAfter(p.Key, TimeSpan.FromSeconds(2));
                break;
            case Expanded e when reply.Succeeded:
                _events.Record(e.Claim, EventRecorder.Normal, "VolumeResizeSuccessful",
                    "local-path volumes are directories without a quota: the new capacity is recorded, not enforced", Self);
                break;
            case Expanded e:
                // a conflict is routine (the feed brings the newer volume); anything else is worth seeing in the log
                if (reply.Failed!.Error.Code != 409) Log.Warning("expanding the volume of {0} failed: {1} {2}", e.Key, reply.Failed.Error.Code, reply.Failed.Error.Message);
                RequeueAfter(e.Key, TimeSpan.FromSeconds(1));
                break;
            case ResourceKey k when k == DefaultClassKey && !reply.Succeeded && reply.Failed!.Error.Code != 409:
                Log.Warning("creating the default StorageClass failed: {0}", reply.Failed.Error.Message);
                _defaultClassMade = false;
                RequeueAfter(k, TimeSpan.FromSeconds(5));
                break;
        }
    }
}
