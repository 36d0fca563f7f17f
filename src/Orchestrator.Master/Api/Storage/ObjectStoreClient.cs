using Akka.Actor;
using k8s;
using k8s.Models;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Api.Storage;

/// <summary>
/// The API server's way into the ObjectStore actor: Ask with a timeout, replies turned into objects or
/// <see cref="ApiException"/>s. HTTP requests live outside the actor system, so Ask is the right tool here.
/// </summary>
internal sealed class ObjectStoreClient(ActorSystem system, Func<CancellationToken, Task<IActorRef>> resolveStore, TimeSpan timeout)
{
    public ActorSystem System { get; } = system;
    public TimeSpan Timeout { get; } = timeout;

    /// <summary>The informers reading this store for the API (readyz "informer-sync").</summary>
    public InformerSyncs Informers { get; } = new();

    /// <summary>The conversion webhooks' client (set once by the API's routing: it reaches services through this client).
    /// Without it a resource converted by a webhook answers 500 rather than objects in the wrong version.</summary>
    public IWebhookConverter? Webhooks { get; set; }

    public async Task<IActorRef> StoreAsync(CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(Timeout);
        try
        {
            return await resolveStore(cts.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw ApiException.Unavailable("the object store is not running yet");
        }
    }

    /// <summary>Asks the store. For a served version that is not stored (<see cref="ResourceDescription.Conversion"/>), the
    /// objects of writes are converted to the storage version and those of the answers back.</summary>
    public async Task<object> AskAsync(object message, CancellationToken cancellationToken, ResourceDescription? resource = null)
    {
        var store = await StoreAsync(cancellationToken);
        if (resource?.WebhookConversion is { } webhook) return await AskConvertedAsync(store, message, resource, webhook, cancellationToken);
        var conversion = resource?.Conversion;
        if (conversion is not null)
            message = message switch
            {
                CreateObject c => c with { Object = conversion.ToStorage(c.Object), RequestApiVersion = resource!.GroupVersion },
                UpdateObject u => u with { Object = conversion.ToStorage(u.Object), RequestApiVersion = resource!.GroupVersion },
                _ => message,
            };
        try
        {
            var reply = await store.Ask<object>(message, Timeout, cancellationToken);
            return conversion is null
                ? reply
                : reply switch
                {
                    ObjectStored stored => stored with { Object = conversion.FromStorage(stored.Object), Json = null }, // its notes kept
                    ObjectsListed listed => listed with { Items = listed.Items.Select(conversion.FromStorage).ToList() },
                    _ => reply,
                };
        }
        catch (AskTimeoutException)
        {
            throw ApiException.Timeout("the server was unable to return a response in the time allotted");
        }
    }

    /// <summary><see cref="AskAsync"/> for a custom resource converted by a webhook: a written object in another version
    /// than the storage version is converted to it first, and the objects of the answer to the request's version (kube
    /// converts on the way to and from etcd; here on the request's path, so the webhook never holds up the store).</summary>
    private async Task<object> AskConvertedAsync(IActorRef store, object message, ResourceDescription resource, WebhookConversion webhook,
        CancellationToken cancellationToken)
    {
        message = message switch
        {
            CreateObject c => c with { Object = await ToVersionAsync(resource, c.Object, webhook.StorageVersion, cancellationToken) },
            UpdateObject u => u with { Object = await ToVersionAsync(resource, u.Object, webhook.StorageVersion, cancellationToken) },
            _ => message,
        };
        object reply;
        try
        {
            reply = await store.Ask<object>(message, Timeout, cancellationToken);
        }
        catch (AskTimeoutException)
        {
            throw ApiException.Timeout("the server was unable to return a response in the time allotted");
        }
        return reply switch
        {
            ObjectStored stored when stored.Object.ApiVersion != resource.GroupVersion =>
                stored with { Object = await ToVersionAsync(resource, stored.Object, resource.GroupVersion, cancellationToken), Json = null },
            ObjectsListed listed => listed with { Items = await ToVersionAsync(resource, listed.Items, cancellationToken) },
            _ => reply,
        };
    }

    /// <summary>An object in <paramref name="apiVersion"/>: itself when it is in it, else converted by the webhook.</summary>
    private async Task<IKubernetesObject<V1ObjectMeta>> ToVersionAsync(ResourceDescription resource, IKubernetesObject<V1ObjectMeta> obj,
        string apiVersion, CancellationToken cancellationToken) =>
        obj.ApiVersion == apiVersion ? obj : (await ConverterFor(resource).ConvertAsync(resource.WebhookConversion!, [obj], apiVersion, list: false, cancellationToken))[0];

    /// <summary>A list's objects in the resource's version: those in another version go to the webhook in one review.</summary>
    private async Task<IReadOnlyList<IKubernetesObject<V1ObjectMeta>>> ToVersionAsync(ResourceDescription resource,
        IReadOnlyList<IKubernetesObject<V1ObjectMeta>> items, CancellationToken cancellationToken)
    {
        var others = items.Where(o => o.ApiVersion != resource.GroupVersion).ToList();
        if (others.Count == 0) return items;
        var converted = await ConverterFor(resource).ConvertAsync(resource.WebhookConversion!, others, resource.GroupVersion, list: true, cancellationToken);
        var result = new List<IKubernetesObject<V1ObjectMeta>>(items.Count);
        var next = 0;
        foreach (var item in items) result.Add(item.ApiVersion == resource.GroupVersion ? item : converted[next++]);
        return result;
    }

    private IWebhookConverter ConverterFor(ResourceDescription resource) =>
        Webhooks ?? throw new ApiException(500, "InternalError",
            "Internal error occurred: conversion webhooks are not available");

    /// <summary>A change of the store as a watcher of <paramref name="resource"/>'s version sees it, converted by the
    /// resource's webhook when it is in another version (the store's text of it is then not the event's).</summary>
    public async ValueTask<ObjectChanged> ToVersionAsync(ResourceDescription resource, ObjectChanged change, CancellationToken cancellationToken)
    {
        if (resource.WebhookConversion is null) return FromStorage(resource, change);
        if (change.Object.ApiVersion == resource.GroupVersion) return change;
        return change with { Object = await ToVersionAsync(resource, change.Object, resource.GroupVersion, cancellationToken), Json = null };
    }

    /// <summary>Asks for one object; a <see cref="StoreFailed"/> becomes an <see cref="ApiException"/>.</summary>
    public async Task<IKubernetesObject<V1ObjectMeta>> ObjectAsync(object message, ResourceDescription resource, string? name,
        CancellationToken cancellationToken) =>
        await AskAsync(message, cancellationToken, resource) switch
        {
            ObjectStored stored => stored.Object,
            StoreFailed failed => throw ApiException.FromStore(failed.Error, resource, name),
            var other => throw new InvalidOperationException($"unexpected store reply {other.GetType().Name}"),
        };

    private const int MaxAdmissionRetries = 10;

    /// <summary>A write for a request: as <see cref="ObjectAsync"/>, and what admission said of it goes to the
    /// request — warnings to its Warning headers, annotations to its audit event — refused or not.</summary>
    public async Task<IKubernetesObject<V1ObjectMeta>> WriteAsync(HttpContext context, object message, ResourceDescription resource,
        string? name) =>
        (await WriteStoredAsync(context, message, resource, name)).Object;

    /// <summary>As <see cref="WriteAsync"/>, with the store's answer: the object and its JSON text when the store gives it.
    /// <paramref name="again"/>: the request's message made anew (its object decoded again from the body), from a caller
    /// that never reads <paramref name="message"/>'s object after this call; its object is then handed over itself, not a
    /// copy, and each admission retry hands over <paramref name="again"/>'s.</summary>
    public async Task<ObjectStored> WriteStoredAsync(HttpContext context, object message, ResourceDescription resource, string? name,
        Func<object>? again = null)
    {
        // a refused create is audited with the name it asked for, as kube's LogRequestObject fills objectRef
        var requested = message switch { CreateObject c => c.Object, UpdateObject u => u.Object, _ => null };
        if (requested is not null) AuditObjects.Record(context, requested);
        // admission sees who asked (PodSecurity's exempt usernames)
        var user = RequestUserName.Get(context);
        var userInfo = RequestAdmissionUser.Get(context);
        message = WithUser(message, user, userInfo);
        var reply = await AskAsync(again is null ? HandOver(message) : Given(message), context.RequestAborted, resource);
        // a refusal that may pass shortly (the namespace's default ServiceAccount not made yet) is asked again, as kube's
        // admission retries its lookup
        for (var attempt = 1; attempt < MaxAdmissionRetries && reply is StoreFailed { Error.RetryAfter: { } wait }; attempt++)
        {
            await Task.Delay(wait, context.RequestAborted);
            reply = await AskAsync(again is null ? HandOver(message) : Given(WithUser(again(), user, userInfo)), context.RequestAborted, resource);
        }
        switch (reply)
        {
            case ObjectStored stored:
                Note(context, stored.Notes);
                AuditObjects.Record(context, stored.Object);
                return stored;
            case StoreFailed failed:
                Note(context, failed.Error.Notes);
                throw ApiException.FromStore(failed.Error, resource, name);
            case var other:
                throw new InvalidOperationException($"unexpected store reply {other.GetType().Name}");
        }
    }

    /// <summary>The request with a deep copy of its object handed over to the store (<see cref="UpdateObject.HandedOver"/>):
    /// made here, on the request's thread, rather than by the store on its one serial path. A copy per attempt: the
    /// store plans on the object in place, and an admission retry must send the request's object as the client sent it.</summary>
    internal static object HandOver(object message) => message switch
    {
        CreateObject c => c with { Object = KubeObjects.CloneObject(c.Object), HandedOver = true },
        UpdateObject u => u with { Object = KubeObjects.CloneObject(u.Object), HandedOver = true },
        _ => message,
    };

    /// <summary>The request with its own object handed over (<see cref="UpdateObject.HandedOver"/>), no copy: for a caller
    /// that made the object for this one attempt and never reads it again.</summary>
    internal static object Given(object message) => message switch
    {
        CreateObject c => c with { HandedOver = true },
        UpdateObject u => u with { HandedOver = true },
        _ => message,
    };

    private static object WithUser(object message, string? user, AdmissionUser? userInfo) => message switch
    {
        CreateObject c => c with { User = user, UserInfo = userInfo },
        UpdateObject u => u with { User = user, UserInfo = userInfo },
        DeleteObject d => d with { UserInfo = userInfo },
        _ => message,
    };

    private static void Note(HttpContext context, AdmissionNotes? notes)
    {
        if (notes is null) return;
        foreach (var warning in notes.Warnings) Warnings.Add(context, warning);
        foreach (var (key, value) in notes.AuditAnnotations) AuditAnnotations.Add(context, key, value);
    }

    /// <summary>A list; <paramref name="notOlderThan"/> is the request's resourceVersion (<see cref="ListObjects.NotOlderThan"/>:
    /// null a consistent read). From the ObjectStore's <see cref="StoreReadView"/> when it keeps that list (its state is always the
    /// newest, so any <paramref name="notOlderThan"/> is met), else — a replica, a list changed since the store last made
    /// it, the rest of a list another master paged — an Ask.</summary>
    public async Task<ObjectsListed> ListAsync(ResourceDescription resource, string? @namespace, CancellationToken cancellationToken,
        long? notOlderThan = null, ListContinuation? continuing = null) =>
        continuing is null && StoreReadView.Of(await StoreAsync(cancellationToken))?.List(resource.StoreName, @namespace) is { } kept
            ? resource.WebhookConversion is null ? FromStorage(resource, kept) : kept with { Items = await ToVersionAsync(resource, kept.Items, cancellationToken) }
            : await AskAsync(new ListObjects(resource.StoreName, @namespace) { NotOlderThan = notOlderThan, Continuing = continuing }, cancellationToken, resource) switch
        {
            ObjectsListed listed => listed,
            StoreFailed failed => throw ApiException.FromStore(failed.Error, resource, null),
            var other => throw new InvalidOperationException($"unexpected store reply {other.GetType().Name}"),
        };

    /// <summary>A get; from the ObjectStore's <see cref="StoreReadView"/> when the store is that actor (its state is
    /// always the newest, so any <paramref name="notOlderThan"/> is met), else — a replica, or an object the view does
    /// not have — an Ask.</summary>
    public async Task<IKubernetesObject<V1ObjectMeta>> GetAsync(ResourceDescription resource, string? @namespace, string name,
        CancellationToken cancellationToken, long? notOlderThan = null)
    {
        var key = ResourceKey.Of(resource, @namespace, name);
        if (StoreReadView.Of(await StoreAsync(cancellationToken))?.Get(key) is { } obj)
            return resource.WebhookConversion is not null ? await ToVersionAsync(resource, obj, resource.GroupVersion, cancellationToken)
                : resource.Conversion is { } conversion ? conversion.FromStorage(obj) : obj;
        return await ObjectAsync(new GetObject(key) { NotOlderThan = notOlderThan }, resource, name, cancellationToken);
    }

    /// <summary>A list the read view kept, as <paramref name="resource"/>'s version: the view keeps the storage version's
    /// objects, which another version's list must not answer with.</summary>
    private static ObjectsListed FromStorage(ResourceDescription resource, ObjectsListed kept) =>
        resource.Conversion is { } conversion ? kept with { Items = kept.Items.Select(conversion.FromStorage).ToList() } : kept;

    /// <summary>A change of the store as a watcher of <paramref name="resource"/>'s version sees it.</summary>
    public static ObjectChanged FromStorage(ResourceDescription resource, ObjectChanged change) =>
        resource.Conversion is { } conversion ? change with { Object = conversion.FromStorage(change.Object) } : change;
}
