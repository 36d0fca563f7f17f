using Orchestrator.Shared.Protocol;

namespace Orchestrator.Node.Proxy;

/// <summary>The NodeAgent's seam to the node's service proxy: apply the whole, newest set of Services and Endpoints.</summary>
public interface IServiceProxy
{
    /// <summary>Replaces the proxy's configuration; cheap and non-blocking (listeners open and close in the background).</summary>
    void Apply(ServicesChanged services);
}
