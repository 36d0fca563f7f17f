using System.Threading.Channels;
using Akka.Actor;
using k8s;
using k8s.Models;

namespace Orchestrator.Master.Store;

// The ObjectStore's protocol. The store is one persistent actor (actor name "object-store", found through the
// ActorRegistry as ObjectStore) that owns every API object. Every accepted write is one persisted event and
// takes the next global sequence number as its resourceVersion.
//
// Objects in replies and change notifications are shared with other readers: never modify them in place;
// copy with KubeObjects.Clone first.
//
// Callers outside the actor system (the HTTP API) use Ask; actors Tell and handle the reply message.

/// <summary>Create. Validates, defaults and fills uid, creationTimestamp, generation, resourceVersion
/// (and for Services clusterIP and nodePorts). Replies <see cref="ObjectStored"/> or <see cref="StoreFailed"/>
/// (409 AlreadyExists, 422 Invalid, 404 NotFound when the namespace does not exist).</summary>
internal sealed record CreateObject(string Resource, IKubernetesObject<V1ObjectMeta> Object, bool DryRun = false,
    FieldManager? Manager = null)
{
    /// <summary>The requesting user's name, for admission (PodSecurity's exempt usernames); null for the control plane's writes.</summary>
    public string? User { get; init; }

    /// <summary>All of the requesting user, for admission (ValidatingAdmissionPolicies' request.userInfo); null as <see cref="User"/>.</summary>
    public AdmissionUser? UserInfo { get; init; }

    /// <inheritdoc cref="UpdateObject.HandedOver"/>
    public bool HandedOver { get; init; }

    /// <inheritdoc cref="UpdateObject.RequestApiVersion"/>
    public string? RequestApiVersion { get; init; }
}

/// <summary>Replace. When metadata.resourceVersion is set it must equal the stored one (409 Conflict otherwise).
/// <see cref="Subresource"/> "status" changes only .status; null changes everything but .status, and bumps
/// metadata.generation when .spec changed. Replies <see cref="ObjectStored"/> or <see cref="StoreFailed"/>.</summary>
internal sealed record UpdateObject(string Resource, IKubernetesObject<V1ObjectMeta> Object, string? Subresource = null,
    bool DryRun = false, FieldManager? Manager = null)
{
    /// <summary>As <see cref="CreateObject.User"/>.</summary>
    public string? User { get; init; }

    /// <inheritdoc cref="CreateObject.UserInfo"/>
    public AdmissionUser? UserInfo { get; init; }

    /// <summary>The sender gives <see cref="Object"/> to the store: a graph of its own (nothing in it is shared with
    /// another object — a cached or stored one, a template), which the sender never reads or changes again and never
    /// sends again. The store then plans on it in place and stores it, without the deep copy it makes otherwise (on the
    /// store's one serial path). A sender that may resend the message (the API's admission retry) hands over a copy or
    /// a newly made object per attempt, or leaves this false.</summary>
    public bool HandedOver { get; init; }

    /// <summary>The apiVersion the write was requested in when the API converted <see cref="Object"/> from a served
    /// version that is not stored (<see cref="IAdmissionContext.RequestApiVersion"/>); null: the stored version.</summary>
    public string? RequestApiVersion { get; init; }
}

/// <summary>Who writes, for <c>metadata.managedFields</c>: the manager's name and the operation (Update, or Apply when
/// server-side apply has already recorded the manager's fields). Null on a write: the store names the control plane's
/// own writers by their actor (<see cref="ControlPlaneManagers"/>). <see cref="Subresource"/> names the subresource
/// the entry is recorded for when the write came through one the store sees as a plain update (scale, binding).</summary>
internal sealed record FieldManager(string Name, string Operation = ManagedFields.Update, string? Subresource = null);

/// <summary>Delete. Preconditions (uid, resourceVersion) are checked when given. Dependents are removed by the
/// garbage collector according to <see cref="PropagationPolicy"/> (Background, Foreground or Orphan).
/// Replies <see cref="ObjectStored"/> with the deleted object, or <see cref="StoreFailed"/> (404).
/// <see cref="GracePeriodSeconds"/> matters for pods only: a bound, non-terminal pod deleted with a grace period
/// above 0 is marked (deletionTimestamp = now + grace, deletionGracePeriodSeconds) and removed when its node
/// reports its containers stopped; null means the pod's terminationGracePeriodSeconds (the API's default), and
/// 0 — the default for controllers — removes it at once.</summary>
internal sealed record DeleteObject(ResourceKey Key, string? PreconditionUid = null, string? PreconditionResourceVersion = null,
    string PropagationPolicy = "Background", bool DryRun = false, long? GracePeriodSeconds = 0)
{
    /// <inheritdoc cref="CreateObject.UserInfo"/>
    public AdmissionUser? UserInfo { get; init; }
}

