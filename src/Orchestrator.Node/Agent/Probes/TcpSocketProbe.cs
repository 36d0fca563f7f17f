using System.Net.Sockets;
using k8s.Models;

namespace Orchestrator.Node.Agent.Probes;

/// <summary>tcpSocket: success is an accepted connection.</summary>
internal sealed class TcpSocketProbe : IProbeHandler
{
    public bool Handles(V1Probe probe) => probe.TcpSocket is not null;

    public async Task<ProbeResult> RunAsync(V1Probe probe, ProbeTarget target, CancellationToken ct)
    {
        var action = probe.TcpSocket;
        var host = string.IsNullOrEmpty(action.Host) ? target.PodIp : action.Host;
        if (string.IsNullOrEmpty(host)) return ProbeResult.Failed("the pod has no IP address yet");
        var port = ProbePorts.Resolve(action.Port, target.Container);
        if (port is null) return ProbeResult.Failed($"port {action.Port?.Value} is not a number or a named container port");
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(host, port.Value, ct);
            return ProbeResult.Ok();
        }
        catch (SocketException e)
        {
            return ProbeResult.Failed($"dial tcp {host}:{port}: {e.Message}");
        }
    }
}
