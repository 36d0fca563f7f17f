using Akka.Actor;
using Akka.Event;
using k8s;
using k8s.Models;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Diagnostics;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Master.Nodes;

/// <summary>Tuning of the gateway: how often an unchanged node status is written to the Node object (the kubelet's
/// nodeStatusReportFrequency, 5 minutes; a changed one is written at once, and every heartbeat renews the node's Lease);
/// the kubelet CA that signs each registering node's serving certificate (none: nodes get no certificate and their
/// kubelet endpoints serve nobody).</summary>
internal sealed record NodeGatewaySettings(TimeSpan StatusReportFrequency)
{
    public static NodeGatewaySettings Default { get; } = new(TimeSpan.FromMinutes(5));

    public KubeletCertificateAuthority? KubeletCa { get; init; }

    /// <summary>The cluster CA, which signs the nodes' client certificates (so they are API credentials too); none: no
    /// registration can prove its name.</summary>
    public NodeClientCertificateAuthority? NodeClientCa { get; init; }

    /// <summary>Every registration must prove <c>system:node:NAME</c> with a client certificate of <see cref="NodeClientCa"/>
    /// (or bootstrap one for a name that has none; <see cref="NodeIdentityCheck"/>). Off: the name is taken on trust, as
    /// in tests of other parts.</summary>
    public bool RequireNodeCredentials { get; init; }

    /// <summary>The issuer of pods' projected ServiceAccount tokens (the API's); none: nodes get no tokens.</summary>
    public Identity.ServiceAccountTokens? Tokens { get; init; }
    /// <summary>Where the nodes' resource usage goes (the metrics API and the autoscaler read it); null: reports are dropped.</summary>
    public ResourceMetrics.ResourceUsageCache? ResourceUsage { get; init; }

    /// <summary>How many node messages are held while the gateway syncs (coalesced per node and pod; see <see cref="PendingNodeMessages"/>).</summary>
    public int MaxPendingMessages { get; init; } = PendingNodeMessages.MaxEntries;

    /// <summary>At most so many pod status writes in one store write (<see cref="PodStatusWriter"/>).</summary>
    public int MaxPodStatusBatch { get; init; } = PodStatusWriter.DefaultMaxBatch;
}

/// <summary>
/// The master's side of the node protocol (top-level actor "node-gateway"). Registers nodes (Node object create
/// or update; the Node's spec — unschedulable, taints — stays the cluster's), remembers each node's agent and
/// watches it, and keeps every agent told: its whole desired pod set (<see cref="DesiredPodsChanged"/>) whenever a
/// pod bound to it changes, preceded by the ConfigMaps and Secrets those pods reference and no others
/// (<see cref="PodConfigChanged"/>, also whenever one of them changes), all Services and EndpointSlices (<see cref="ServicesChanged"/>) whenever one changes,
/// all NetworkPolicies with the pods and namespaces their selectors read (<see cref="NetworkPoliciesChanged"/>), and all
/// of it after every registration. Writes what nodes report, as the kubelet does: on every heartbeat the node's Lease
/// in kube-node-lease (the cheap liveness signal; renewals of many nodes coalesced into one store write by
/// <see cref="LeaseRenewals"/>), the Node status only when it changed or every
/// <see cref="NodeGatewaySettings.StatusReportFrequency"/>; pod status, events. Never decides
/// anything about pods; node health is the NodeLifecycleController's. A node speaks only for itself: every report must
/// come from the agent registered under its name, about pods bound to it; a name another live agent holds is refused,
/// and with <see cref="NodeGatewaySettings.RequireNodeCredentials"/> so is one the agent does not prove is its own.
/// </summary>
internal sealed class NodeGateway : ControllerActor
{
    private const string Pods = "pods";
    private const string Nodes = "nodes";
    private const string Services = "services";
    private const string EndpointSlices = "endpointslices";
    private const string ConfigMaps = "configmaps";
    private const string Secrets = "secrets";
    private const string Claims = "persistentvolumeclaims";
    private const string Volumes = "persistentvolumes";
    private const string ServiceAccounts = "serviceaccounts";
    private const long MinTokenExpirationSeconds = 600;
    private const string Namespaces = "namespaces";
    private const string Policies = "networkpolicies";
    private static readonly ResourceKey AllServices = new(Services, null, "*");
    private static readonly ResourceKey AllPolicies = new(Policies, null, "*");

    private readonly NodeGatewaySettings _settings;
    private readonly Dictionary<string, IActorRef> _agents = new();
    private readonly Dictionary<string, DateTime> _lastStatusWrite = new();
    // names given a certificate by this master (until their Node says so), with the key each was issued for: a registration
    // that proves that key is answered again (NodeIdentityCheck)
    private readonly Dictionary<string, byte[]?> _certified = new();
    private long _generation;
    private static readonly TimeSpan GracefulDeletionSlack = TimeSpan.FromSeconds(30);
    private readonly PendingNodeMessages _pending;
    private readonly LeaseRenewals _leases = new();
    private long _dropped;

    private sealed record NodeCreated(string Name, V1NodeStatus Status);

    /// <summary>The write of a registered Node over the stored one (<see cref="UpdateRegisteredNode"/>), or the read
    /// after it conflicted (<paramref name="Reading"/>).</summary>
    private sealed record NodeReregistered(string Name, V1Node Reported, int Attempt, bool Reading);

    private const int RegisteredNodeAttempts = 5;

    // A node reports a pod's status once per change, so a status write the store refuses (429 when its write queue is
    // full, 5xx) would leave the pod's stored status behind for good: the latest report of each pod (by UID) is kept
    // until its write is stored, and a refused one is written again, as the kubelet's status manager retries (after the
    // pause the writer keeps after a refused batch). The writes go to the store in batches (PodStatusWriter).
    private static TimeSpan PodStatusConflictRetry() => TimeSpan.FromMilliseconds(50 + Random.Shared.Next(100));
    private readonly Dictionary<string, PodStatusReported> _unwrittenPodStatus = new();
    // A report is merged with the pod's stored status and written only over that version (409 otherwise), so a condition
    // another writer has just set (the scheduler's PodScheduled, an eviction's DisruptionTarget) is not lost while the
    // cache lags. One write per pod at a time: a newer report waits for the answer and is written over the pod it
    // returns (kept here until the cache's watch has brought that version; the answer may come first).
    private readonly HashSet<string> _podStatusWriting = new();
    private readonly Dictionary<string, V1Pod> _podStatusWritten = new();
    private readonly IActorRef _podStatusWriter;
    private readonly IActorRef _nodeStatusWriter;
    private sealed record RetryPodStatus(string Uid);

