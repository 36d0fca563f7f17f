using k8s;
using k8s.Models;
using Orchestrator.Master.Api.Bodies;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Api.Rest;
using Orchestrator.Master.Api.Security;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Kinds.Authentication;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Api.Authorization;

/// <summary>
/// kube-apiserver's NodeRestriction admission (plugin/pkg/admission/noderestriction): what a node user
/// (<see cref="NodeIdentity"/>) may write, beyond what the <see cref="NodeAuthorizer"/> lets through. Its own Node only
/// (no taint changes, no node-restriction.kubernetes.io/ labels, no kubernetes.io or k8s.io labels but the kubelet's);
/// only mirror pods bound to it that reference nothing; status, eviction and delete only of pods bound to it; only PVC
/// status conditions and capacity; its own Lease in kube-node-lease; tokens only bound to its pods. Checks that need
/// the stored object read the node graph (kube's listers); those that need the written object run as an
/// <see cref="IWriteAdmission"/>; the rest run on the request itself (<see cref="CheckRequestAsync"/>).
/// </summary>
internal sealed class NodeRestriction(NodeGraphCache graph, RequestBodies bodies, AuthorizationSettings? settings = null)
    : IWriteAdmission
{
    // --disable-admission-plugins=NodeRestriction: node users are then held only by the authorizers, as in kube
    private readonly bool _enabled = (settings ?? AuthorizationSettings.Default).NodeRestriction;

    private const string LeaseNamespace = "kube-node-lease";
    private const string MirrorPodAnnotation = "kubernetes.io/config.mirror";
    private static readonly HashSet<string> WriteVerbs = ["create", "update", "patch", "delete"];
    private static readonly HashSet<string> ConnectSubresources = ["exec", "attach", "portforward", "proxy", "log"];

    private static readonly HashSet<string> KubeletLabels =
    [
        "kubernetes.io/hostname", "kubernetes.io/os", "kubernetes.io/arch", "beta.kubernetes.io/os", "beta.kubernetes.io/arch",
        "beta.kubernetes.io/instance-type", "node.kubernetes.io/instance-type", "failure-domain.beta.kubernetes.io/zone",
        "failure-domain.beta.kubernetes.io/region", "topology.kubernetes.io/zone", "topology.kubernetes.io/region",
    ];
    private static readonly string[] KubeletLabelNamespaces = ["kubelet.kubernetes.io", "node.kubernetes.io"];

    /// <summary>The checks on the request alone (delete, eviction, status of a pod bound elsewhere, another node's
    /// object by name, a token not bound to the node's pod): after authorization, before the handler.</summary>
    public async Task CheckRequestAsync(HttpContext context, AuthorizationAttributes a)
    {
        var (node, isNode) = NodeIdentity.Of(a.User);
        if (!_enabled || !isNode || !a.IsResourceRequest || !WriteVerbs.Contains(a.Verb)) return;
        if (a.ApiGroup.Length == 0 && a.Resource == "pods" && ConnectSubresources.Contains(a.Subresource)) return;
        if (node.Length == 0) throw Forbidden(a, a.Name, $"could not determine node from user \"{a.User.Name}\"");
        var current = graph.Graph;
        switch (a.ApiGroup, a.Resource)
        {
            case ("", "pods"):
                switch (a.Subresource)
                {
                    case "" when a.Verb == "delete":
                        if (BoundPod(current, a).Spec?.NodeName != node)
                            throw Forbidden(a, a.Name, $"node \"{node}\" can only delete pods with spec.nodeName set to itself");
                        return;
                    case "" when a.Verb == "create":
                        return; // the written object: Admit
                    case "":
                        throw Forbidden(a, a.Name, $"unexpected operation \"UPDATE\", node \"{node}\" can only create and delete mirror pods");
                    case "status" when a.Verb is "update" or "patch":
                        if (BoundPod(current, a).Spec?.NodeName != node)
                            throw Forbidden(a, a.Name, $"node \"{node}\" can only update pod status for pods with spec.nodeName set to itself");
                        return;
                    case "status":
                        throw Forbidden(a, a.Name, $"unexpected operation \"{Operation(a.Verb)}\"");
                    case "eviction" when a.Verb == "create":
                        if (BoundPod(current, a).Spec?.NodeName != node)
                            throw Forbidden(a, a.Name, $"node {node} can only evict pods with spec.nodeName set to itself");
                        return;
                    case "eviction":
                        throw Forbidden(a, a.Name, $"unexpected operation {Operation(a.Verb)}");
                    default:
                        throw Forbidden(a, a.Name, $"unexpected pod subresource \"{a.Subresource}\", only 'status' and 'eviction' are allowed");
                }
            case ("", "nodes"):
                if (a.Verb != "create" && a.Name != node)
                    throw Forbidden(a, a.Name, $"node \"{node}\" is not allowed to modify node \"{a.Name}\"");
                return;
            case ("", "persistentvolumeclaims"):
                if (a.Subresource != "status") throw Forbidden(a, a.Name, "may only update PVC status");
                if (a.Verb is not ("update" or "patch")) throw Forbidden(a, a.Name, $"unexpected operation \"{Operation(a.Verb)}\"");
                return;
            case ("coordination.k8s.io", "leases"):
                if (a.Namespace != LeaseNamespace)
                    throw Forbidden(a, a.Name, $"can only access leases in the \"{LeaseNamespace}\" system namespace");
                if (a.Verb != "create" && a.Name != node)
                    throw Forbidden(a, a.Name, "can only access node lease with the same name as the requesting node");
                return;
            case ("storage.k8s.io", "csinodes"):
                if (a.Verb != "create" && a.Name != node)
                    throw Forbidden(a, a.Name, "can only access CSINode with the same name as the requesting node");
                return;
            case ("", "serviceaccounts") when a.Subresource == "token" && a.Verb == "create":
                CheckTokenRequest(current, a, node, await ReadTokenRequestAsync(context));
                return;
        }
    }

    /// <summary>The written object of a create or update by a node user.</summary>
    public void Admit(HttpContext context, ResourceDescription resource, IKubernetesObject<V1ObjectMeta> obj, IKubernetesObject<V1ObjectMeta>? old) =>
        Admit(context, resource, obj, null, old);

    public void AdmitSubresource(HttpContext context, ResourceDescription resource, IKubernetesObject<V1ObjectMeta> obj, string subresource,
        IKubernetesObject<V1ObjectMeta>? old) =>
        Admit(context, resource, obj, subresource, old);

    /// <summary>The old object is the handler's read when it has one; otherwise (a PUT) the node graph's, which follows the
    /// store's watch and may not have seen an object written a moment ago.</summary>
    private void Admit(HttpContext context, ResourceDescription resource, IKubernetesObject<V1ObjectMeta> obj, string? subresource,
        IKubernetesObject<V1ObjectMeta>? old)
    {
        if (!_enabled) return;
        if (RequestUser.Get(context) is not { } user) return;
        var (node, isNode) = NodeIdentity.Of(user);
        if (!isNode || node.Length == 0) return;
        var create = HttpMethods.IsPost(context.Request.Method);
        var name = obj.Metadata?.Name ?? "";
        var ns = obj.Metadata?.NamespaceProperty ?? "";
        switch (resource.Group, resource.Resource)
        {
            case ("", "pods") when subresource is null && create:
                AdmitMirrorPod((V1Pod)obj, node);
                return;
            case ("", "pods") when subresource == "status":
                var oldPod = old as V1Pod ?? graph.Graph.PodOf(ns, name);
                if (!SameLabels(oldPod?.Metadata?.Labels, obj.Metadata?.Labels))
                    throw Forbidden("", "pods", name, $"node \"{node}\" cannot update labels through pod status");
                return;
            case ("", "nodes"):
                AdmitNode((V1Node)obj, create ? null : old as V1Node ?? graph.Graph.NodeOf(name), node);
                return;
            case ("", "persistentvolumeclaims") when subresource == "status":
                AdmitClaimStatus((V1PersistentVolumeClaim)obj, old as V1PersistentVolumeClaim ?? graph.Graph.ClaimOf(ns, name), node);
                return;
            case ("coordination.k8s.io", "leases") when create:
                if (name != node) throw Forbidden(resource.Group, resource.Resource, name, "can only access node lease with the same name as the requesting node");
                return;
            case ("storage.k8s.io", "csinodes") when create:
                if (name != node) throw Forbidden(resource.Group, resource.Resource, name, "can only access CSINode with the same name as the requesting node");
                return;
        }
    }

    private void AdmitMirrorPod(V1Pod pod, string node)
    {
        var name = pod.Metadata?.Name ?? "";
        ApiException Refuse(string message) => Forbidden("", "pods", name, message);
        if (pod.Metadata?.Annotations?.ContainsKey(MirrorPodAnnotation) != true)
            throw Refuse($"pod does not have \"{MirrorPodAnnotation}\" annotation, node \"{node}\" can only create mirror pods");
        if (pod.Spec?.NodeName != node) throw Refuse($"node \"{node}\" can only create pods with spec.nodeName set to itself");
        var owners = pod.Metadata.OwnerReferences ?? [];
        if (owners.Count > 1) throw Refuse($"node \"{node}\" can only create pods with a single owner reference set to itself");
        if (owners.Count == 0) throw Refuse($"node \"{node}\" can only create pods with an owner reference set to itself");
        var owner = owners[0];
        if (owner.ApiVersion != "v1" || owner.Kind != "Node" || owner.Name != node)
            throw Refuse($"node \"{node}\" can only create pods with an owner reference set to itself");
        if (owner.Controller != true) throw Refuse($"node \"{node}\" can only create pods with a controller owner reference set to itself");
        if (owner.BlockOwnerDeletion == true) throw Refuse($"node \"{node}\" must not set blockOwnerDeletion on an owner reference");
        var stored = graph.Graph.NodeOf(node) ?? throw new ApiException(404, "NotFound", $"nodes \"{node}\" not found",
            new V1StatusDetails { Kind = "nodes", Name = node });
        if (owner.Uid != stored.Metadata.Uid)
            throw Refuse($"node {node} UID mismatch: expected {owner.Uid} got {stored.Metadata.Uid}");
        if (!string.IsNullOrEmpty(pod.Spec.ServiceAccountName)) throw Refuse($"node \"{node}\" can not create pods that reference a service account");
        if (Orchestrator.Master.ControlLoop.PodReferences.Secrets(pod).Any()) throw Refuse($"node \"{node}\" can not create pods that reference secrets");
        if (Orchestrator.Master.ControlLoop.PodReferences.ConfigMaps(pod).Any()) throw Refuse($"node \"{node}\" can not create pods that reference configmaps");
        if (pod.Spec.Volumes?.Any(v => v.Projected?.Sources?.Any(s => s.ClusterTrustBundle is not null) == true) == true)
            throw Refuse($"node \"{node}\" can not create pods that reference clustertrustbundles");
        if (pod.Spec.Volumes?.Any(v => v.PersistentVolumeClaim is not null) == true)
            throw Refuse($"node \"{node}\" can not create pods that reference persistentvolumeclaims");
    }

    private static void AdmitNode(V1Node updated, V1Node? old, string node)
    {
        var name = updated.Metadata?.Name ?? "";
        ApiException Refuse(string message) => Forbidden("", "nodes", name, message);
        if (name != node) throw Refuse($"node \"{node}\" is not allowed to modify node \"{name}\"");
        if (old is null)
        {
            if (updated.Spec?.ConfigSource is not null) throw Refuse($"node \"{node}\" is not allowed to create pods with a non-nil configSource");
            if (ForbiddenLabels(updated.Metadata?.Labels, null) is { Count: > 0 } forbidden)
                throw Refuse($"node \"{node}\" is not allowed to set the following labels: {string.Join(", ", forbidden)}");
            return;
        }
        if (updated.Spec?.ConfigSource is { } source && KubeObjects.Serialize(source) != KubeObjects.Serialize(old.Spec?.ConfigSource!))
            throw Refuse($"node \"{node}\" is not allowed to update configSource to a new non-nil configSource");
        if (!SameTaints(updated.Spec?.Taints, old.Spec?.Taints)) throw Refuse($"node \"{node}\" is not allowed to modify taints");
        if (ForbiddenLabels(updated.Metadata?.Labels, old.Metadata?.Labels) is { Count: > 0 } changed)
            throw Refuse($"is not allowed to modify labels: {string.Join(", ", changed)}");
    }

    private static void AdmitClaimStatus(V1PersistentVolumeClaim updated, V1PersistentVolumeClaim? old, string node)
    {
        static string Comparable(V1PersistentVolumeClaim? claim)
        {
            if (claim is null) return "";
            var copy = KubeObjects.Clone(claim);
            copy.Metadata.ResourceVersion = null;
            copy.Metadata.ManagedFields = null;
            if (copy.Status is { } status)
            {
                status.Capacity = null;
                status.Conditions = null;
                status.AllocatedResourceStatuses = null; // RecoverVolumeExpansionFailure is beta, on, in 1.32
                status.AllocatedResources = null;
            }
            return KubeObjects.Serialize(copy);
        }
        if (Comparable(updated) != Comparable(old))
            throw Forbidden("", "persistentvolumeclaims", updated.Metadata?.Name ?? "",
                $"node \"{node}\" is not allowed to update fields other than status.capacity and status.conditions");
    }

    private static void CheckTokenRequest(NodeGraph current, AuthorizationAttributes a, string node, Authenticationv1TokenRequest request)
    {
        var reference = request.Spec?.BoundObjectRef;
        if (reference is null || reference.ApiVersion != "v1" || reference.Kind != "Pod" || string.IsNullOrEmpty(reference.Name))
            throw Forbidden(a, a.Name, "node requested token not bound to a pod");
        var podName = reference.Name;
        if (string.IsNullOrEmpty(reference.Uid)) throw Forbidden(a, a.Name, "node requested token with a pod binding without a uid");
        var pod = current.PodOf(a.Namespace, podName) ?? throw new ApiException(404, "NotFound", $"pods \"{podName}\" not found",
            new V1StatusDetails { Kind = "pods", Name = podName });
        if (reference.Uid != pod.Metadata.Uid)
            throw Forbidden(a, a.Name, $"the UID in the bound object reference ({reference.Uid}) does not match the UID in record. The object might have been deleted and then recreated");
        if (pod.Spec?.NodeName != node) throw Forbidden(a, a.Name, "node requested token bound to a pod scheduled on a different node");
    }

    /// <summary>The TokenRequest as the handler will read it (JSON, YAML or protobuf; the body is rewound for it): kube-apiserver
    /// decodes a body before admission sees it, so one that is not a TokenRequest — malformed, or a field of the wrong type —
    /// is refused as the handler refuses it (400), not judged here. Field validation is the handler's (its warnings once).</summary>
    private async Task<Authenticationv1TokenRequest> ReadTokenRequestAsync(HttpContext context) =>
        (Authenticationv1TokenRequest)bodies.DecodeObject(context, await RequestBodies.PeekBytesAsync(context),
            AuthenticationResources.TokenRequestBodies, null, FieldValidation.Ignore);

    private static V1Pod BoundPod(NodeGraph current, AuthorizationAttributes a) =>
        current.PodOf(a.Namespace, a.Name) ?? throw new ApiException(404, "NotFound", $"pods \"{a.Name}\" not found",
            new V1StatusDetails { Kind = "pods", Name = a.Name });

    /// <summary>The label keys added, removed or changed that a node may not touch (getForbiddenLabels), sorted.</summary>
    internal static List<string> ForbiddenLabels(IDictionary<string, string>? labels, IDictionary<string, string>? old)
    {
        labels ??= new Dictionary<string, string>();
        old ??= new Dictionary<string, string>();
        var modified = labels.Where(l => !old.TryGetValue(l.Key, out var v) || v != l.Value).Select(l => l.Key)
            .Concat(old.Where(l => !labels.TryGetValue(l.Key, out var v) || v != l.Value).Select(l => l.Key)).ToHashSet();
        return modified.Where(key =>
        {
            var ns = LabelNamespace(key);
            if (ns == "node-restriction.kubernetes.io" || ns.EndsWith(".node-restriction.kubernetes.io", StringComparison.Ordinal)) return true;
            return IsKubernetesLabel(ns) && !IsKubeletLabel(key);
        }).Order(StringComparer.Ordinal).ToList();
    }

    private static bool IsKubernetesLabel(string ns) =>
        ns is "kubernetes.io" or "k8s.io" || ns.EndsWith(".kubernetes.io", StringComparison.Ordinal) || ns.EndsWith(".k8s.io", StringComparison.Ordinal);

    private static bool IsKubeletLabel(string key)
    {
        if (KubeletLabels.Contains(key)) return true;
        var ns = LabelNamespace(key);
        return KubeletLabelNamespaces.Any(allowed => ns == allowed || ns.EndsWith("." + allowed, StringComparison.Ordinal));
    }

    private static string LabelNamespace(string key) => key.IndexOf('/') is var at and >= 0 ? key[..at] : "";

    private static bool SameLabels(IDictionary<string, string>? a, IDictionary<string, string>? b) =>
        (a?.Count ?? 0) == (b?.Count ?? 0) && (a ?? new Dictionary<string, string>()).All(l => b!.TryGetValue(l.Key, out var v) && v == l.Value);

    private static bool SameTaints(IList<V1Taint>? a, IList<V1Taint>? b) =>
        (a is null || a.Count == 0) && (b is null || b.Count == 0) ||
        a is not null && b is not null && KubeObjects.Serialize(a) == KubeObjects.Serialize(b);

    private static string Operation(string verb) => verb switch
    {
        "create" => "CREATE", "delete" => "DELETE", _ => "UPDATE",
    };

    /// <summary>admission.NewForbidden: the request's resource (not its subresource) and name.</summary>
    private static ApiException Forbidden(AuthorizationAttributes a, string name, string message) =>
        Forbidden(a.ApiGroup, a.Resource, name, message);

    private static ApiException Forbidden(string group, string resource, string name, string message) =>
        RbacAuthorizer.Forbidden(group, resource, name, message);
}
