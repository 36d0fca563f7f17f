using System.Text.Json.Nodes;
using Akka.Actor;
using Akka.Event;
using k8s;
using k8s.Models;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Kinds.AdmissionRegistration;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Api.Webhooks;

/// <summary>
/// The admission webhooks for the control plane's own writes, as kube-apiserver runs them for kube-controller-manager's
/// requests: the controllers are given this actor where they were given the store. It owns a snapshot of the webhook
/// configurations (kept from the store's watch) and, per sender, the writes waiting behind one in admission; it never
/// blocks and never writes anything of its own.
/// <list type="bullet">
/// <item>Reads, watches, dry runs and writes that no webhook's rules can match are forwarded at once (the sender kept, so the
/// store answers the controller directly) — with no configuration at all, that is every message.</item>
/// <item>A create, update or delete some webhook's rules match is admitted off the actor (<see cref="WebhookDispatcher"/>,
/// PipeTo) as the controller's user (<see cref="ControllerUsersOf"/>), on a copy with the kind's defaults: an update or
/// delete with the stored object as oldObject and then pinned to its resourceVersion (a race is answered as the store's
/// 409, which the controllers reconcile again); then sent to the store on behalf of the sender. A refusal is answered as the store answers one
/// (<see cref="StoreFailed"/> with the webhook's code and message), so the controllers' FailedCreate events and retries
/// carry it.</item>
/// <item>Order per sender is kept: while one of its writes is in admission, whatever else the same sender sends waits.</item>
/// <item><see cref="WriteObjects"/> batches are forwarded (no controller sends one: the scheduler's bindings and the node
/// gateway's leases, which do, are not routed through this actor).</item>
/// </list>
/// Until both configuration resources are listed, everything waits (stashed), as kube's webhook plugins wait for their
/// informers: a write never slips past a webhook that exists.
/// </summary>
internal sealed class ControllerAdmissionGateway : ReceiveActor, IWithUnboundedStash
{
    public const string ActorName = "controller-admission";
    private static readonly TimeSpan StoreTimeout = TimeSpan.FromSeconds(30);

    private sealed record Pending(IActorRef Sender, object Message, ResourceDescription Resource, AdmissionUser? User, WebhookConfigurationSet Webhooks);

    /// <summary>The end of one admission: a write for the store on the sender's behalf, or an answer to the sender.</summary>
    private sealed record Admitted(IActorRef Sender, object? Write, object? Answer);

    private static readonly string[] ConfigurationResources =
        [AdmissionRegistrationResources.MutatingWebhookConfigurations.StoreName, AdmissionRegistrationResources.ValidatingWebhookConfigurations.StoreName];

    private readonly IActorRef _store;
    private readonly ResourceCatalog _catalog;
    private readonly WebhookDispatcher _dispatcher;
    private readonly ControllerUsersOf _users;
    private readonly ObjectCache _configurations = new();
    private readonly HashSet<string> _unlisted = [.. ConfigurationResources];
    private readonly Dictionary<IActorRef, Queue<object>> _waiting = new();
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly LoggedNotes _notes;
    private WebhookConfigurationSet _webhooks = WebhookConfigurationSet.None;
    private bool _ready;

    public IStash Stash { get; set; } = null!;

    public ControllerAdmissionGateway(IActorRef store, ResourceCatalog catalog, WebhookDispatcher dispatcher, ControllerUsersOf users)
    {
        (_store, _catalog, _dispatcher, _users) = (store, catalog, dispatcher, users);
        _notes = new LoggedNotes(_log);
        Syncing();
    }

    public static Props Props(IActorRef store, ResourceCatalog catalog, WebhookDispatcher dispatcher, ControllerUsersOf users) =>
        Akka.Actor.Props.Create(() => new ControllerAdmissionGateway(store, catalog, dispatcher, users));

    protected override void PreStart()
    {
        foreach (var resource in ConfigurationResources)
            Context.ActorOf(ResourceReflector.Props(_store, resource, Self), "reflect-" + resource);
    }

    private void Syncing()
    {
        Configurations();
        ReceiveAny(_ => Stash.Stash());
    }

    private void Ready()
    {
        Configurations();
        Receive<Admitted>(Finish);
        ReceiveAny(Route);
    }

    private void Configurations()
    {
        Receive<ResourceListed>(listed =>
        {
            _configurations.Replace(listed.Resource, listed.Items, listed.ResourceVersion);
            _unlisted.Remove(listed.Resource);
            Rebuild();
        });
        Receive<ObjectChanged>(change =>
        {
            _configurations.Apply(change, out var applied);
            if (applied) Rebuild();
        });
    }