    public NodeGateway(IActorRef store, NodeGatewaySettings settings, TimeSpan resync)
        : base(store, [Pods, Nodes, Services, EndpointSlices, ConfigMaps, Secrets, Claims, Volumes, ServiceAccounts, Namespaces, Policies, IngressFacts.Ingresses, IngressFacts.IngressClasses, NodeLeases.Resource], resync)
    {
        _settings = settings;
        _pending = new PendingNodeMessages(settings.MaxPendingMessages);
        // A node's desired pods are sent on every change to one of them: found by index, not by a scan of all pods.
        Cache.IndexBy(Pods, p => (p as V1Pod)?.Spec?.NodeName is { Length: > 0 } node ? node : null);
        // Until every resource is listed we cannot tell a new node from a known one, nor send whole sets: hold them, bounded.
        Receive<INodeProtocolMessage>(m => !Synced, Hold);
        Receive<RegisterNode>(Register);
        Receive<NodeHeartbeat>(Heartbeat);
        Receive<PodStatusReported>(ReportPodStatus);
        Receive<RetryPodStatus>(retry =>
        {
            if (!_unwrittenPodStatus.TryGetValue(retry.Uid, out var report) || _podStatusWriting.Contains(retry.Uid)) return;
            if (_agents.ContainsKey(report.NodeName)) WritePodStatus(report);
            else _unwrittenPodStatus.Remove(retry.Uid); // its node is gone; a new agent reports for itself
        });
        Receive<PodStatusWriter.Written>(PodStatusesWritten);
        _podStatusWriter = Context.ActorOf(PodStatusWriter.Props(store, settings.MaxPodStatusBatch), "pod-status");
        _nodeStatusWriter = Context.ActorOf(NodeStatusWriter.Props(store), "node-status");
        Receive<NodeEventReported>(RecordNodeEvent);
        Receive<NodeMetricsReported>(ReportUsage);
        Receive<LocalVolumeDeleted>(VolumeDeleted);
        Receive<ServiceAccountTokenRequested>(IssueToken);
        Receive<ObjectsWritten>(LeasesWritten);
        Receive<Terminated>(t =>
        {
            foreach (var name in _agents.Where(a => a.Value.Equals(t.ActorRef)).Select(a => a.Key).ToList())
            {
                Log.Info("node agent of {0} is gone", name);
                _agents.Remove(name);
            }
        });
    }

    public static Props Props(IActorRef store, NodeGatewaySettings? settings = null, TimeSpan? resync = null) =>
        Akka.Actor.Props.Create(() => new NodeGateway(store, settings ?? NodeGatewaySettings.Default, resync ?? TimeSpan.FromMinutes(1)));

    protected override void OnSynced()
    {
        foreach (var (message, sender) in _pending.Drain()) Self.Tell(message, sender);
        if (_dropped > 0) Log.Warning("{0} node messages were dropped while the gateway was syncing; the nodes send their state again", _dropped);
        _dropped = 0;
    }

    private void Hold(INodeProtocolMessage message)
    {
        if (_pending.Add(message, Sender) is not { } dropped) return;
        MasterMetrics.NodeMessageDropped(dropped);
        if (_dropped++ == 0)
            Log.Warning("node gateway: {0} messages held while syncing; dropping further {1} messages (and counting in " +
                        "orchestrator_node_gateway_dropped_messages_total)", _pending.Count, dropped);
    }

    // A resync re-sends everything to every agent: a lost message is repaired within one period.
    protected override IEnumerable<ResourceKey> AllKeys() =>
        _agents.Keys.Select(NodeKey).Append(AllServices).Append(AllPolicies).ToList();

    private static ResourceKey NodeKey(string name) => new(Nodes, null, name);

    /// <summary>Whether the sender is the agent registered for <paramref name="nodeName"/>: a node speaks only for
    /// itself, as the Node authorizer and NodeRestriction hold a kubelet to its own Node, pods and objects.</summary>
    private bool SpeaksFor(string nodeName) => _agents.TryGetValue(nodeName, out var agent) && agent.Equals(Sender);

    /// <summary>Null when the sender may take the name <paramref name="nodeName"/>: no other live agent holds it and the
    /// sender holds no other name; otherwise why not. A restarted node's new agent waits (it registers again every few
    /// seconds) until the old one is gone.</summary>
    private string? ClaimRefusal(string nodeName)
    {
        if (_agents.TryGetValue(nodeName, out var holder) && !holder.Equals(Sender))
            return $"node \"{nodeName}\" is registered from another agent ({holder.Path})";
        var other = _agents.FirstOrDefault(a => a.Value.Equals(Sender) && a.Key != nodeName).Key;
        return other is null ? null : $"the agent is registered as node \"{other}\" and may not speak for node \"{nodeName}\"";
    }

    private void Refuse(INodeProtocolMessage message, string nodeName, string why) =>
        Log.Warning("node gateway: refused {0} for node {1} from {2}: {3}", message.GetType().Name, nodeName, Sender.Path, why);

