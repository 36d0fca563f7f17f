using Orchestrator.Master.Registry.Catalog;

namespace Orchestrator.Master.Api.Rest;

/// <summary>/api/v1/namespaces/{ns}/pods/{name}/attach — the container's main process (kubectl attach, kubectl run -it),
/// relayed to the node as <see cref="ContainerStreamRelay"/> says.</summary>
internal sealed class PodAttach(KubeletConnection kubelet, ILogger<PodAttach> log) : ISubresourceHandler
{
    public string Group => "";
    public string Resource => "pods";
    public string Subresource => "attach";

    public Task HandleAsync(HttpContext context, ResourceDescription resource, string? ns, string name) =>
        ContainerStreamRelay.RelayAsync(context, kubelet, ns!, name, "attach", [], log);
}