    private void Rebuild()
    {
        _webhooks = WebhookConfigurationSet.Of(_configurations.List<V1MutatingWebhookConfiguration>(ConfigurationResources[0]),
            _configurations.List<V1ValidatingWebhookConfiguration>(ConfigurationResources[1]));
        if (_unlisted.Count > 0 || _ready) return;
        _ready = true;
        Become(Ready);
        Stash.UnstashAll();
    }

    private void Route(object message)
    {
        var sender = Sender;
        if (_waiting.TryGetValue(sender, out var queue)) queue.Enqueue(message);
        else if (TryAdmit(sender, message)) _waiting[sender] = new Queue<object>();
        else _store.Forward(message);
    }

    private void Finish(Admitted admitted)
    {
        if (admitted.Write is { } write) _store.Tell(write, admitted.Sender);
        else admitted.Sender.Tell(admitted.Answer, _store);
        var queue = _waiting[admitted.Sender];
        while (queue.TryDequeue(out var next))
        {
            if (TryAdmit(admitted.Sender, next)) return;
            _store.Tell(next, admitted.Sender);
        }
        _waiting.Remove(admitted.Sender);
    }

    /// <summary>Starts the admission of <paramref name="message"/> when it is a write some webhook's rules match.</summary>
    private bool TryAdmit(IActorRef sender, object message)
    {
        if (_webhooks.Empty) return false;
        var (storeName, operation, subresource) = message switch
        {
            CreateObject { DryRun: false } c => (c.Resource, "CREATE", null),
            UpdateObject { DryRun: false } u => (u.Resource, "UPDATE", u.Subresource),
            DeleteObject { DryRun: false } d => (d.Key.Resource, "DELETE", (string?)null),
            _ => (null, null, null),
        };
        if (storeName is null || _catalog.Current.FindStored(storeName) is not { } resource || WebhookDispatcher.Exempt(resource)) return false;
        var probe = new WebhookRequest(resource, operation!, subresource, "", null, null, null, null, null, false, []);
        if (!_webhooks.RulesMatch(probe)) return false;
        var pending = new Pending(sender, message, resource, _users(sender, storeName), _webhooks);
        AdmitAsync(pending).PipeTo(Self, success: result => result,
            failure: e => new Admitted(sender, null, Failed(500, "InternalError", "Internal error occurred: " + e.Message)));
        return true;
    }

    private async Task<Admitted> AdmitAsync(Pending p)
    {
        try
        {
            return p.Message switch
            {
                CreateObject c => await CreateAsync(p, c),
                UpdateObject u => await UpdateAsync(p, u),
                DeleteObject d => await DeleteAsync(p, d),
                _ => throw new InvalidOperationException("not a write: " + p.Message.GetType().Name),
            };
        }
        catch (ApiException e)
        {
            return new Admitted(p.Sender, null, new StoreFailed(new StoreError(e.Code, e.Reason, e.Message,
                e.Details?.Causes?.Select(c => new StoreErrorCause(c.Field ?? "", c.Reason ?? "", c.Message ?? "")).ToList())));
        }
    }

    private async Task<Admitted> CreateAsync(Pending p, CreateObject c)
    {
        var obj = Defaulted(p.Resource, c.Object);
        var admitted = await _dispatcher.AdmitAsync(p.Webhooks, await RequestAsync(p, "CREATE", null, obj, null, Options("CreateOptions")),
            _notes, CancellationToken.None);
        // unpatched, the write goes as sent (the store defaults it again); a patched object is made anew from JSON: nothing
        // shares it, so the store may keep it without a copy
        return new Admitted(p.Sender, admitted.Object is { } o && !ReferenceEquals(o, obj) ? c with { Object = o, HandedOver = true } : c, null);
    }

    /// <summary>A copy of the sender's object (it may be shared: its cache) with the kind's defaults, as kube-apiserver decodes
    /// a controller's request before the webhooks see it.</summary>
    private static IKubernetesObject<V1ObjectMeta> Defaulted(ResourceDescription resource, IKubernetesObject<V1ObjectMeta> obj)
    {
        var copy = KubeObjects.CloneObject(obj);
        resource.DefaultDecoded(copy);
        return copy;
    }