    private void Register(RegisterNode register)
    {
        var name = register.Node.Metadata.Name;
        var stored = Cache.Get<V1Node>(Nodes, null, name);
        string? nodeCertificate = null;
        if (_settings.RequireNodeCredentials)
        {
            var outcome = _settings.NodeClientCa is { } nodeCa
                ? NodeIdentityCheck.Check(register, Sender.Path.ToString(), Claimed(name, stored), nodeCa, _settings.KubeletCa?.Certificate, DateTime.UtcNow,
                    _certified.GetValueOrDefault(name))
                : new NodeIdentityOutcome("this master has no CA for node certificates");
            if (outcome.Refusal is { } why)
            {
                RefuseIdentity(register, name, why);
                return;
            }
            nodeCertificate = outcome.IssuedCertificate;
        }
        if (ClaimRefusal(name) is { } refusal)
        {
            Refuse(register, name, refusal); // a certificate made for it is never sent
            return;
        }
        if (nodeCertificate is not null)
        {
            _certified[name] = NodeIdentityCheck.KeyOf(nodeCertificate);
            Log.Info("node {0}: issued a client certificate for system:node:{0}", name);
        }
        Remember(name, Sender);
        var (certificate, ca) = IssueKubeletCertificate(register);
        Sender.Tell(new NodeRegistered(name, certificate, ca, nodeCertificate, Incarnation()));
        Log.Info("node {0} registered from {1}", name, Sender.Path);

        var node = RegisteredNode(register.Node, stored);
        var status = NodeStatusMerge.WithHeartbeat(register.Node.Status ?? new V1NodeStatus(), stored?.Status, DateTime.UtcNow);
        if (stored is null)
        {
            node.Status = status;
            Send(new CreateObject(Nodes, node), new NodeCreated(name, status));
        }
        else
        {
            UpdateRegisteredNode(register.Node, stored, attempt: 1);
            WriteNodeStatus(name, stored, status);
            RenewLease(name);
        }
        SendDesiredPods(name);
        SendServices(Sender);
        SendPolicies(Sender);
    }

    /// <summary>This master's cluster uid, which the node compares with the master members it sees Up (a restarted master
    /// at the same address has another); null in an actor system without a cluster (tests).</summary>
    private long? Incarnation() =>
        ((ExtendedActorSystem)Context.System).Provider is Akka.Cluster.ClusterActorRefProvider
            ? Akka.Cluster.Cluster.Get(Context.System).SelfUniqueAddress.Uid
            : null;

    /// <summary>Whether a node certificate was issued for <paramref name="name"/>: then registering as it needs that certificate.</summary>
    private bool Claimed(string name, V1Node? stored) =>
        _certified.ContainsKey(name) || stored?.Metadata.Annotations?.ContainsKey(NodeIdentityCheck.CertificateIssuedAnnotation) == true;

    private void RefuseIdentity(INodeProtocolMessage message, string name, string why)
    {
        Log.Warning("node gateway: refused {0} for node {1} from {2}: not authenticated as system:node:{1}: {3}",
            message.GetType().Name, name, Sender.Path, why);
        Sender.Tell(new NodeRegistrationRefused(name, why));
    }

    /// <summary>The serving certificate for the node's kubelet endpoint: for its name and the InternalIP it registers
    /// with, which is where the master will connect (a later change of address needs a new registration).</summary>
    private (string? Certificate, string? Ca) IssueKubeletCertificate(RegisterNode register)
    {
        var name = register.Node.Metadata.Name;
        if (_settings.KubeletCa is not { } ca || register.KubeletCertificateRequest is not { } request) return (null, null);
        var internalIp = register.Node.Status?.Addresses?.FirstOrDefault(a => a.Type == "InternalIP")?.Address;
        if (!System.Net.IPAddress.TryParse(internalIp, out var address))
        {
            Log.Warning("node {0} registered without an InternalIP address: no kubelet serving certificate issued", name);
            return (null, null);
        }
        try
        {
            return (ca.IssueServing(request, name, address), ca.CertificatePem);
        }
        catch (System.Security.Cryptography.CryptographicException e)
        {
            Log.Warning("node {0} sent an unusable kubelet certificate request: {1}", name, e.Message);
            return (null, null);
        }
    }

    /// <summary>A token for a pod's serviceAccountToken projection, as kube-apiserver's TokenRequest answers the kubelet,
    /// restricted as the Node authorizer restricts it: only the agent registered for the node may ask, only for a pod
    /// bound to that node, and only for the account the pod runs as; the token is bound to the pod (and names the node).</summary>
    private void IssueToken(ServiceAccountTokenRequested request)
    {
        var error = TokenRefusal(request);
        if (error is not null) Log.Warning("no ServiceAccount token for pod {0}/{1} to node {2}: {3}", request.Namespace, request.PodName, request.NodeName, error);
        Sender.Tell(error is null ? Issue(request) : new ServiceAccountTokenIssued(request.RequestId, null, null, error));
    }

    private string? TokenRefusal(ServiceAccountTokenRequested request)
    {
        if (_settings.Tokens is null) return "this master issues no ServiceAccount tokens to nodes";
        if (!_agents.TryGetValue(request.NodeName, out var agent) || !agent.Equals(Sender))
            return $"node \"{request.NodeName}\" is not registered from this sender";
        var user = $"system:node:{request.NodeName}";
        var pod = Cache.Get<V1Pod>(Pods, request.Namespace, request.PodName);
        if (pod is null || pod.Metadata.Uid != request.PodUid || pod.Spec?.NodeName != request.NodeName)
            return $"serviceaccounts \"{request.ServiceAccountName}\" is forbidden: User \"{user}\" cannot create resource \"serviceaccounts/token\" in API group \"\" in the namespace \"{request.Namespace}\": no relationship found between node '{request.NodeName}' and this object";
        if ((pod.Spec.ServiceAccountName is { Length: > 0 } running ? running : "default") != request.ServiceAccountName)
            return $"cannot bind token for serviceaccount \"{request.ServiceAccountName}\" to pod running with different serviceaccount name.";
        if (Cache.Get<V1ServiceAccount>(ServiceAccounts, request.Namespace, request.ServiceAccountName) is null)
            return $"serviceaccounts \"{request.ServiceAccountName}\" not found";
        if (request.ExpirationSeconds < MinTokenExpirationSeconds)
            return $"TokenRequest.authentication.k8s.io \"{request.ServiceAccountName}\" is invalid: spec.expirationSeconds: Invalid value: {request.ExpirationSeconds}: may not specify a duration less than 10 minutes";
        return null;
    }

