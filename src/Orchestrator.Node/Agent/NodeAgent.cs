using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using k8s.Models;
using Orchestrator.Node.Agent.Kubelet;
using Orchestrator.Node.Config;
using Orchestrator.Node.Runtime;
using Orchestrator.Node.Services;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Node.Agent;

/// <summary>
/// The node's side of the node protocol (the kubelet's main loop). Owns: registration with the master's
/// NodeGateway (again after every master restart), heartbeats, the set of PodSupervisor children (one per desired
/// pod uid, level-triggered against each DesiredPodsChanged), the orphan sweep (containers whose pod is not desired),
/// and publishing ServicesChanged and NetworkPoliciesChanged into the node's views (the proxy, DNS and the Policy component read them there). It never touches a container of a desired pod itself — that is
/// the pod's supervisor's job — and it relays, never invents, pod status.
/// </summary>
internal sealed class NodeAgent : ReceiveActor, IWithTimers
{
    private readonly NodeAgentSettings _settings;
    private readonly IContainerRuntime _runtime;
    private readonly ServiceDirectory _services;
    private readonly NodeDescription _description;
    private readonly KubeletIdentity? _identity;
    private readonly NodeClientIdentity? _credentials;
    private string? _lastRefusal;
    private readonly ConfigDirectory _configs;
    private readonly NetworkPolicyDirectory? _policies;
    private readonly ImagePuller _images;
    private readonly GatewayTokenSource _tokenSource = new();
    private readonly PodTokens _tokens;
    private readonly Stats.NodeResourceUsage? _usage;
    private IDisposable? _usageSubscription;
    private long _configGeneration = -1;
    private readonly ILoggingAdapter _log = Context.GetLogger();

    private readonly Dictionary<string, IActorRef> _supervisors = new();       // by pod uid
    private readonly Dictionary<IActorRef, string> _stopping = new();          // supervisors stopping, with their uid
    private readonly HashSet<string> _finished = new();                        // deleting pods already stopped
    private string _gatewayPath;
    private IActorRef? _gateway;

    // the incarnation (cluster uid) of the master _gateway belongs to, as it said when it registered this node
    private long? _gatewayUid;

    // the masters that are up, and those of them unreachable: with several masters the NodeGateway runs on whichever
    // holds the control plane, so a registration goes to each master's gateway path and the one that answers is it
    private readonly HashSet<Address> _masters = new();
    private readonly HashSet<Address> _unreachableMasters = new();
    private bool _runtimeReady;
    /// <summary>The node has said what its runtime is (registration started): from then on Ready changes are transitions.</summary>
    private bool _probed;
    /// <summary>A runtime status check is under way: one at a time, as the kubelet's updateRuntimeUp loop, however long
    /// a hung engine keeps it (its deadline is the runtime's request timeout).</summary>
    private bool _probing;
    private readonly RuntimeHealth _health;
    private readonly Func<DateTime> _clock;
    private readonly DateTime _startedAt;
    /// <summary>The runtime's state last logged while it is down (each new one is logged once, not every check).</summary>
    private string? _runtimeErrorLogged;
    /// <summary>Why the last status check went unanswered, logged once until one is answered.</summary>
    private string? _noAnswerLogged;
    /// <summary>An orphan sweep's listing is under way (one at a time: a hung engine must not collect them).</summary>
    private bool _sweeping;
    private long _podsGeneration = -1;
    private long _servicesGeneration = -1;
    private IReadOnlyList<V1Pod>? _desired;      // the newest set; null until the master sent one
    private HashSet<string> _desiredUids = new();
    private int _children;
    private int _registerAttempts;

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>A supervisor's token request, to the master as this node (an unregistered node has no master to ask).</summary>
    private void RequestToken(PodTokenNeeded needed)
    {
        var key = needed.Key;
        if (_gateway is null)
        {
            _tokenSource.Complete(new ServiceAccountTokenIssued(needed.RequestId, null, null, "the node is not registered with a master"));
            return;
        }
        _gateway.Tell(new ServiceAccountTokenRequested(_settings.NodeName, needed.RequestId, key.Namespace, key.PodName, key.PodUid,
            key.ServiceAccountName, key.Audience.Length > 0 ? [key.Audience] : [], key.ExpirationSeconds), Self);
    }

