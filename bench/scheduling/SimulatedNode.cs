using Akka.Actor;
using k8s.Models;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Bench.Scheduling;

/// <summary>
/// A kwok-like node behind the real node protocol: registers with the NodeGateway, heartbeats, and reports every
/// pod it is given as Running and Ready at once (no containers) — or, for a pod that does not restart (a Job's), as
/// Succeeded at once, a short pod that exits 0. Its capacity is large enough that CPU, memory and
/// pod count never limit the benchmark; the scheduler still evaluates them.
/// </summary>
public sealed class SimulatedNode : ReceiveActor, IWithTimers
{
    private sealed record Beat;

    private sealed record Register;

    private readonly HashSet<string> _reported = new();
    private long _generation;

    public ITimerScheduler Timers { get; set; } = null!;

    public SimulatedNode(IActorRef gateway, string name)
    {
        // Like a real agent, registration is repeated until the gateway confirms it (it may not be up yet).
        Receive<NodeRegistered>(_ => Timers.Cancel("register"));
        Receive<Register>(_ => gateway.Tell(new RegisterNode(new V1Node
        {
            Metadata = new V1ObjectMeta { Name = name, Labels = new Dictionary<string, string> { ["kubernetes.io/hostname"] = name } },
            Status = Status(),
        })));
        Receive<ServicesChanged>(_ => { });
        Receive<Beat>(_ => gateway.Tell(new NodeHeartbeat(name, Status())));
        Receive<DesiredPodsChanged>(desired =>
        {
            if (desired.Generation <= _generation) return;
            _generation = desired.Generation;
            foreach (var pod in desired.Pods)
            {
                if (!_reported.Add(pod.Metadata.Uid)) continue;
                var now = DateTime.UtcNow;
                var exits = pod.Spec?.RestartPolicy is "Never" or "OnFailure";
                gateway.Tell(new PodStatusReported(name, pod.Metadata.NamespaceProperty, pod.Metadata.Name, pod.Metadata.Uid,
                    new V1PodStatus
                    {
                        Phase = exits ? "Succeeded" : "Running", PodIP = "10.0.0.1", HostIP = "127.0.0.1", StartTime = now,
                        Conditions = [new V1PodCondition { Type = "Ready", Status = exits ? "False" : "True", LastTransitionTime = now }],
                        ContainerStatuses = exits
                            ?
                            [
                                new V1ContainerStatus
                                {
                                    Name = pod.Spec!.Containers[0].Name, Image = pod.Spec.Containers[0].Image, ImageID = "", Ready = false, RestartCount = 0,
                                    State = new V1ContainerState
                                    {
                                        Terminated = new V1ContainerStateTerminated { ExitCode = 0, Reason = "Completed", StartedAt = now, FinishedAt = now },
                                    },
                                },
                            ]
                            : null,
                    }));
            }
        });
    }

    protected override void PreStart()
    {
        Self.Tell(new Register());
        Timers.StartPeriodicTimer("register", new Register(), TimeSpan.FromSeconds(3));
        Timers.StartPeriodicTimer("beat", new Beat(), TimeSpan.FromSeconds(10));
    }

    private static V1NodeStatus Status() => new()
    {
        Conditions = [new V1NodeCondition { Type = "Ready", Status = "True", Reason = "KubeletReady", LastHeartbeatTime = DateTime.UtcNow }],
        Addresses = [new V1NodeAddress { Type = "InternalIP", Address = "127.0.0.1" }],
        Capacity = Resources(), Allocatable = Resources(),
    };

    private static Dictionary<string, ResourceQuantity> Resources() => new()
    {
        ["cpu"] = new ResourceQuantity("64"), ["memory"] = new ResourceQuantity("256Gi"), ["pods"] = new ResourceQuantity("500"),
    };

    public static Props Props(IActorRef gateway, string name) => Akka.Actor.Props.Create(() => new SimulatedNode(gateway, name));
}