    private ServiceAccountTokenIssued Issue(ServiceAccountTokenRequested request)
    {
        var tokens = _settings.Tokens!;
        var pod = Cache.Get<V1Pod>(Pods, request.Namespace, request.PodName)!;
        var account = Cache.Get<V1ServiceAccount>(ServiceAccounts, request.Namespace, request.ServiceAccountName)!;
        var node = Cache.Get<V1Node>(Nodes, null, request.NodeName);
        var lifetime = TimeSpan.FromSeconds(request.ExpirationSeconds);
        var claims = tokens.NewClaims(request.Namespace, request.ServiceAccountName, account.Metadata.Uid, request.Audiences, lifetime,
            new Identity.BoundObject(pod.Metadata.Name, pod.Metadata.Uid),
            node: node is null ? null : new Identity.BoundObject(node.Metadata.Name, node.Metadata.Uid));
        // the expiry announced is the one asked for, also when kube's extension makes the token itself last longer
        return new ServiceAccountTokenIssued(request.RequestId, tokens.Sign(claims), (claims.IssuedAt + lifetime).UtcDateTime);
    }

    private void Remember(string name, IActorRef agent)
    {
        if (_agents.TryGetValue(name, out var known) && known.Equals(agent)) return;
        if (known is not null && _agents.Count(a => a.Value.Equals(known)) == 1) Context.Unwatch(known);
        _agents[name] = agent;
        Context.Watch(agent);
    }

    private void Heartbeat(NodeHeartbeat heartbeat)
    {
        var name = heartbeat.NodeName;
        if (!SpeaksFor(name) && ClaimRefusal(name) is { } refusal)
        {
            Refuse(heartbeat, name, refusal);
            return;
        }
        if (!_agents.ContainsKey(name) && _settings.RequireNodeCredentials)
        {
            // it proves its name only by registering: ask it to
            RefuseIdentity(heartbeat, name, "the node is not registered from this agent; it must register (with its credential) first");
            return;
        }
        if (!_agents.ContainsKey(name))
        {
            // An agent we have not heard register (the master restarted under it): take it on and catch it up.
            Remember(name, Sender);
            SendDesiredPods(name);
            SendServices(Sender);
            SendPolicies(Sender);
        }
        var stored = Cache.Get<V1Node>(Nodes, null, name);
        var status = NodeStatusMerge.WithHeartbeat(heartbeat.Status, stored?.Status, DateTime.UtcNow);
        if (stored is null)
        {
            var node = new V1Node { ApiVersion = "v1", Kind = "Node", Metadata = new V1ObjectMeta { Name = name }, Status = status };
            Send(new CreateObject(Nodes, node), new NodeCreated(name, status));
            return;
        }
        // The kubelet's tryUpdateNodeStatus: an unchanged status is written only once nodeStatusReportFrequency has passed.
        var due = !_lastStatusWrite.TryGetValue(name, out var last) || DateTime.UtcNow - last >= _settings.StatusReportFrequency;
        if (due || NodeStatusMerge.DiffersBeyondHeartbeat(status, stored.Status)) WriteNodeStatus(name, stored, status);
        RenewLease(name);
    }

    private void RenewLease(string name)
    {
        _leases.Due(name);
        FlushLeases();
    }

    /// <summary>Sends the waiting renewals as one batch, unless one is being stored (its answer sends the next).</summary>
    private void FlushLeases()
    {
        var now = DateTime.UtcNow;
        var batch = _leases.TakeBatch(now);
        if (batch.Count == 0) return;
        var writes = batch
            .Select(name => Cache.Get<V1Node>(Nodes, null, name) is { } node
                ? NodeLeases.Renewal(node, Cache.Get<V1Lease>(NodeLeases.Resource, NodeLeases.Namespace, name), now)
                : null) // a node not yet in the cache renews on its next heartbeat
            .OfType<object>().ToList();
        if (writes.Count == 0)
        {
            _leases.Answered();
            return;
        }
        Store.Tell(new WriteObjects(writes), Self);
    }

    private void LeasesWritten(ObjectsWritten written)
    {
        _leases.Answered();
        // 409/404: the cache was behind (a lease just created, or deleted with its node); the next heartbeat settles it
        var failed = written.Replies.OfType<StoreFailed>().Where(f => f.Error.Code is not (404 or 409)).ToList();
        if (failed.Count > 0)
            Log.Warning("renewing {0} of {1} node leases failed: {2}", failed.Count, written.Replies.Count, failed[0].Error.Message);
        FlushLeases();
    }

    private void WriteNodeStatus(string name, V1Node stored, V1NodeStatus status)
    {
        var updated = KubeObjects.Clone(stored);
        updated.Metadata.ResourceVersion = null; // the node is the authority on its status
        updated.Status = status;
        // in batches (NodeStatusWriter): the first heartbeats of thousands of nodes registered at once come together
        _nodeStatusWriter.Tell(new NodeStatusWriter.Write(name, new UpdateObject(Nodes, updated, "status")));
        _lastStatusWrite[name] = DateTime.UtcNow;
    }

    private void ReportPodStatus(PodStatusReported report)
    {
        if (!SpeaksFor(report.NodeName))
        {
            Refuse(report, report.NodeName, "the sender is not the node's registered agent");
            return;
        }
        WritePodStatus(report);
    }

    private void WritePodStatus(PodStatusReported report)
    {
        if (_podStatusWriting.Contains(report.Uid))
        {
            _unwrittenPodStatus[report.Uid] = report; // written when the write under way is answered
            return;
        }
        _unwrittenPodStatus.Remove(report.Uid);
        var pod = Cache.Get<V1Pod>(Pods, report.Namespace, report.Name);
        if (_podStatusWritten.TryGetValue(report.Uid, out var written))
        {
            if (pod is not null && Newer(written, pod)) pod = written;
            else _podStatusWritten.Remove(report.Uid);
        }
        if (pod is null || pod.Metadata.Uid != report.Uid || pod.Spec?.NodeName != report.NodeName) return;
        if (pod.Metadata.DeletionTimestamp is not null && GracefulPodDeletion.Stopped(report.Status))
        {
            // the node has stopped a gracefully deleted pod's containers: the deletion is complete
            ForceDelete(pod);
            return;
        }
        var status = NodeStatusMerge.PodStatus(report.Status, pod.Status, pod.Spec.ReadinessGates, DateTime.UtcNow);
        if (KubeObjects.SameJson(status, pod.Status ?? new V1PodStatus())) return;
        // The store takes only the status (and the key) of a /status write's object: it is built for this write alone,
        // its status a graph of its own (a retry builds it again from the report), and handed over without a copy.
        var updated = new V1Pod
        {
            ApiVersion = pod.ApiVersion, Kind = pod.Kind,
            Metadata = new V1ObjectMeta
            {
                Name = pod.Metadata.Name, NamespaceProperty = pod.Metadata.NamespaceProperty, ResourceVersion = pod.Metadata.ResourceVersion,
            },
            Status = status,
        };
        _unwrittenPodStatus[report.Uid] = report;
        _podStatusWriting.Add(report.Uid);
        _podStatusWriter.Tell(new PodStatusWriter.Write(report, new UpdateObject(Pods, updated, "status") { HandedOver = true }));
    }