    private async Task<Admitted> UpdateAsync(Pending p, UpdateObject u)
    {
        var pinnedBySender = u.Object.Metadata.ResourceVersion is { Length: > 0 } version ? version : null;
        // nothing stored, or the sender's resourceVersion is not the stored one: the store answers (404, 409) as kube does
        // before admission
        if (await StoredAsync(p.Resource, u.Object.Metadata.NamespaceProperty, u.Object.Metadata.Name) is not { } current ||
            (pinnedBySender is not null && pinnedBySender != current.Metadata.ResourceVersion))
            return new Admitted(p.Sender, u, null);
        var obj = Defaulted(p.Resource, u.Object);
        var admitted = await _dispatcher.AdmitAsync(p.Webhooks, await RequestAsync(p, "UPDATE", u.Subresource, obj, current, Options("UpdateOptions")),
            _notes, CancellationToken.None);
        var result = admitted.Object ?? obj;
        var pin = pinnedBySender ?? current.Metadata.ResourceVersion;
        if (ReferenceEquals(result, obj) && pinnedBySender is not null) return new Admitted(p.Sender, u, null);
        // the defaulted copy or the patched object: neither is shared, so it is pinned in place and handed over
        result.Metadata.ResourceVersion = pin;
        return new Admitted(p.Sender, u with { Object = result, HandedOver = true }, null);
    }

    private async Task<Admitted> DeleteAsync(Pending p, DeleteObject d)
    {
        if (await StoredAsync(p.Resource, d.Key.Namespace, d.Key.Name) is not { } current ||
            (d.PreconditionUid is not null && d.PreconditionUid != current.Metadata.Uid) ||
            (d.PreconditionResourceVersion is not null && d.PreconditionResourceVersion != current.Metadata.ResourceVersion))
            return new Admitted(p.Sender, d, null);
        var options = Options("DeleteOptions");
        if (d.GracePeriodSeconds is { } grace) options["gracePeriodSeconds"] = grace;
        if (d.PreconditionUid is not null || d.PreconditionResourceVersion is not null)
        {
            var preconditions = new JsonObject();
            if (d.PreconditionUid is not null) preconditions["uid"] = d.PreconditionUid;
            if (d.PreconditionResourceVersion is not null) preconditions["resourceVersion"] = d.PreconditionResourceVersion;
            options["preconditions"] = preconditions;
        }
        options["propagationPolicy"] = d.PropagationPolicy;
        await _dispatcher.AdmitAsync(p.Webhooks, await RequestAsync(p, "DELETE", null, null, current, options), _notes, CancellationToken.None);
        return new Admitted(p.Sender, d with { PreconditionResourceVersion = current.Metadata.ResourceVersion }, null);
    }

    private async Task<WebhookRequest> RequestAsync(Pending p, string operation, string? subresource,
        IKubernetesObject<V1ObjectMeta>? obj, IKubernetesObject<V1ObjectMeta>? old, JsonObject options)
    {
        var meta = (obj ?? old)!.Metadata;
        var ns = p.Resource.Namespaced ? meta.NamespaceProperty : null;
        var labels = string.IsNullOrEmpty(ns) ? null : (await StoredAsync(CoreNamespaces, null, ns))?.Metadata.Labels;
        return new WebhookRequest(p.Resource, operation, subresource, meta.Name ?? "", ns, obj, old, labels, p.User, false, options);
    }

    private static readonly ResourceDescription CoreNamespaces = Registry.Kinds.Core.CoreResources.Namespaces;

    /// <summary>The stored object, or null when there is none. An Ask, but from the admission's task, never the actor's
    /// thread: the gateway goes on routing other senders' messages meanwhile.</summary>
    private async Task<IKubernetesObject<V1ObjectMeta>?> StoredAsync(ResourceDescription resource, string? ns, string name)
    {
        var reply = await _store.Ask<object>(new GetObject(ResourceKey.Of(resource, ns, name)), StoreTimeout);
        return reply switch
        {
            ObjectStored stored => stored.Object,
            StoreFailed { Error.Code: 404 } => null,
            StoreFailed failed => throw new ApiException(failed.Error.Code, failed.Error.Reason, failed.Error.Message),
            _ => throw new InvalidOperationException("unexpected answer " + reply.GetType().Name),
        };
    }

    private static JsonObject Options(string kind) => new() { ["kind"] = kind, ["apiVersion"] = "meta.k8s.io/v1" };

    private static StoreFailed Failed(int code, string reason, string message) => new(new StoreError(code, reason, message));

    /// <summary>A controller has no response headers nor audit event: the webhooks' warnings and annotations go to the log,
    /// as a kube controller's client logs the warnings it is sent.</summary>
    private sealed class LoggedNotes(ILoggingAdapter log) : IWebhookNotes
    {
        public void Warning(string webhook, string text) => log.Warning("Admission webhook {0} warned a controller's write: {1}", webhook, text);

        public void AuditAnnotation(string key, string value) => log.Debug("Admission webhook audit annotation {0}={1} on a controller's write", key, value);
    }
}

/// <summary>Who a control-plane write is from, for the webhooks' userInfo: given the sender (a controller or one of its
/// children) and the store name of the written resource. The composition root gives the Controllers layer's answer
/// (<c>ControllerAccounts</c>), which this folder may not use.</summary>
internal delegate AdmissionUser? ControllerUsersOf(IActorRef sender, string resource);
