using k8s.Models;
using Orchestrator.Node.Runtime;

namespace Orchestrator.Node.Agent;

/// <summary>What the PodSupervisor knows about one container of its pod, at one moment.</summary>
internal sealed record ContainerView(
    V1Container Spec,
    string? ContainerId,
    ContainerObservation? Current,
    string? ImageId,
    int RestartCount,
    V1ContainerStateTerminated? LastTerminated,
    string? WaitingReason,
    string? WaitingMessage,
    bool Ready = true,
    bool Started = true);

/// <summary>
/// Builds a pod's status from what the supervisor observed, with the kubelet's rules for phase and
/// conditions. Pure: the same inputs give the same status, and condition transition times are carried over
/// from <c>previous</c> while a condition keeps its value, so an unchanged pod gives an identical status.
/// </summary>
internal static class PodStatusBuilder
{
    public static V1PodStatus Build(
        V1Pod pod, IReadOnlyList<ContainerView> containers, string hostIp, DateTime startTime, V1PodStatus? previous, DateTime now,
        IReadOnlyList<ContainerView>? initContainers = null, string? podIp = null, bool sandboxReady = true)
    {
        var inits = (initContainers ?? []).Select(ContainerStatus).ToList();
        var initDone = inits.All(s => s.State.Terminated is { ExitCode: 0 });
        var initFailed = (pod.Spec.RestartPolicy ?? "Always") == "Never" && inits.Any(s => s.State.Terminated is { ExitCode: not 0 });
        var statuses = containers.Select(c => initDone ? ContainerStatus(c) : Initializing(c)).ToList();
        var phase = initFailed ? "Failed" : initDone ? Phase(pod.Spec.RestartPolicy ?? "Always", statuses) : "Pending";
        var pending = inits.Where(s => s.State.Terminated is not { ExitCode: 0 }).Select(s => s.Name).ToList();
        var notReady = statuses.Where(s => s.Ready != true).Select(s => s.Name).ToList();
        var allReady = notReady.Count == 0 && statuses.Count > 0;
        var notReadyReason = phase is "Succeeded" or "Failed" ? "PodCompleted" : "ContainersNotReady";
        var notReadyMessage = phase is "Succeeded" or "Failed" ? null : $"containers with unready status: [{string.Join(" ", notReady)}]";

        var conditions = new List<V1PodCondition>
        {
            Condition("PodReadyToStartContainers", sandboxReady, null, null, previous, now),
            Condition("Initialized", initDone, initDone ? null : "ContainersNotInitialized",
                initDone ? null : $"containers with incomplete status: [{string.Join(" ", pending)}]", previous, now),
            Condition("Ready", allReady, allReady ? null : notReadyReason, allReady ? null : notReadyMessage, previous, now),
            Condition("ContainersReady", allReady, allReady ? null : notReadyReason, allReady ? null : notReadyMessage, previous, now),
            Condition("PodScheduled", true, null, null, previous, now),
        };

        // the sandbox's address; a container's own only where it has no sandbox
        podIp ??= containers.Select(c => c.Current?.IpAddress).FirstOrDefault(ip => !string.IsNullOrEmpty(ip)) ?? previous?.PodIP;
        return new V1PodStatus
        {
            Phase = phase,
            Conditions = conditions,
            HostIP = hostIp,
            HostIPs = [new V1HostIP { Ip = hostIp }],
            PodIP = podIp,
            PodIPs = podIp is null ? null : [new V1PodIP { Ip = podIp }],
            StartTime = startTime,
            ContainerStatuses = statuses,
            InitContainerStatuses = inits.Count == 0 ? null : inits,
            QosClass = QosClass(pod),
        };
    }

    /// <summary>An app container while init containers still run: waiting, PodInitializing.</summary>
    private static V1ContainerStatus Initializing(ContainerView c) => new()
    {
        Name = c.Spec.Name,
        Image = c.Spec.Image,
        ImageID = "",
        Ready = false,
        Started = false,
        RestartCount = c.RestartCount,
        State = new V1ContainerState { Waiting = new V1ContainerStateWaiting { Reason = "PodInitializing" } },
        LastState = new V1ContainerState(),
    };