    /// <summary>The store's answers to a batch of the writer's: each pod's next report (one that waited, or a refused one
    /// again) is written; a conflicting one is merged again once the watch may have brought the pod's current version.</summary>
    private void PodStatusesWritten(PodStatusWriter.Written batch)
    {
        StoreFailed? firstError = null;
        var errors = 0;
        foreach (var (report, answer) in batch.Answers)
        {
            var uid = report.Uid;
            _podStatusWriting.Remove(uid);
            if (answer is ObjectStored { Object: V1Pod stored }) _podStatusWritten[uid] = stored;
            if (!_unwrittenPodStatus.TryGetValue(uid, out var latest)) continue;
            var failed = answer as StoreFailed;
            if (!ReferenceEquals(latest, report) || failed?.Error.Code is 429 or >= 500)
            {
                // a newer report waited for this answer, or this one was refused for now: written (again) — the writer
                // holds it back while the store asks to wait
                if (_agents.ContainsKey(latest.NodeName)) WritePodStatus(latest);
                else _unwrittenPodStatus.Remove(uid); // its node is gone; a new agent reports for itself
            }
            else if (failed?.Error.Code is 409)
            {
                // the pod changed since the version the report was merged with: merged again once the watch has it
                Timers.StartSingleTimer(("pod-status", uid), new RetryPodStatus(uid), PodStatusConflictRetry());
            }
            else
            {
                _unwrittenPodStatus.Remove(uid);
                if (failed is { Error.Code: not 404 } && errors++ == 0) firstError = failed; // not retried (e.g. 422)
            }
        }
        if (firstError is not null)
            Log.Warning("writing the status of {0} of {1} pods failed: {2} {3}", errors, batch.Answers.Count, firstError.Error.Code, firstError.Error.Message);
    }

    private static bool Newer(V1Pod a, V1Pod b) =>
        long.TryParse(a.Metadata.ResourceVersion, out var x) && long.TryParse(b.Metadata.ResourceVersion, out var y) && x > y;

    /// <summary>Kept in memory, never stored; only from the agent registered under that node's name.</summary>
    private void ReportUsage(NodeMetricsReported report)
    {
        if (!SpeaksFor(report.NodeName)) return;
        // only the pods bound to the node: a node does not report on another's pods
        var own = report.Pods.Where(p => Cache.Get<V1Pod>(Pods, p.Namespace, p.Name) is { } pod && pod.Metadata.Uid == p.Uid &&
                                         pod.Spec?.NodeName == report.NodeName).ToList();
        _settings.ResourceUsage?.Report(own.Count == report.Pods.Count ? report : report with { Pods = own });
    }

    private void RecordNodeEvent(NodeEventReported reported)
    {
        if (EventRefusal(reported) is { } refusal)
        {
            Refuse(reported, reported.NodeName, refusal);
            return;
        }
        var ev = KubeObjects.Clone(reported.Event);
        ev.ApiVersion = "v1";
        ev.Kind = "Event";
        ev.Metadata ??= new V1ObjectMeta();
        ev.Metadata.NamespaceProperty ??= ev.InvolvedObject?.NamespaceProperty ?? "default";
        if (string.IsNullOrEmpty(ev.Metadata.Name) && string.IsNullOrEmpty(ev.Metadata.GenerateName))
            ev.Metadata.Name = $"{ev.InvolvedObject?.Name ?? reported.NodeName}.{Guid.NewGuid().ToString("N")[..16]}";
        ev.Metadata.ResourceVersion = null;
        ev.Source ??= new V1EventSource { Component = "kubelet", Host = reported.NodeName };
        ev.FirstTimestamp ??= DateTime.UtcNow;
        ev.LastTimestamp ??= ev.FirstTimestamp;
        ev.Count ??= 1;
        SendAndForget(new CreateObject(EventRecorder.Resource, ev) { HandedOver = true }); // a copy, never sent again
    }

    /// <summary>Null when the node may record the event: it is the node's agent, and an event about a Node is about
    /// itself and one about a pod that exists is about a pod bound to it (one already gone is recorded, as the kubelet's
    /// last events about a pod arrive after its deletion).</summary>
    private string? EventRefusal(NodeEventReported reported)
    {
        if (!SpeaksFor(reported.NodeName)) return "the sender is not the node's registered agent";
        var involved = reported.Event.InvolvedObject;
        switch (involved?.Kind)
        {
            case "Node" when involved.Name != reported.NodeName:
                return $"the event is about node \"{involved.Name}\"";
            case "Pod":
                var pod = Cache.Get<V1Pod>(Pods, involved.NamespaceProperty ?? "default", involved.Name ?? "");
                if (pod is not null && (involved.Uid is null || involved.Uid == pod.Metadata.Uid) && pod.Spec?.NodeName != reported.NodeName)
                    return $"the event is about pod {involved.NamespaceProperty}/{involved.Name}, which is not bound to the node";
                break;
        }
        return null;
    }