/// <summary>Several creates and updates (<see cref="CreateObject"/>, <see cref="UpdateObject"/>; no dry runs) stored as one
/// write: one journal round trip, consecutive resourceVersions. Each is planned on its own, in order, against the state;
/// one that is refused (or names an object an earlier one of the batch already writes: 409) is answered with its error
/// and the others are stored. For writers that renew many small objects at once (the node leases of every node's
/// heartbeat). Replies <see cref="ObjectsWritten"/>; a batch refused as a whole (429, 503) has every answer failed.</summary>
internal sealed record WriteObjects(IReadOnlyList<object> Requests);

/// <summary>The answers to a <see cref="WriteObjects"/>, in its order: each <see cref="ObjectStored"/> or <see cref="StoreFailed"/>.</summary>
internal sealed record ObjectsWritten(IReadOnlyList<object> Replies);

/// <summary>Replies <see cref="ObjectStored"/> or <see cref="StoreFailed"/> (404).</summary>
internal sealed record GetObject(ResourceKey Key)
{
    /// <inheritdoc cref="ListObjects.NotOlderThan"/>
    public long? NotOlderThan { get; init; }
}

/// <summary>All objects of a resource, in one namespace or (null) all. Replies <see cref="ObjectsListed"/>.</summary>
internal sealed record ListObjects(string Resource, string? Namespace = null)
{
    /// <summary>The request's resourceVersion: null (unset) a consistent read, 0 any state, N a state at N or later.
    /// The store's own state is always the newest and satisfies each; a master's replica (<see cref="StoreReplica"/>)
    /// waits for it.</summary>
    public long? NotOlderThan { get; init; }

    /// <summary>A continue token's list (its resourceVersion and start key) that the API does not keep: the answer says
    /// whether the listed objects from that key on are the list at that version (<see cref="ObjectsListed.Continues"/>).</summary>
    public ListContinuation? Continuing { get; init; }
}

/// <summary>The rest of a paged list: the objects whose key (namespace/name, the API's sort key) is
/// <paramref name="Start"/> or after it, as they were at <paramref name="ResourceVersion"/>.</summary>
internal sealed record ListContinuation(long ResourceVersion, string Start);

/// <summary>
/// Subscribes <see cref="Subscriber"/> to changes of one resource ("*" for all) in one namespace (null for all).
/// With <see cref="FromResourceVersion"/> the changes after that version are replayed first from the
/// in-memory window; a version older than the window fails with 410 Gone (reason "Expired").
/// Replies <see cref="WatchStarted"/> with the current resourceVersion, then sends <see cref="ObjectChanged"/>
/// messages to the subscriber until <see cref="Unwatch"/> or the subscriber terminates.
/// </summary>
internal sealed record WatchObjects(string Resource, string? Namespace, long? FromResourceVersion, IActorRef Subscriber)
{
    /// <summary>The subscriber also takes <see cref="ObjectsChanged"/>: the matching changes of one commit (or of the
    /// replay) in one message.</summary>
    public bool Batches { get; init; }

    /// <summary>Where the store writes this subscriber's messages (<see cref="WatchStarted"/>, the replay, the changes) instead
    /// of Telling them, in the same order: the HTTP watch's channel, so that a change reaches its request without a hop
    /// through the subscriber's mailbox. The subscriber still ends the watch (<see cref="Unwatch"/>, its termination), and
    /// failures are still Told to the sender. A sink that is full is completed with <see cref="WatchFeedEndedException"/>
    /// and its subscription dropped (the watch fell too far behind).</summary>
    public ChannelWriter<object>? Sink { get; init; }
}

/// <summary>Why a watch's channel was completed from the store's side: the request ends its stream cleanly on it and the
/// client watches again from its last version.</summary>
internal sealed class WatchFeedEndedException(string message) : Exception(message);

internal sealed record Unwatch(IActorRef Subscriber);

internal sealed record WatchStarted(long ResourceVersion);

