using k8s.Models;
using Orchestrator.Master.Registry.Tables;

namespace Orchestrator.Master.Registry.Kinds.Core;

/// <summary>NAME READY STATUS RESTARTS AGE; wide: IP NODE NOMINATED NODE READINESS GATES — with STATUS derived
/// from container states the way kubectl users know it (ContainerCreating, ErrImagePull, CrashLoopBackOff,
/// Completed, Init:…, Terminating).</summary>
internal sealed class PodTablePrinter : TablePrinter<V1Pod>
{
    public override IReadOnlyList<TableColumnDefinition> Columns { get; } =
    [
        TableColumnDefinition.NameColumn,
        TableColumnDefinition.Text("Ready", "The aggregate readiness state of this pod for accepting traffic."),
        TableColumnDefinition.Text("Status", "The aggregate status of the containers in this pod."),
        TableColumnDefinition.Text("Restarts", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
        TableColumnDefinition.AgeColumn,
        TableColumnDefinition.Text("IP", "IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.", 1),
        TableColumnDefinition.Text("Node", "NodeName is a request to schedule this pod onto a specific node.", 1),
        TableColumnDefinition.Text("Nominated Node", "nominatedNodeName is set only when this pod preempts other pods on the node.", 1),
        TableColumnDefinition.Text("Readiness Gates", "If specified, all readiness gates will be evaluated for pod readiness.", 1),
    ];

    protected override IReadOnlyList<object> Cells(V1Pod pod, DateTime now)
    {
        var (ready, total, status, restarts) = Summarize(pod, now);
        return
        [
            pod.Metadata.Name, $"{ready}/{total}", status, restarts, Age(pod, now),
            OrNone(pod.Status?.PodIPs?.FirstOrDefault()?.Ip ?? pod.Status?.PodIP),
            OrNone(pod.Spec?.NodeName),
            OrNone(pod.Status?.NominatedNodeName),
            ReadinessGates(pod),
        ];
    }

    public static (int Ready, int Total, string Status, string Restarts) Summarize(V1Pod pod, DateTime now)
    {
        var total = pod.Spec?.Containers?.Count ?? 0;
        var ready = 0;
        var restarts = 0;
        DateTime? lastRestart = null;
        var reason = string.IsNullOrEmpty(pod.Status?.Reason) ? pod.Status?.Phase ?? "Pending" : pod.Status.Reason;

        void NoteRestart(V1ContainerStatus c)
        {
            restarts += c.RestartCount;
            var finished = c.LastState?.Terminated?.FinishedAt;
            if (finished is not null && (lastRestart is null || finished > lastRestart)) lastRestart = finished;
        }

        var initializing = false;
        var initStatuses = pod.Status?.InitContainerStatuses ?? [];
        for (var i = 0; i < initStatuses.Count; i++)
        {
            var c = initStatuses[i];
            NoteRestart(c);
            var terminated = c.State?.Terminated;
            var waiting = c.State?.Waiting;
            if (terminated is not null && terminated.ExitCode == 0) continue;
            initializing = true;
            if (terminated is not null)
                reason = string.IsNullOrEmpty(terminated.Reason)
                    ? terminated.Signal is > 0 ? $"Init:Signal:{terminated.Signal}" : $"Init:ExitCode:{terminated.ExitCode}"
                    : "Init:" + terminated.Reason;
            else if (waiting is not null && !string.IsNullOrEmpty(waiting.Reason) && waiting.Reason != "PodInitializing")
                reason = "Init:" + waiting.Reason;
            else
                reason = $"Init:{i}/{pod.Spec?.InitContainers?.Count ?? initStatuses.Count}";
            break;
        }

        if (!initializing)
        {
            var hasRunning = false;
            var statuses = pod.Status?.ContainerStatuses ?? [];
            for (var i = statuses.Count - 1; i >= 0; i--)
            {
                var c = statuses[i];
                NoteRestart(c);
                if (!string.IsNullOrEmpty(c.State?.Waiting?.Reason))
                    reason = c.State.Waiting.Reason;
                else if (!string.IsNullOrEmpty(c.State?.Terminated?.Reason))
                    reason = c.State.Terminated.Reason;
                else if (c.State?.Terminated is { } t)
                    reason = t.Signal is > 0 ? $"Signal:{t.Signal}" : $"ExitCode:{t.ExitCode}";
                else if (c.Ready && c.State?.Running is not null)
                {
                    hasRunning = true;
                    ready++;
                }
            }
            if (reason == "Completed" && hasRunning)
                reason = pod.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true ? "Running" : "NotReady";
        }

        if (pod.Metadata.DeletionTimestamp is not null)
            reason = pod.Status?.Reason == "NodeLost" ? "Unknown"
                : pod.Status?.Phase is "Succeeded" or "Failed" ? reason : "Terminating";

        var restartText = restarts != 0 && lastRestart is not null
            ? $"{restarts} ({HumanDuration.Since(lastRestart, now)} ago)"
            : restarts.ToString();
        return (ready, total, reason, restartText);
    }

    private static string ReadinessGates(V1Pod pod)
    {
        var gates = pod.Spec?.ReadinessGates;
        if (gates is null || gates.Count == 0) return None;
        var trueConditions = gates.Count(g =>
            pod.Status?.Conditions?.Any(c => c.Type == g?.ConditionType && c.Status == "True") == true);
        return $"{trueConditions}/{gates.Count}";
    }
}
