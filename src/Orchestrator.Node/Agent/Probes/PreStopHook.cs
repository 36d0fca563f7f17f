using k8s.Models;

namespace Orchestrator.Node.Agent.Probes;

/// <summary>The preStop lifecycle hook (exec, httpGet or sleep), bounded by the pod's grace period; a failure is
/// reported (FailedPreStopHook) and termination goes on, as in Kubernetes.</summary>
internal static class PreStopHook
{
    public static async Task RunAsync(V1LifecycleHandler hook, ProbeTarget target, TimeSpan grace, Action<string> failed)
    {
        using var cts = new CancellationTokenSource(grace > TimeSpan.Zero ? grace : TimeSpan.FromMilliseconds(1));
        try
        {
            if (hook.Exec is { Command.Count: > 0 } exec)
            {
                var result = await target.Runtime.ExecAsync(target.ContainerId, exec.Command.ToList(), cts.Token);
                if (result.ExitCode != 0) failed($"PreStopHook {string.Join(" ", exec.Command)} exited with {result.ExitCode}: {result.Output.Trim()}");
            }
            else if (hook.HttpGet is { } http)
            {
                var result = await HttpGetProbe.GetAsync(http, target, cts.Token);
                if (!result.Success) failed($"HTTP lifecycle hook failed: {result.Message}");
            }
            else if (hook.Sleep is { } sleep)
                await Task.Delay(TimeSpan.FromSeconds(Math.Max(0, sleep.Seconds)), cts.Token);
        }
        catch (OperationCanceledException) { failed("PreStopHook did not finish within the grace period"); }
        catch (Exception e) { failed($"PreStopHook failed: {e.Message}"); }
    }
}