/// <summary>The stored (or deleted) object; <see cref="Notes"/> carries what admission said of a create or update.</summary>
internal sealed record ObjectStored(IKubernetesObject<V1ObjectMeta> Object, AdmissionNotes? Notes = null)
{
    /// <summary>The stored object's KubernetesJson text as UTF-8, as its journal record holds it
    /// (<c>KubeObjects.SerializeToUtf8Bytes</c> of <see cref="Object"/>, which is never changed afterwards), when the store
    /// made it for this write; null otherwise. The API encodes its answer from it rather than serializing the object
    /// again. Shared with the journal: never to be changed.</summary>
    public byte[]? Json { get; init; }
}

/// <summary>What the admission plugins (<see cref="IValidatingAdmission"/>) said of an accepted or refused write:
/// warnings for the client's Warning headers, annotations for the request's audit event.</summary>
internal sealed record AdmissionNotes(IReadOnlyList<string> Warnings, IReadOnlyDictionary<string, string> AuditAnnotations)
{
    public static AdmissionNotes? Of(IEnumerable<AdmissionVerdict> verdicts)
    {
        var warnings = new List<string>();
        var annotations = new Dictionary<string, string>();
        foreach (var verdict in verdicts)
        {
            warnings.AddRange(verdict.Warnings);
            foreach (var (key, value) in verdict.AuditAnnotations) annotations[key] = value;
        }
        return warnings.Count == 0 && annotations.Count == 0 ? null : new AdmissionNotes(warnings, annotations);
    }

    /// <summary><paramref name="notes"/> with <paramref name="earlier"/> warnings (a strategy's, given before
    /// admission ran) first.</summary>
    public static AdmissionNotes? After(List<string> earlier, AdmissionNotes? notes) =>
        earlier.Count == 0 ? notes
            : new AdmissionNotes([.. earlier, .. notes?.Warnings ?? []], notes?.AuditAnnotations ?? new Dictionary<string, string>());
}

internal sealed record ObjectsListed(IReadOnlyList<IKubernetesObject<V1ObjectMeta>> Items, long ResourceVersion)
{
    /// <summary>For a list with <see cref="ListObjects.Continuing"/>: true when no object from its start key on changed
    /// after its version (the change window shows it), so these are the list's remaining objects at that version.</summary>
    public bool Continues { get; init; }
}

internal sealed record StoreFailed(StoreError Error);

/// <summary>A refused request, in the terms of a Kubernetes Status: HTTP code, reason (NotFound, AlreadyExists,
/// Conflict, Invalid, BadRequest, Gone/Expired, …), message, and for Invalid the field causes.</summary>
internal sealed record StoreError(int Code, string Reason, string Message, IReadOnlyList<StoreErrorCause>? Causes = null,
    StoreErrorSubject? Subject = null)
{
    /// <summary>What admission said of the refused write (the audit annotations of a Pod Security refusal).</summary>
    public AdmissionNotes? Notes { get; init; }

    /// <summary>Set on a refusal that may pass soon without the client changing anything (kube's ServiceAccount
    /// admission waits for the namespace's default account): the API asks again after this long, a few times.</summary>
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>The Status' retryAfterSeconds (and its Retry-After header): the client may ask again after this many
    /// seconds, as kube's "Too large resource version" 504 tells it (client-go retries such answers by itself).</summary>
    public int? ClientRetryAfterSeconds { get; init; }
}

/// <summary>What a refusal is about when that is not the object of the request — the missing namespace of a create —
/// as a Status' details name it: group, kind (the resource, for NotFound) and name.</summary>
internal sealed record StoreErrorSubject(string Group, string Kind, string Name);

/// <summary>One field's violation, as a cause of a Status (Kubernetes' field.Error): the field path, the reason
/// (FieldValueInvalid, FieldValueRequired, …) and the message.</summary>
internal sealed record StoreErrorCause(string Field, string Reason, string Message);

/// <summary>One change: Type is ADDED, MODIFIED or DELETED; ResourceVersion is the change's version.</summary>
internal sealed record ObjectChanged(string Type, string Resource, IKubernetesObject<V1ObjectMeta> Object, long ResourceVersion)
{
    /// <summary><see cref="Object"/>'s KubernetesJson text as UTF-8, as its journal record holds it, when the store has it
    /// (puts; not deletions): the API's watches encode the event from it instead of serializing the object again. Shared
    /// with the journal and every subscriber: never to be changed.</summary>
    public byte[]? Json { get; init; }
}

/// <summary>Changes in their order, for a subscriber that asked for batches (<see cref="WatchObjects.Batches"/>): a
/// watch writes them to its client together.</summary>
internal sealed record ObjectsChanged(IReadOnlyList<ObjectChanged> Changes);