    /// <param name="identity">The kubelet endpoint's TLS identity: its signing request goes with each registration and
    /// the certificate the master answers is installed into it (null in tests without a kubelet endpoint).</param>
    /// <param name="configs">The node's view of the ConfigMaps and Secrets its pods reference (what <see cref="PodConfigChanged"/>
    /// brings), read by the pods' supervisors.</param>
    /// <param name="usage">The node's resource usage, reported to the master on every new round (null: none, as in unit tests).</param>
    /// <param name="policies">The node's view of the NetworkPolicies (what <see cref="NetworkPoliciesChanged"/> brings),
    /// read by the Policy component (null in tests without one: the messages are dropped).</param>
    /// <param name="credentials">The node's identity towards the master: each registration proves <c>system:node:NAME</c>
    /// with it (null: registrations carry no credential, as in tests of a master that requires none).</param>
    /// <param name="clock">The time the runtime's health is judged by (tests move it; null: the wall clock).</param>
    public static Props Props(NodeAgentSettings settings, IContainerRuntime runtime, ServiceDirectory services, KubeletIdentity? identity = null,
        ConfigDirectory? configs = null, Stats.NodeResourceUsage? usage = null, NetworkPolicyDirectory? policies = null,
        NodeClientIdentity? credentials = null, Func<DateTime>? clock = null) =>
        Akka.Actor.Props.Create(() => new NodeAgent(settings, runtime, services, identity, configs ?? new ConfigDirectory(), usage, policies, credentials, clock));

    public NodeAgent(NodeAgentSettings settings, IContainerRuntime runtime, ServiceDirectory services, KubeletIdentity? identity, ConfigDirectory configs,
        Stats.NodeResourceUsage? usage = null, NetworkPolicyDirectory? policies = null, NodeClientIdentity? credentials = null,
        Func<DateTime>? clock = null)
    {
        _clock = clock ?? (() => DateTime.UtcNow);
        _startedAt = _clock();
        _health = new RuntimeHealth(settings.RuntimeDownThreshold);
        _credentials = credentials;
        _usage = usage;
        _configs = configs;
        _policies = policies;
        _images = new ImagePuller(runtime, settings.Pods.ImagePulls);
        _tokens = new PodTokens(_tokenSource);
        _tokenSource.Agent = Self;
        _settings = settings;
        _runtime = runtime;
        _services = services;
        _identity = identity;
        _gatewayPath = settings.GatewayPath;
        _description = new NodeDescription(settings.NodeName, settings.Address, DateTime.UtcNow, settings.KubeletPort, settings.PodCidr, settings.LocalPathRoot);

        Receive<AgentTick>(t => t == AgentTick.ProbeRuntime, _ =>
        {
            ProbeRuntime();
            EvaluateRuntime(); // a check that hangs still ages: past the threshold the node is NotReady
        });
        Receive<RuntimeProbed>(OnRuntimeProbed);
        Receive<AgentTick>(t => t == AgentTick.Register, _ => SendRegistration());
        Receive<NodeRegistered>(OnRegistered);
        Receive<NodeRegistrationRefused>(OnRefused);
        // the heartbeat (the Lease's renewal) never waits for the runtime: it posts what the last checks found, judged now
        Receive<AgentTick>(t => t == AgentTick.Heartbeat, _ =>
        {
            if (!EvaluateRuntime()) SendHeartbeat();
        });
        Receive<PodConfigChanged>(OnPodConfig);
        Receive<LocalVolumesToDelete>(OnVolumesToDelete);
        Receive<DesiredPodsChanged>(OnDesiredPods);
        Receive<ServicesChanged>(OnServices);
        Receive<NetworkPoliciesChanged>(OnPolicies);
        // a failed sync has the runtime checked now, not at the next tick (down already, or a check under way: nothing)
        Receive<PodSyncFailed>(_ =>
        {
            if (_runtimeReady) ProbeRuntime();
        });
        Receive<PodStatusReported>(ToMaster);
        Receive<NodeEventReported>(ToMaster);
        Receive<PodTokenNeeded>(RequestToken);
        Receive<ServiceAccountTokenIssued>(_tokenSource.Complete);
        Receive<NodeMetricsReported>(ToMaster); // best effort: the next round replaces a lost one
        Receive<AgentTick>(t => t == AgentTick.Sweep, _ => StartSweep());
        Receive<ContainersListed>(OnContainersListed);
        Receive<SweepFailed>(f =>
        {
            _sweeping = false;
            _log.Warning("Listing the node's containers for the orphan sweep failed: {0}", f.Error);
        });
        Receive<OrphansRemoved>(_ => { });
        Receive<Terminated>(OnTerminated);
        Receive<ClusterEvent.IMemberEvent>(OnMemberEvent);
        Receive<ClusterEvent.UnreachableMember>(m =>
        {
            if (!IsMaster(m.Member)) return;
            _unreachableMasters.Add(m.Member.Address);
            // another master still reachable: the control plane moves there, no need to leave the cluster
            if (_masters.All(_unreachableMasters.Contains)) StartMasterLostTimer("unreachable");
        });
        Receive<ClusterEvent.ReachableMember>(m =>
        {
            if (!IsMaster(m.Member)) return;
            _unreachableMasters.Remove(m.Member.Address);
            Timers.Cancel(AgentTick.MasterLost.Name);
        });
        Receive<AgentTick>(t => t == AgentTick.MasterLost, _ => Rejoin());
        Receive<AgentTick>(t => t == AgentTick.RenewCertificate, _ => StartRegistering());
        Receive<Status.Failure>(f => _log.Warning("Runtime call failed: {0}", f.Cause.Message));
    }

