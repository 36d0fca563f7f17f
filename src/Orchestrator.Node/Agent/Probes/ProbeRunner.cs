using k8s.Models;

namespace Orchestrator.Node.Agent.Probes;

/// <summary>Runs one probe with its timeoutSeconds (default 1 s); a timeout or an unexpected error is a failure.</summary>
internal static class ProbeRunner
{
    private static readonly IProbeHandler[] Handlers = [new HttpGetProbe(), new TcpSocketProbe(), new ExecProbe()];

    public static async Task<ProbeResult> RunAsync(V1Probe probe, ProbeTarget target)
    {
        var handler = Handlers.FirstOrDefault(h => h.Handles(probe));
        if (handler is null) return ProbeResult.Failed("unsupported probe action (grpc is not served)");
        var timeout = TimeSpan.FromSeconds(Math.Max(1, probe.TimeoutSeconds ?? 1));
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            return await handler.RunAsync(probe, target, cts.Token);
        }
        catch (OperationCanceledException)
        {
            return ProbeResult.Failed($"probe timed out after {timeout.TotalSeconds:0}s");
        }
        catch (Exception e)
        {
            return ProbeResult.Failed(e.Message);
        }
    }
}
