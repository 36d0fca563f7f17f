using Orchestrator.Master.Registry.Catalog;

namespace Orchestrator.Master.Api.Rest;

/// <summary>/api/v1/namespaces/{ns}/pods/{name}/exec — relayed to the node as <see cref="ContainerStreamRelay"/> says.</summary>
internal sealed class PodExec(KubeletConnection kubelet, ILogger<PodExec> log) : ISubresourceHandler
{
    public string Group => "";
    public string Resource => "pods";
    public string Subresource => "exec";

    public Task HandleAsync(HttpContext context, ResourceDescription resource, string? ns, string name) =>
        ContainerStreamRelay.RelayAsync(context, kubelet, ns!, name, "exec", ["command"], log);
}
