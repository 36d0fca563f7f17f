using Akka.Actor;
using k8s;
using k8s.Models;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Tests.Api;

/// <summary>
/// A tiny stand-in for the ObjectStore actor, speaking its protocol (ObjectStoreProtocol.cs) from memory so the
/// API can be tested without persistence: uid/creationTimestamp/generation/resourceVersion, AlreadyExists,
/// NotFound, resourceVersion conflicts, status-only updates, and watches with replay.
/// </summary>
public sealed class InMemoryObjectStore : ReceiveActor
{
    private readonly Dictionary<ResourceKey, IKubernetesObject<V1ObjectMeta>> _objects = new();
    private readonly List<ObjectChanged> _history = new();
    private readonly Dictionary<IActorRef, WatchObjects> _watchers = new();
    private long _version;

    public InMemoryObjectStore()
    {
        Receive<CreateObject>(Create);
        Receive<UpdateObject>(Update);
        Receive<DeleteObject>(Delete);
        Receive<GetObject>(m => Sender.Tell(_objects.TryGetValue(m.Key, out var o)
            ? new ObjectStored(o)
            : NotFound(m.Key)));
        Receive<ListObjects>(m => Sender.Tell(new ObjectsListed(
            _objects.Where(kv => kv.Key.Resource == m.Resource && (m.Namespace is null || kv.Key.Namespace == m.Namespace))
                .Select(kv => kv.Value).ToList(), _version)));
        Receive<WatchObjects>(m =>
        {
            if (m.FromResourceVersion is { } from && from < _version - 1000)
            {
                Sender.Tell(new StoreFailed(new StoreError(410, "Expired", "too old resource version")));
                return;
            }
            _watchers[m.Subscriber] = m;
            Context.Watch(m.Subscriber);
            Sender.Tell(new WatchStarted(_version));
            foreach (var change in _history.Where(c => c.ResourceVersion > (m.FromResourceVersion ?? _version) && Wants(m, c)))
                m.Subscriber.Tell(change);
        });
        Receive<Unwatch>(m => _watchers.Remove(m.Subscriber));
        Receive<Terminated>(t => _watchers.Remove(t.ActorRef));
    }

    private static StoreFailed NotFound(ResourceKey key) =>
        new(new StoreError(404, "NotFound", $"{key.Resource} \"{key.Name}\" not found"));

    private static ResourceKey KeyOf(string resource, IKubernetesObject<V1ObjectMeta> obj)
    {
        var api = ApiResources.All.First(r => ResourceKey.StoreName(r) == resource);
        return ResourceKey.Of(api, obj);
    }

    private void Create(CreateObject m)
    {
        var key = KeyOf(m.Resource, m.Object);
        if (_objects.ContainsKey(key))
        {
            Sender.Tell(new StoreFailed(new StoreError(409, "AlreadyExists", $"{key.Resource} \"{key.Name}\" already exists")));
            return;
        }
        if (!System.Text.RegularExpressions.Regex.IsMatch(m.Object.Metadata.Name ?? "", "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"))
        {
            Sender.Tell(new StoreFailed(new StoreError(422, "Invalid",
                $"{m.Object.Kind} \"{m.Object.Metadata.Name}\" is invalid: metadata.name: Invalid value: \"{m.Object.Metadata.Name}\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters",
                [new StoreErrorCause("metadata.name", "FieldValueInvalid", "Invalid value")])));
            return;
        }
        var obj = KubeObjects.CloneObject(m.Object);
        obj.Metadata.Uid = Guid.NewGuid().ToString();
        obj.Metadata.CreationTimestamp = DateTime.UtcNow;
        obj.Metadata.Generation = 1;
        Commit(key, obj, "ADDED", m.DryRun);
    }

    private void Update(UpdateObject m)
    {
        var key = KeyOf(m.Resource, m.Object);
        if (!_objects.TryGetValue(key, out var current))
        {
            Sender.Tell(NotFound(key));
            return;
        }
        if (!string.IsNullOrEmpty(m.Object.Metadata.ResourceVersion) && m.Object.Metadata.ResourceVersion != current.Metadata.ResourceVersion)
        {
            Sender.Tell(new StoreFailed(new StoreError(409, "Conflict",
                $"Operation cannot be fulfilled on {key.Resource} \"{key.Name}\": the object has been modified; please apply your changes to the latest version and try again")));
            return;
        }
        var obj = KubeObjects.CloneObject(m.Object);
        obj.Metadata.Uid = current.Metadata.Uid;
        obj.Metadata.CreationTimestamp = current.Metadata.CreationTimestamp;
        obj.Metadata.Generation = current.Metadata.Generation;
        var status = obj.GetType().GetProperty("Status");
        if (status is not null)
        {
            if (m.Subresource == "status")
            {
                var withStatus = obj;
                obj = KubeObjects.CloneObject(current);
                status.SetValue(obj, status.GetValue(withStatus));
            }
            else
            {
                status.SetValue(obj, status.GetValue(current));
                var spec = obj.GetType().GetProperty("Spec");
                if (spec is not null && KubeObjects.Serialize(spec.GetValue(obj) ?? "") != KubeObjects.Serialize(spec.GetValue(current) ?? ""))
                    obj.Metadata.Generation = (current.Metadata.Generation ?? 1) + 1;
            }
        }
        Commit(key, obj, "MODIFIED", m.DryRun);
    }

    private void Delete(DeleteObject m)
    {
        if (!_objects.TryGetValue(m.Key, out var current))
        {
            Sender.Tell(NotFound(m.Key));
            return;
        }
        if (m.PreconditionUid is not null && m.PreconditionUid != current.Metadata.Uid)
        {
            Sender.Tell(new StoreFailed(new StoreError(409, "Conflict", "Precondition failed: UID mismatch")));
            return;
        }
        if (m.DryRun)
        {
            Sender.Tell(new ObjectStored(current));
            return;
        }
        _objects.Remove(m.Key);
        _version++;
        Publish(new ObjectChanged("DELETED", m.Key.Resource, current, _version));
        Sender.Tell(new ObjectStored(current));
    }

    private void Commit(ResourceKey key, IKubernetesObject<V1ObjectMeta> obj, string type, bool dryRun)
    {
        if (dryRun)
        {
            Sender.Tell(new ObjectStored(obj));
            return;
        }
        _version++;
        obj.Metadata.ResourceVersion = _version.ToString();
        _objects[key] = obj;
        Publish(new ObjectChanged(type, key.Resource, obj, _version));
        Sender.Tell(new ObjectStored(obj));
    }

    private void Publish(ObjectChanged change)
    {
        _history.Add(change);
        foreach (var (subscriber, watch) in _watchers)
            if (Wants(watch, change))
                subscriber.Tell(change);
    }

    private static bool Wants(WatchObjects watch, ObjectChanged change) =>
        (watch.Resource == "*" || watch.Resource == change.Resource) &&
        (watch.Namespace is null || watch.Namespace == change.Object.Metadata.NamespaceProperty);
}
