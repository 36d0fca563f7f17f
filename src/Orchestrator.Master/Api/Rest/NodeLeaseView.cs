using k8s;
using k8s.Models;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Api.Responses;
using Orchestrator.Master.Api.Storage;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Kinds.Coordination;
using Orchestrator.Master.Registry.Kinds.Core;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Api.Rest;

/// <summary>
/// coordination.k8s.io/v1 Leases in kube-node-lease as a read-only view of the Nodes: our nodes heartbeat through
/// the cluster protocol, not through leases, but <c>kubectl describe node</c> shows the node's lease (holder and
/// last renewal), so each node's latest condition heartbeat is presented as one.
/// </summary>
internal sealed class NodeLeaseView(ObjectStoreClient store, ApiResponses responses) : IResourceView
{
    public const string LeaseNamespace = "kube-node-lease";

    public static ResourceDescription Definition => CoordinationResources.Leases;

    public ResourceDescription Resource => Definition;

    public async Task HandleAsync(HttpContext context, RequestInfo info)
    {
        if (context.Request.Method != "GET" || info.Subresource is not null) throw ApiException.MethodNotAllowed(context.Request.Method);
        if (QueryParameters.Bool(context, "watch")) throw ApiException.MethodNotAllowed("watch");
        var listed = info.Namespace is null or LeaseNamespace
            ? await store.ListAsync(CoreResources.Nodes, null, context.RequestAborted)
            : new Store.ObjectsListed([], 0);
        var leases = listed.Items.OfType<V1Node>().Select(From).Cast<IKubernetesObject<V1ObjectMeta>>().ToList();
        if (info.Name is { } name)
        {
            var lease = leases.FirstOrDefault(l => l.Metadata.Name == name) ?? throw ApiException.NotFound(Definition, name);
            await responses.WriteObjectAsync(context, Definition, lease);
            return;
        }
        var (page, metadata) = ListQuery.From(context, Definition).Select(new Store.ObjectsListed(leases, listed.ResourceVersion));
        await responses.WriteListAsync(context, Definition, page, metadata);
    }

    public static V1Lease From(V1Node node) => new()
    {
        ApiVersion = Definition.GroupVersion,
        Kind = Definition.Kind,
        Metadata = new V1ObjectMeta
        {
            Name = node.Metadata.Name,
            NamespaceProperty = LeaseNamespace,
            CreationTimestamp = node.Metadata.CreationTimestamp,
            ResourceVersion = node.Metadata.ResourceVersion,
            OwnerReferences =
            [
                new V1OwnerReference { ApiVersion = "v1", Kind = "Node", Name = node.Metadata.Name, Uid = node.Metadata.Uid },
            ],
        },
        Spec = new V1LeaseSpec
        {
            HolderIdentity = node.Metadata.Name,
            LeaseDurationSeconds = 40,
            RenewTime = node.Status?.Conditions?.Select(c => c.LastHeartbeatTime).Max(),
        },
    };
}