    internal static V1ContainerStatus ContainerStatus(ContainerView c)
    {
        var state = State(c);
        var running = state.Running is not null;
        return new V1ContainerStatus
        {
            Name = c.Spec.Name,
            Image = c.Spec.Image,
            ImageID = c.ImageId is null ? "" : c.ImageId.Contains("://") ? c.ImageId : $"docker://{c.ImageId}",
            ContainerID = c.ContainerId is null ? null : $"docker://{c.ContainerId}",
            // without probes running means ready; with them the supervisor's probe results decide
            Ready = running && c.Ready,
            Started = running && c.Started,
            RestartCount = c.RestartCount,
            State = state,
            LastState = c.LastTerminated is null ? new V1ContainerState() : new V1ContainerState { Terminated = c.LastTerminated },
        };
    }

    private static V1ContainerState State(ContainerView c)
    {
        if (c.Current is { Running: true } run)
            return new V1ContainerState { Running = new V1ContainerStateRunning { StartedAt = run.StartedAt } };
        if (c.WaitingReason is not null)
            return new V1ContainerState { Waiting = new V1ContainerStateWaiting { Reason = c.WaitingReason, Message = c.WaitingMessage } };
        if (c.Current is { StartedAt: not null } exited)
            return new V1ContainerState { Terminated = Terminated(exited) };
        return new V1ContainerState { Waiting = new V1ContainerStateWaiting { Reason = "ContainerCreating" } };
    }

    /// <summary>The terminated state Kubernetes shows for an exited container.</summary>
    public static V1ContainerStateTerminated Terminated(ContainerObservation o) => new()
    {
        ExitCode = o.ExitCode,
        Reason = o.OomKilled ? "OOMKilled" : o.ExitCode == 0 ? "Completed" : "Error",
        Message = o.Error,
        StartedAt = o.StartedAt,
        FinishedAt = o.FinishedAt,
        ContainerID = $"docker://{o.Id}",
    };

    /// <summary>The kubelet's getPhase: waiting containers keep a pod Pending; restarting pods are Running.</summary>
    internal static string Phase(string restartPolicy, IReadOnlyList<V1ContainerStatus> statuses)
    {
        int running = 0, waiting = 0, stopped = 0, succeeded = 0;
        foreach (var s in statuses)
        {
            if (s.State.Running is not null) running++;
            else if (s.State.Terminated is { } t) { stopped++; if (t.ExitCode == 0) succeeded++; }
            else if (s.LastState?.Terminated is not null) stopped++; // waiting to restart
            else waiting++;
        }
        if (statuses.Count == 0 || waiting > 0) return "Pending";
        if (running > 0) return "Running";
        if (restartPolicy == "Always") return "Running";
        if (stopped == succeeded && statuses.All(s => s.State.Terminated is not null)) return "Succeeded";
        if (restartPolicy == "Never") return "Failed";
        return statuses.All(s => s.State.Terminated is not null) ? "Succeeded" : "Running";
    }

    private static V1PodCondition Condition(string type, bool value, string? reason, string? message, V1PodStatus? previous, DateTime now)
    {
        var status = value ? "True" : "False";
        var before = previous?.Conditions?.FirstOrDefault(c => c.Type == type);
        var since = before is not null && before.Status == status && before.LastTransitionTime is not null
            ? before.LastTransitionTime
            : now;
        return new V1PodCondition { Type = type, Status = status, Reason = reason, Message = message, LastTransitionTime = since };
    }

    private static string QosClass(V1Pod pod)
    {
        var resources = pod.Spec.Containers.Select(c => c.Resources).ToList();
        if (resources.All(r => (r?.Requests is null || r.Requests.Count == 0) && (r?.Limits is null || r.Limits.Count == 0)))
            return "BestEffort";
        var guaranteed = resources.All(r => r?.Limits is { } l && l.ContainsKey("cpu") && l.ContainsKey("memory")
            && (r.Requests is null || r.Requests.All(kv => l.TryGetValue(kv.Key, out var lim) && lim.ToDecimal() == kv.Value.ToDecimal())));
        return guaranteed ? "Guaranteed" : "Burstable";
    }
}