    protected override void OnChanged(string resource, IKubernetesObject<V1ObjectMeta>? old, IKubernetesObject<V1ObjectMeta>? current)
    {
        switch (resource)
        {
            case Services:
            case EndpointSlices:
            case IngressFacts.Ingresses:
            case IngressFacts.IngressClasses:
                Enqueue(AllServices);
                break;
            case Nodes when (old as V1Node)?.Spec?.PodCIDR != (current as V1Node)?.Spec?.PodCIDR || ZoneOf(old as V1Node) != ZoneOf(current as V1Node):
                Enqueue(AllServices); // a node came, went or changed its pod range or zone: the proxies' client nodes and zones
                break;
            case Secrets when IngressTlsSecret((current ?? old)!.Metadata):
                Enqueue(AllServices);
                goto case ConfigMaps;
            case ConfigMaps:
            case Secrets:
                // the nodes whose pods use it (a Secret's values go to those nodes only)
                var changed = (current ?? old)!.Metadata;
                var secret = resource == Secrets;
                foreach (var node in Cache.List<V1Pod>(Pods)
                             .Where(p => !string.IsNullOrEmpty(p.Spec?.NodeName) && PodReferences.Uses(p, changed.NamespaceProperty, changed.Name, secret))
                             .Select(p => p.Spec!.NodeName).Distinct())
                    if (_agents.ContainsKey(node)) Enqueue(NodeKey(node));
                break;
            case Claims:
                var claim = (current ?? old)!.Metadata;
                foreach (var node in Cache.List<V1Pod>(Pods)
                             .Where(p => !string.IsNullOrEmpty(p.Spec?.NodeName) && VolumeFacts.Uses(p, claim.NamespaceProperty, claim.Name))
                             .Select(p => p.Spec!.NodeName).Distinct())
                    if (_agents.ContainsKey(node)) Enqueue(NodeKey(node));
                break;
            case Volumes:
                var volume = (V1PersistentVolume)(current ?? old)!;
                if (VolumeFacts.NodeOf(volume) is { } home && _agents.ContainsKey(home)) Enqueue(NodeKey(home));
                if (volume.Spec?.ClaimRef is { } bound)
                    foreach (var node in Cache.List<V1Pod>(Pods)
                                 .Where(p => !string.IsNullOrEmpty(p.Spec?.NodeName) && VolumeFacts.Uses(p, bound.NamespaceProperty, bound.Name))
                                 .Select(p => p.Spec!.NodeName).Distinct())
                        if (_agents.ContainsKey(node)) Enqueue(NodeKey(node));
                break;
            case Policies:
                Enqueue(AllPolicies);
                break;
            case Namespaces:
                if (!NetworkPolicyFacts.SameLabels((old as V1Namespace)?.Metadata.Labels, (current as V1Namespace)?.Metadata.Labels)
                    && Cache.List<V1NetworkPolicy>(Policies).Any()) Enqueue(AllPolicies);
                break;
            case Pods:
                var before = old as V1Pod;
                var after = current as V1Pod;
                if ((after ?? before)?.Metadata.Uid is { } uid && _podStatusWritten.TryGetValue(uid, out var written) &&
                    (after is null || !Newer(written, after)))
                    _podStatusWritten.Remove(uid); // the cache has caught up with the gateway's own status write
                if (NetworkPolicyFacts.PeerChanged(before, after) && Cache.List<V1NetworkPolicy>(Policies).Any()) Enqueue(AllPolicies);
                if (before is not null && after is not null && OnlyStatusChanged(before, after))
                {
                    GateReadinessAgain(after);
                    return;
                }
                foreach (var node in new[] { before?.Spec?.NodeName, after?.Spec?.NodeName }.Distinct())
                    if (!string.IsNullOrEmpty(node) && _agents.ContainsKey(node)) Enqueue(NodeKey(node));
                break;
        }
    }

    /// <summary>A readiness gate's condition changed (a controller wrote it): Ready is judged again over the stored
    /// status, as the kubelet does when the pod's update reaches it. A node report waiting to be written is gated itself.</summary>
    private void GateReadinessAgain(V1Pod pod)
    {
        if (pod.Spec?.ReadinessGates is not { Count: > 0 } || pod.Status is null || pod.Spec.NodeName is not { Length: > 0 } node ||
            !_agents.ContainsKey(node) || _unwrittenPodStatus.ContainsKey(pod.Metadata.Uid)) return;
        var ready = pod.Status.Conditions?.FirstOrDefault(c => c.Type == "Ready")?.Status;
        var gated = NodeStatusMerge.PodStatus(pod.Status, pod.Status, pod.Spec.ReadinessGates).Conditions?.FirstOrDefault(c => c.Type == "Ready")?.Status;
        if (ready != gated)
            WritePodStatus(new PodStatusReported(node, pod.Metadata.NamespaceProperty ?? "default", pod.Metadata.Name, pod.Metadata.Uid, pod.Status));
    }

    // The node is the source of pod status: its own reports coming back need not be sent to it again.
    // (Compares the spec and the metadata but resourceVersion and managedFields, serialised, and the type: cloning both
    // pods whole to blank those fields was 10% of the process under a scheduling load.)
    internal static bool OnlyStatusChanged(V1Pod before, V1Pod after)
    {
        // every field of ObjectMeta but those two
        static V1ObjectMeta Compared(V1ObjectMeta m) => new()
        {
            Annotations = m.Annotations, CreationTimestamp = m.CreationTimestamp, DeletionGracePeriodSeconds = m.DeletionGracePeriodSeconds,
            DeletionTimestamp = m.DeletionTimestamp, Finalizers = m.Finalizers, GenerateName = m.GenerateName, Generation = m.Generation,
            Labels = m.Labels, Name = m.Name, NamespaceProperty = m.NamespaceProperty, OwnerReferences = m.OwnerReferences,
            SelfLink = m.SelfLink, Uid = m.Uid,
        };
        // Before serializing: the store's /status writes share the stored spec and copy the metadata member for member
        // (the same labels, annotations, owner references), and a binding changes the node's name — per pod, the two
        // changes every pod makes, which were 4 serializations each.
        if (before.ApiVersion != after.ApiVersion || before.Kind != after.Kind || before.Spec?.NodeName != after.Spec?.NodeName) return false;
        return (ReferenceEquals(before.Spec, after.Spec) || KubeObjects.SameJson(before.Spec, after.Spec))
               && (SharedMetadata(before.Metadata, after.Metadata)
                   || KubeObjects.SameJson(before.Metadata is null ? null : Compared(before.Metadata), after.Metadata is null ? null : Compared(after.Metadata)));
    }

