using Akka.Actor;
using k8s.Models;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Master.Tests.Controllers.Support;

/// <summary>
/// A node agent that runs nothing (like a kwok node): registers with the gateway, heartbeats on request, and
/// reports every pod it is given as Running and Ready with an IP of its own. Ask it <see cref="CurrentPods"/>
/// for the pod names it is running.
/// </summary>
public sealed class FakeNodeAgent : ReceiveActor, IWithTimers
{
    public sealed record CurrentPods;

    private sealed record Beat;

    public ITimerScheduler Timers { get; set; } = null!;

    private readonly Dictionary<string, string> _ips = new(); // pod uid → IP
    private IReadOnlyList<V1Pod> _pods = [];
    private long _generation;
    private readonly TimeSpan? _heartbeat;

    protected override void PreStart()
    {
        if (_heartbeat is { } every) Timers.StartPeriodicTimer("beat", new Beat(), every);
    }

    /// <param name="heartbeat">When given, posts a Ready heartbeat this often (for tests with short grace periods);
    /// stopping the actor is then a lost node.</param>
    public FakeNodeAgent(IActorRef gateway, string nodeName, TimeSpan? heartbeat = null)
    {
        _heartbeat = heartbeat;
        Receive<Beat>(_ => gateway.Tell(new NodeHeartbeat(nodeName, new V1NodeStatus
        {
            Conditions = [new V1NodeCondition { Type = "Ready", Status = "True", Reason = "KubeletReady", LastHeartbeatTime = DateTime.UtcNow }],
            Addresses = [new V1NodeAddress { Type = "InternalIP", Address = "127.0.0.1" }],
        })));
        Receive<NodeRegistered>(_ => { });
        Receive<ServicesChanged>(_ => { });
        Receive<DesiredPodsChanged>(desired =>
        {
            if (desired.Generation <= _generation) return;
            _generation = desired.Generation;
            _pods = desired.Pods;
            foreach (var pod in desired.Pods)
            {
                if (_ips.ContainsKey(pod.Metadata.Uid)) continue;
                var ip = _ips[pod.Metadata.Uid] = $"172.18.0.{_ips.Count + 2}";
                var now = DateTime.UtcNow;
                gateway.Tell(new PodStatusReported(nodeName, pod.Metadata.NamespaceProperty, pod.Metadata.Name, pod.Metadata.Uid,
                    new V1PodStatus
                    {
                        Phase = "Running", PodIP = ip, HostIP = "127.0.0.1", StartTime = now,
                        Conditions =
                        [
                            new V1PodCondition { Type = "Initialized", Status = "True", LastTransitionTime = now },
                            new V1PodCondition { Type = "Ready", Status = "True", LastTransitionTime = now },
                            new V1PodCondition { Type = "ContainersReady", Status = "True", LastTransitionTime = now },
                        ],
                    }));
            }
        });
        Receive<CurrentPods>(_ => Sender.Tell(_pods.Select(p => p.Metadata.Name).ToList()));
        gateway.Tell(new RegisterNode(new V1Node
        {
            Metadata = new V1ObjectMeta { Name = nodeName, Labels = new Dictionary<string, string> { ["kubernetes.io/hostname"] = nodeName } },
            Status = new V1NodeStatus
            {
                Conditions = [new V1NodeCondition { Type = "Ready", Status = "True", Reason = "KubeletReady" }],
                Addresses = [new V1NodeAddress { Type = "InternalIP", Address = "127.0.0.1" }],
            },
        }));
    }

    public static Props Props(IActorRef gateway, string nodeName, TimeSpan? heartbeat = null) =>
        Akka.Actor.Props.Create(() => new FakeNodeAgent(gateway, nodeName, heartbeat));
}