    protected override void PreStart()
    {
        if (_settings.UseCluster)
            Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
                typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));
        Timers.StartPeriodicTimer(AgentTick.Heartbeat.Name, AgentTick.Heartbeat, _settings.HeartbeatInterval);
        var self = Self;
        _usageSubscription = _usage?.Subscribe(snapshot =>
        {
            if (snapshot.Report() is { } report) self.Tell(report);
        });
        Timers.StartPeriodicTimer(AgentTick.Sweep.Name, AgentTick.Sweep, _settings.OrphanSweepInterval);
        // the kubelet's updateRuntimeUp loop: a check every few seconds, one at a time, beside (never in) the heartbeat
        Timers.StartPeriodicTimer(AgentTick.ProbeRuntime.Name, AgentTick.ProbeRuntime, _settings.RuntimeRetryInterval);
        ProbeRuntime();
    }

    protected override void PostStop()
    {
        _usageSubscription?.Dispose();
        if (_settings.UseCluster) Cluster.Get(Context.System).Unsubscribe(Self);
    }

    // ---- container runtime -------------------------------------------------------------------------------

    /// <summary>Starts a runtime status check unless one is under way; its answer comes back as <see cref="RuntimeProbed"/>.
    /// Its deadline is the runtime's request timeout (BoundedRuntime): a hung engine holds it that long, and meanwhile
    /// only the threshold, judged on every tick, moves the node's state.</summary>
    private void ProbeRuntime()
    {
        if (_probing) return;
        _probing = true;
        var runtime = _runtime;
        async Task<RuntimeProbed> Probe()
        {
            string version;
            try
            {
                // the version first: its error says whether the engine answers at all (the NotReady message)
                version = await runtime.GetVersionAsync();
            }
            catch (Exception e) when (Unanswered(e)) { return new RuntimeProbed(null, NoAnswer: e.Message); }
            catch (Exception e) { return new RuntimeProbed(null, e.Message); }
            try
            {
                await runtime.EnsureNetworkAsync();
                return new RuntimeProbed(version);
            }
            catch (Exception e) when (Unanswered(e)) { return new RuntimeProbed(null, NoAnswer: e.Message); }
            catch (Exception e) { return new RuntimeProbed(version, NetworkError: e.Message); }
        }
        Probe().PipeTo(Self);
    }

    /// <summary>The engine did not answer (the call's deadline, Docker.DotNet's own timeout, a full queue): unlike a refused
    /// connection this says nothing of the runtime yet, as a failed Status call in the kubelet's updateRuntimeUp.</summary>
    private static bool Unanswered(Exception e) => e is TimeoutException or OperationCanceledException or RuntimeBusyException;

    private void OnRuntimeProbed(RuntimeProbed probed)
    {
        _probing = false;
        var now = _clock();
        if (probed.NoAnswer is { } why)
        {
            if (why != _noAnswerLogged) _log.Warning("Container runtime did not answer its status check: {0}", why);
            _noAnswerLogged = why;
        }
        else
        {
            _noAnswerLogged = null;
            if (probed.Version is null) _health.RuntimeNotReady(probed.RuntimeError ?? "no version");
            else if (probed.NetworkError is { } network) _health.NetworkNotReady(probed.Version, network, now);
            else _health.Ready(probed.Version, now);
        }
        EvaluateRuntime();
    }

    /// <summary>Judges the runtime's health now and acts on a change, level-triggered (whatever woke it): the node's Ready
    /// condition and whether pods are synced, as the kubelet's runtime state does. While it is not ready the supervisors
    /// pause (no call, no log, no event per pod); when it is again they sync at once. A change is posted at once (a
    /// heartbeat); true when one was sent.</summary>
    private bool EvaluateRuntime()
    {
        var now = _clock();
        var notReady = _health.NotReadyMessage(now);
        _description.SetRuntime(_health.Version, now, notReady);
        var wasReady = _runtimeReady;
        _runtimeReady = notReady is null;
        if (!_probed)
        {
            // the first registration waits for the first answer, or for the threshold when the engine gives none
            if (!_health.Answered && now - _startedAt < _health.Threshold) return false;
            _probed = true;
            if (notReady is not null) LogNotReady(notReady);
            else _log.Info("Container runtime {0} ready", _health.Version);
            StartRegistering();
            return false;
        }
        if (notReady is not null) LogNotReady(notReady);
        if (_runtimeReady == wasReady) return false;
        if (!_runtimeReady)
        {
            foreach (var supervisor in _supervisors.Values) supervisor.Tell(RuntimeUnavailable.Instance);
            NodeEvent("NodeNotReady", now);
        }
        else
        {
            _runtimeErrorLogged = null;
            _log.Info("Container runtime {0} ready", _health.Version);
            // before Reconcile's PodUpdated: each supervisor syncs again, finding what the runtime's restart left
            foreach (var supervisor in _supervisors.Values) supervisor.Tell(RuntimeAvailable.Instance);
            NodeEvent("NodeReady", now);
            if (_desired is not null) Reconcile();
        }
        SendHeartbeat();
        return true;
    }

    private void LogNotReady(string message)
    {
        if (message == _runtimeErrorLogged) return;
        _runtimeErrorLogged = message;
        _log.Warning("Container runtime is not ready ({0}): the node is NotReady and its pods are not synced until it answers; " +
                     "checking every {1}", message, _settings.RuntimeRetryInterval);
    }

    /// <summary>The kubelet's event when its Ready condition changes ("Node NAME status is now: NodeNotReady").</summary>
    private void NodeEvent(string reason, DateTime now) =>
        ToMaster(new NodeEventReported(_settings.NodeName, KubeletEvents.ForNode(_settings.NodeName, "Normal", reason,
            $"Node {_settings.NodeName} status is now: {reason}", now)));

    // ---- registration and heartbeats ---------------------------------------------------------------------

    private void StartRegistering()
    {
        _gateway = null;
        _registerAttempts = 0;
        Timers.StartPeriodicTimer(AgentTick.Register.Name, AgentTick.Register, _settings.RegisterInterval);
        SendRegistration();
    }

    private void SendRegistration()
    {
        if (_gateway is not null || !_probed) return;
        // say it once per round; the master may be down for a while
        if (_registerAttempts++ % 20 == 0) _log.Info("Registering node {0} with {1}", _settings.NodeName, _gatewayPath);
        var credential = _credentials?.Credential(Self.Path.ToStringWithAddress(((ExtendedActorSystem)Context.System).Provider.DefaultAddress), DateTime.UtcNow);
        var register = new RegisterNode(_description.Node(DateTime.UtcNow), _identity?.SigningRequest, credential);
        if (_masters.Count <= 1) Context.ActorSelection(_gatewayPath).Tell(register, Self);
        else
            foreach (var master in _masters)
                Context.ActorSelection($"{master}/user/{NodeProtocolNames.GatewayActorName}").Tell(register, Self);
    }

    /// <summary>The master did not accept that this agent is <c>system:node:NAME</c>: say why once per reason, and keep
    /// registering (an operator may delete a stale Node, or give the node its certificate back). A refusal from the gateway
    /// we are registered with means it no longer knows this agent: register again, with the credential.</summary>
    private void OnRefused(NodeRegistrationRefused refused)
    {
        if (refused.Reason != _lastRefusal)
            _log.Error("Node {0}: the master refused to register it as system:node:{0}: {1}", _settings.NodeName, refused.Reason);
        _lastRefusal = refused.Reason;
        if (_gateway is not null && _gateway.Equals(Sender)) StartRegistering();
    }

    private void OnRegistered(NodeRegistered registered)
    {
        Timers.Cancel(AgentTick.Register.Name);
        _lastRefusal = null;
        InstallNodeCertificate(registered);
        InstallKubeletCertificate(registered);
        var restarted = registered.MasterUid is { } uid && _gatewayUid is { } known && uid != known;
        _gatewayUid = registered.MasterUid;
        if (Equals(_gateway, Sender) && !restarted) return;
        if (_gateway is not null) Context.Unwatch(_gateway);
        _gateway = Sender;
        Context.Watch(_gateway);
        // a restarted master numbers its sends from scratch: accept whatever it sends next
        _podsGeneration = -1;
        _servicesGeneration = -1;
        _configGeneration = -1;
        _log.Info("Node {0} registered with {1}", registered.NodeName, Sender.Path);
        foreach (var supervisor in _supervisors.Values) supervisor.Tell(ResendPodStatus.Instance);
    }

    /// <summary>A client certificate the master issued (the first, by bootstrap, or a renewal) is this node's identity from now on.</summary>
    private void InstallNodeCertificate(NodeRegistered registered)
    {
        if (_credentials is null || registered.NodeCertificate is not { } pem) return;
        if (_credentials.Accept(pem) is { } refused) _log.Error("Node {0}: the client certificate from the master is unusable: {1}", _settings.NodeName, refused);
        else _log.Info("Node {0}: the master issued its client certificate (system:node:{0})", _settings.NodeName);
    }

    /// <summary>The serving certificate the master issued goes into the kubelet endpoint; registering again at two
    /// thirds of its lifetime renews it.</summary>
    private void InstallKubeletCertificate(NodeRegistered registered)
    {
        if (_identity is null) return;
        if (registered.KubeletCertificate is null || registered.KubeletCa is null)
        {
            _log.Warning("The master issued no kubelet serving certificate: logs, exec and port-forward through it are unavailable");
            return;
        }
        if (_identity.Accept(registered.KubeletCertificate, registered.KubeletCa) is { } refused)
        {
            _log.Error("The kubelet serving certificate from the master is unusable: {0}", refused);
            return;
        }
        var left = _identity.Expires!.Value - DateTime.UtcNow;
        if (left > TimeSpan.FromMinutes(3))
            Timers.StartSingleTimer(AgentTick.RenewCertificate.Name, AgentTick.RenewCertificate, left * 2 / 3);
    }

    private void SendHeartbeat() =>
        _gateway?.Tell(new NodeHeartbeat(_settings.NodeName, _description.Status(DateTime.UtcNow)), Self);

    private void ToMaster(object message)
    {
        if (_gateway is null) return; // re-sent after registration (ResendPodStatus); events are best effort
        _gateway.Tell(message, Self);
    }

    private void OnMemberEvent(ClusterEvent.IMemberEvent e)
    {
        if (!IsMaster(e.Member)) return;
        switch (e)
        {
            case ClusterEvent.MemberUp up:
                Timers.Cancel(AgentTick.MasterLost.Name);
                _masters.Add(up.Member.Address);
                var path = $"{up.Member.Address}/user/{NodeProtocolNames.GatewayActorName}";
                // the master we registered with, restarted at the same address (another uid): it does not know this node,
                // and the watch of its old gateway never fires, since the cluster, not heartbeats, watches that address now
                if (_gateway is not null && _gateway.Path.Address == up.Member.Address && _gatewayUid is { } registeredUid &&
                    registeredUid != up.Member.UniqueAddress.Uid)
                {
                    _log.Warning("Master {0} restarted since node {1} registered with it; registering again", up.Member.Address, _settings.NodeName);
                    _gatewayPath = path;
                    StartRegistering();
                    break;
                }
                // registered with a gateway on another master that is still up: it stays the one
                if (_gateway is not null && _gateway.Path.Address != up.Member.Address && _masters.Contains(_gateway.Path.Address)) break;
                // registering with this very gateway already: the registration sent travels over the association the
                // join just used and its answer is on the way; a second one would cross the certificate the first brings
                // and ask for one again (issue 19: refused, an error logged, registered again). The round's timer sends
                // it again if it was lost.
                if (_gateway is null && path == _gatewayPath && Timers.IsTimerActive(AgentTick.Register.Name)) break;
                if (path != _gatewayPath || _gateway is null || _gateway.Path.Address != up.Member.Address)
                {
                    _gatewayPath = path;
                    StartRegistering();
                }
                break;
            case ClusterEvent.MemberRemoved:
                _masters.Remove(e.Member.Address);
                _unreachableMasters.Remove(e.Member.Address);
                _log.Warning("Master {0} was removed from the cluster", e.Member.Address);
                if (_masters.Count > 0)
                {
                    // another master holds (or takes over) the control plane: register with whichever answers
                    if (_gateway is null || _gateway.Path.Address == e.Member.Address) StartRegistering();
                    break;
                }
                // removed (left or downed) is final, unlike unreachable: rejoin without waiting
                Timers.StartSingleTimer(AgentTick.MasterLost.Name, AgentTick.MasterLost, TimeSpan.FromSeconds(1));
                break;
        }
    }

    private static bool IsMaster(Member member) => member.HasRole(NodeProtocolNames.MasterRole);

    private void StartMasterLostTimer(string why)
    {
        _log.Warning("Master is {0}; leaving the cluster in {1} unless it comes back", why, _settings.MasterLostTimeout);
        if (!Timers.IsTimerActive(AgentTick.MasterLost.Name))
            Timers.StartSingleTimer(AgentTick.MasterLost.Name, AgentTick.MasterLost, _settings.MasterLostTimeout);
    }

    /// <summary>A restarted master forms a new cluster that this actor system can never join again: shut the system
    /// down so Program starts a fresh one (containers keep running and are adopted).</summary>
    private void Rejoin()
    {
        _log.Warning("Master lost; restarting the node's actor system to join the master's new cluster");
        CoordinatedShutdown.Get(Context.System).Run(CoordinatedShutdown.ClusterLeavingReason.Instance);
    }

    // ---- pods ---------------------------------------------------------------------------------------------

    /// <summary>The ConfigMaps and Secrets of this node's pods: published before the pod set that follows it, so the
    /// supervisors read them when they build environments and volumes (the pod set that follows wakes them).</summary>
    private void OnPodConfig(PodConfigChanged changed)
    {
        if (changed.Generation < _configGeneration) return;
        _configGeneration = changed.Generation;
        _configs.Publish(changed);
    }

    /// <summary>Reclaim Delete of this node's local-path volumes: each directory is removed off the actor's thread and
    /// the master told, so it lets the PersistentVolume go (or records why not).</summary>
    private void OnVolumesToDelete(LocalVolumesToDelete delete)
    {
        var master = Sender;
        var self = Self; // the gateway accepts reports only from the node's registered agent
        var root = _settings.LocalPathRoot;
        var node = _settings.NodeName;
        foreach (var pv in delete.Volumes)
            Task.Run(() =>
            {
                var error = ClaimVolumes.DeleteLocalPath(pv, root);
                master.Tell(new LocalVolumeDeleted(node, pv.Metadata.Name, pv.Metadata.Uid, error), self);
            });
    }

    private void OnDesiredPods(DesiredPodsChanged changed)
    {
        if (changed.Generation < _podsGeneration)
        {
            _log.Debug("Ignoring pod set generation {0} (have {1})", changed.Generation, _podsGeneration);
            return;
        }
        _podsGeneration = changed.Generation;
        var first = _desired is null;
        _desired = changed.Pods;
        _desiredUids = changed.Pods.Where(p => p.Metadata.DeletionTimestamp is null).Select(p => p.Metadata.Uid).ToHashSet();
        if (!_runtimeReady) return; // applied once the runtime answers
        Reconcile();
        if (first) StartSweep(); // adopt-or-remove what a previous agent left behind
    }

    /// <summary>Converges the supervisors on the newest desired set; idempotent.</summary>
    private void Reconcile()
    {
        var desired = _desired ?? [];
        foreach (var pod in desired)
        {
            var uid = pod.Metadata.Uid;
            var deleting = pod.Metadata.DeletionTimestamp is not null;
            if (_supervisors.TryGetValue(uid, out var supervisor))
            {
                supervisor.Tell(new PodUpdated(pod));
                if (deleting) Stop(uid, reportFinalStatus: true);
            }
            else if (!_stopping.ContainsValue(uid) && !_finished.Contains(uid))
            {
                _supervisors[uid] = Context.ActorOf(PodSupervisor.Props(pod, _runtime, _settings.Pods,
                    new PodSources(_configs, _services, _description.Allocatable) { Images = _images, Tokens = _tokens }), $"pod-{uid}-{++_children}");
                if (deleting) Stop(uid, reportFinalStatus: true); // adopts, then stops and reports
                else _log.Info("Supervising pod {0}/{1} ({2})", pod.Metadata.NamespaceProperty, pod.Metadata.Name, uid);
            }
        }
        var present = desired.Select(p => p.Metadata.Uid).ToHashSet();
        foreach (var uid in _supervisors.Keys.Where(u => !present.Contains(u)).ToList())
            Stop(uid, reportFinalStatus: false);
        _finished.IntersectWith(present);
    }

    private void Stop(string uid, bool reportFinalStatus)
    {
        var supervisor = _supervisors[uid];
        _supervisors.Remove(uid);
        _stopping[supervisor] = uid;
        if (reportFinalStatus) _finished.Add(uid);
        Context.Watch(supervisor);
        supervisor.Tell(new StopPod(reportFinalStatus));
        _log.Info("Stopping pod {0}", uid);
    }

    private void OnTerminated(Terminated t)
    {
        if (_stopping.Remove(t.ActorRef, out var stopped))
        {
            _tokens.Forget(stopped);
            return;
        }
        if (Equals(t.ActorRef, _gateway))
        {
            _log.Warning("Node gateway {0} terminated; registering again", t.ActorRef.Path);
            StartRegistering();
        }
    }

    private void OnServices(ServicesChanged changed)
    {
        if (changed.Generation < _servicesGeneration) return;
        _servicesGeneration = changed.Generation;
        try { _services.Publish(changed); }
        catch (Exception e) { _log.Error(e, "A reader of the node's services rejected services generation {0}", changed.Generation); }
    }

    private void OnPolicies(NetworkPoliciesChanged changed)
    {
        try { _policies?.Publish(changed); }
        catch (Exception e) { _log.Error(e, "A reader of the node's network policies rejected generation {0}", changed.Generation); }
    }

    // ---- orphans -----------------------------------------------------------------------------------------

    private void StartSweep()
    {
        if (!_runtimeReady || _desired is null || _sweeping) return;
        _sweeping = true;
        async Task<ContainersListed> List() => new(await _runtime.ListContainersAsync(), await _runtime.ListPodVolumeOwnersAsync());
        List().PipeTo(Self, failure: e => new SweepFailed(e.Message));
    }

    private void OnContainersListed(ContainersListed listed)
    {
        _sweeping = false;
        // pods being stopped remove their own containers; everything else not desired is an orphan
        var stopping = _stopping.Values.ToHashSet();
        bool Orphaned(string uid) => !_desiredUids.Contains(uid) && !stopping.Contains(uid) && !_supervisors.ContainsKey(uid);
        var orphans = listed.Containers
            .Where(c => Orphaned(c.PodUid))
            .OrderBy(c => c.IsSandbox) // a pod's containers before its sandbox, as when a pod stops
            .ToList();
        // volumes of pods that are gone and have no container left (deleted while this node was down): a secret's files
        // must not stay on the node
        var orphanVolumes = (listed.VolumeOwners ?? []).Where(Orphaned).Except(listed.Containers.Select(c => c.PodUid)).ToList();
        foreach (var uid in orphanVolumes)
        {
            _log.Info("Removing the volumes of pod {0}, which is no longer on this node", uid);
            _runtime.RemovePodVolumesAsync(uid).PipeTo(Self, success: () => new OrphansRemoved(0));
        }
        if (orphans.Count == 0) return;
        foreach (var orphan in orphans)
            _log.Info("Removing orphan {0} {1} (pod {2}/{3}, uid {4})", orphan.IsSandbox ? "sandbox" : "container", orphan.Id,
                orphan.PodNamespace, orphan.PodName, orphan.PodUid);
        RemoveInOrderAsync(orphans).PipeTo(Self, success: () => new OrphansRemoved(orphans.Count));
    }

    private async Task RemoveInOrderAsync(IReadOnlyList<RuntimeContainer> containers)
    {
        foreach (var c in containers) await _runtime.RemoveContainerAsync(c.Id);
    }
}