    /// <summary>Whether two pods' metadata are the same but for resourceVersion and managedFields by their members alone:
    /// the same collections (never changed in place in the informer's objects) and equal values.</summary>
    internal static bool SharedMetadata(V1ObjectMeta? a, V1ObjectMeta? b) =>
        a is not null && b is not null
        && ReferenceEquals(a.Annotations, b.Annotations) && ReferenceEquals(a.Labels, b.Labels)
        && ReferenceEquals(a.OwnerReferences, b.OwnerReferences) && ReferenceEquals(a.Finalizers, b.Finalizers)
        && a.CreationTimestamp == b.CreationTimestamp && a.DeletionGracePeriodSeconds == b.DeletionGracePeriodSeconds
        && a.DeletionTimestamp == b.DeletionTimestamp && a.GenerateName == b.GenerateName && a.Generation == b.Generation
        && a.Name == b.Name && a.NamespaceProperty == b.NamespaceProperty && a.SelfLink == b.SelfLink && a.Uid == b.Uid;

    protected override void Reconcile(ResourceKey key)
    {
        if (key == AllServices)
        {
            foreach (var agent in _agents.Values.Distinct()) SendServices(agent);
            return;
        }
        if (key == AllPolicies)
        {
            foreach (var agent in _agents.Values.Distinct()) SendPolicies(agent);
            return;
        }
        SendDesiredPods(key.Name);
    }

    private void ForceDelete(V1Pod pod) =>
        SendAndForget(new DeleteObject(new ResourceKey(Pods, pod.Metadata.NamespaceProperty, pod.Metadata.Name),
            PreconditionUid: pod.Metadata.Uid, GracePeriodSeconds: 0));

    private void SendDesiredPods(string nodeName)
    {
        if (!_agents.TryGetValue(nodeName, out var agent)) return;
        var pods = Cache.ListBy<V1Pod>(Pods, nodeName)
            .OrderBy(p => p.Metadata.NamespaceProperty, StringComparer.Ordinal).ThenBy(p => p.Metadata.Name, StringComparer.Ordinal)
            .ToList();
        // a node's final report may be lost (a restart on either side): a grace period long over ends the deletion
        foreach (var overdue in pods.Where(p => p.Metadata.DeletionTimestamp is { } t && t < DateTime.UtcNow - GracefulDeletionSlack))
            ForceDelete(overdue);
        // first: the same channel keeps the order, so the node never sees a pod before its configuration
        agent.Tell(PodConfigFor(nodeName, pods));
        agent.Tell(new DesiredPodsChanged(nodeName, NextGeneration(), pods));
        var deleting = VolumesToDelete(nodeName);
        if (deleting.Count > 0) agent.Tell(new LocalVolumesToDelete(nodeName, NextGeneration(), deleting));
    }

    /// <summary>The node's provisioned volumes that are being deleted and still hold their storage.</summary>
    private List<V1PersistentVolume> VolumesToDelete(string nodeName) =>
        Cache.List<V1PersistentVolume>(Volumes)
            .Where(pv => pv.Metadata.DeletionTimestamp is not null && pv.Metadata.Finalizers?.Contains(VolumeFacts.ProvisionerFinalizer) == true &&
                         pv.Metadata.Annotations?.TryGetValue(VolumeFacts.ProvisionedBy, out var by) == true && by == VolumeFacts.LocalPathProvisioner &&
                         VolumeFacts.NodeOf(pv) == nodeName)
            .ToList();

    /// <summary>The node removed a volume's directory: the volume may go (or the node says why not, as an event).</summary>
    private void VolumeDeleted(LocalVolumeDeleted deleted)
    {
        if (!SpeaksFor(deleted.NodeName))
        {
            Refuse(deleted, deleted.NodeName, "the sender is not the node's registered agent");
            return;
        }
        var pv = Cache.Get<V1PersistentVolume>(Volumes, null, deleted.VolumeName);
        if (pv is null || pv.Metadata.Uid != deleted.Uid || VolumeFacts.NodeOf(pv) != deleted.NodeName) return;
        if (deleted.Error is { } error)
        {
            SendAndForget(new CreateObject(EventRecorder.Resource, new EventRecorder(Store, "kubelet", deleted.NodeName)
                .Build(EventRecorder.ReferenceTo(pv), EventRecorder.Warning, "VolumeFailedDelete", error, DateTime.UtcNow)));
            return;
        }
        if (pv.Metadata.Finalizers?.Contains(VolumeFacts.ProvisionerFinalizer) != true) return;
        var updated = KubeObjects.Clone(pv);
        updated.Metadata.Finalizers = updated.Metadata.Finalizers!.Where(f => f != VolumeFacts.ProvisionerFinalizer).ToList();
        SendAndForget(new UpdateObject(Volumes, updated));
    }

    /// <summary>The ConfigMaps and Secrets the node's pods reference, in their namespaces; missing ones are left out.</summary>
    private PodConfigChanged PodConfigFor(string nodeName, IReadOnlyList<V1Pod> pods)
    {
        // loops rather than a LINQ chain: this runs on every change of one of the node's pods, over all of them
        var configMaps = new List<V1ConfigMap>();
        var secrets = new List<V1Secret>();
        var claims = new List<V1PersistentVolumeClaim>();
        HashSet<(string, string)>? seenConfigMaps = null, seenSecrets = null, seenClaims = null;
        foreach (var p in pods)
        {
            var ns = p.Metadata.NamespaceProperty ?? "default";
            foreach (var name in PodReferences.ConfigMaps(p))
                if ((seenConfigMaps ??= []).Add((ns, name)) && Cache.Get<V1ConfigMap>(ConfigMaps, ns, name) is { } configMap) configMaps.Add(configMap);
            foreach (var name in PodReferences.Secrets(p))
                if ((seenSecrets ??= []).Add((ns, name)) && Cache.Get<V1Secret>(Secrets, ns, name) is { } secret) secrets.Add(secret);
            foreach (var claim in VolumeFacts.Claims(p))
                if ((seenClaims ??= []).Add((ns, claim.ClaimName)) && Cache.Get<V1PersistentVolumeClaim>(Claims, ns, claim.ClaimName) is { } found)
                    claims.Add(found);
        }
        var volumes = claims.Where(VolumeFacts.IsBound).Select(c => Cache.Get<V1PersistentVolume>(Volumes, null, c.Spec!.VolumeName))
            .OfType<V1PersistentVolume>().ToList();
        return new PodConfigChanged(nodeName, NextGeneration(), configMaps, secrets, claims, volumes);
    }

