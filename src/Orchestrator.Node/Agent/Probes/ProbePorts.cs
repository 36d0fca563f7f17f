using System.Globalization;
using k8s.Models;

namespace Orchestrator.Node.Agent.Probes;

internal static class ProbePorts
{
    /// <summary>A number, or the name of one of the container's ports (Kubernetes allows both).</summary>
    public static int? Resolve(IntOrString? port, V1Container container)
    {
        var value = port?.Value;
        if (string.IsNullOrEmpty(value)) return null;
        if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n)) return n is > 0 and <= 65535 ? n : null;
        return container.Ports?.FirstOrDefault(p => p.Name == value)?.ContainerPort;
    }
}