    private void SendServices(IActorRef agent)
    {
        var ingresses = ServedIngresses();
        // the Secrets of kubernetes.io/tls type those Ingresses name, and no others
        var secrets = ingresses.SelectMany(i => IngressFacts.TlsSecrets(i).Select(n => (i.Metadata.NamespaceProperty ?? "default", Name: n))).Distinct()
            .Select(r => Cache.Get<V1Secret>(Secrets, r.Item1, r.Name)).OfType<V1Secret>().Where(s => s.Type == "kubernetes.io/tls").ToList();
        agent.Tell(new ServicesChanged(NextGeneration(), Cache.List<V1Service>(Services).ToList(),
            Cache.List<V1EndpointSlice>(EndpointSlices).ToList(), ingresses, secrets, PodRanges(), NodeZones()));
    }

    private const string ZoneLabel = "topology.kubernetes.io/zone";

    private static string? ZoneOf(V1Node? node) => node?.Metadata?.Labels?.TryGetValue(ZoneLabel, out var zone) == true ? zone : null;

    /// <summary>Every zoned Node's zone: the proxies follow zone hints by it (trafficDistribution, topology-mode Auto).</summary>
    private List<NodeZone> NodeZones() =>
        Cache.List<V1Node>(Nodes).Where(n => !string.IsNullOrEmpty(ZoneOf(n))).Select(n => new NodeZone(n.Metadata.Name, ZoneOf(n)!)).ToList();

    /// <summary>Every Node's pod range: the proxies tell a client's node by it (internalTrafficPolicy Local).</summary>
    private List<NodePodRange> PodRanges() =>
        Cache.List<V1Node>(Nodes).Where(n => !string.IsNullOrEmpty(n.Spec?.PodCIDR))
            .Select(n => new NodePodRange(n.Metadata.Name, n.Spec!.PodCIDR)).ToList();

    private List<V1Ingress> ServedIngresses()
    {
        var classes = Cache.List<V1IngressClass>(IngressFacts.IngressClasses).ToList();
        return Cache.List<V1Ingress>(IngressFacts.Ingresses).Where(i => IngressFacts.Served(i, classes)).ToList();
    }

    private bool IngressTlsSecret(V1ObjectMeta secret) =>
        ServedIngresses().Any(i => (i.Metadata.NamespaceProperty ?? "default") == (secret.NamespaceProperty ?? "default")
                                   && IngressFacts.TlsSecrets(i).Contains(secret.Name));

    private void SendPolicies(IActorRef agent) =>
        agent.Tell(NetworkPolicyFacts.Message(NextGeneration(), Cache.List<V1NetworkPolicy>(Policies).ToList(),
            Cache.List<V1Namespace>(Namespaces), Cache.List<V1Pod>(Pods)));

    // Grows with every send and across master restarts (it starts from the clock), so nodes can drop stale sets.
    private long NextGeneration() => _generation = Math.Max(_generation + 1, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

    /// <summary>The Node a registration writes: what the node reports over the stored one, and the claim of its name.</summary>
    private V1Node RegisteredNode(V1Node reported, V1Node? stored)
    {
        var node = NodeStatusMerge.Registered(reported, stored);
        if (_settings.RequireNodeCredentials)
        {
            // the name is claimed from now on: only its certificate registers it (kept across master restarts)
            node.Metadata.Annotations ??= new Dictionary<string, string>();
            if (stored?.Metadata.Annotations?.TryGetValue(NodeIdentityCheck.CertificateIssuedAnnotation, out var since) == true)
                node.Metadata.Annotations[NodeIdentityCheck.CertificateIssuedAnnotation] = since;
            else
                node.Metadata.Annotations[NodeIdentityCheck.CertificateIssuedAnnotation] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ");
        }
        return node;
    }

    /// <summary>A registered Node's labels and spec merged over <paramref name="stored"/>, written only if nothing else
    /// wrote it since (its resourceVersion), as the kubelet patches the Node it finds: a cordon, a taint or a label
    /// written between the read and this write is kept — on a conflict the Node is read again and merged again.</summary>
    private void UpdateRegisteredNode(V1Node reported, V1Node stored, int attempt)
    {
        var node = RegisteredNode(reported, stored);
        node.Metadata.ResourceVersion = stored.Metadata.ResourceVersion;
        Send(new UpdateObject(Nodes, node), new NodeReregistered(stored.Metadata.Name, reported, attempt, Reading: false));
    }

    private void OnNodeReregistered(NodeReregistered written, StoreReplied reply)
    {
        if (written.Reading)
        {
            if (reply.Stored?.Object is V1Node current) UpdateRegisteredNode(written.Reported, current, written.Attempt);
            else Log.Warning("registering node {0}: reading it again failed: {1}", written.Name, reply.Failed?.Error.Message);
            return;
        }
        if (reply.Succeeded) return;
        if (reply.Failed!.Error.Code == 409 && written.Attempt < RegisteredNodeAttempts)
            Send(new GetObject(new ResourceKey(Nodes, null, written.Name)), written with { Attempt = written.Attempt + 1, Reading = true });
        else
            Log.Warning("registering node {0}: writing its labels and spec failed: {1}", written.Name, reply.Failed.Error.Message);
    }

    protected override void OnStoreReplied(StoreReplied reply)
    {
        if (reply.Tag is NodeReregistered reregistered)
        {
            OnNodeReregistered(reregistered, reply);
            return;
        }
        if (reply.Tag is NodeCreated created)
        {
            if (reply.Stored?.Object is V1Node node && NodeStatusMerge.DiffersBeyondHeartbeat(created.Status, node.Status))
                WriteNodeStatus(created.Name, node, created.Status); // a create may drop the status
            else if (!reply.Succeeded)
                Log.Warning("registering node {0} failed: {1}", created.Name, reply.Failed!.Error.Message);
            return;
        }
        base.OnStoreReplied(reply);
    }
}
