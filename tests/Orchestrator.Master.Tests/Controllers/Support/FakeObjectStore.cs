using System.Text.Json.Nodes;
using Akka.Actor;
using k8s;
using k8s.Models;
using Orchestrator.Master.Store;
using Orchestrator.Master.Tests.Registry;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Tests.Controllers.Support;

/// <summary>
/// A small in-memory stand-in for the ObjectStore that speaks its protocol (list, watch, create, update with
/// optimistic concurrency and the status subresource, delete with finalizers).
/// Unlike the real store it keeps creationTimestamp and status as given on create.
/// </summary>
public sealed class FakeObjectStore : ReceiveActor
{
    private readonly Dictionary<ResourceKey, IKubernetesObject<V1ObjectMeta>> _objects = new();
    private readonly List<(string Resource, IActorRef Subscriber)> _watchers = new();
    private long _version = 100;

    public static string ResourceOf(IKubernetesObject<V1ObjectMeta> obj) => BuiltIn.ForType(obj.GetType()).StoreName;

    public static Props Props() => Akka.Actor.Props.Create(() => new FakeObjectStore());

    public FakeObjectStore()
    {
        Receive<ListObjects>(l => Sender.Tell(new ObjectsListed(
            _objects.Where(kv => kv.Key.Resource == l.Resource && (l.Namespace is null || kv.Key.Namespace == l.Namespace))
                .Select(kv => kv.Value).ToList(), _version)));
        Receive<WatchObjects>(w =>
        {
            _watchers.Add((w.Resource, w.Subscriber));
            Sender.Tell(new WatchStarted(_version));
        });
        Receive<Unwatch>(u => _watchers.RemoveAll(w => w.Subscriber.Equals(u.Subscriber)));
        Receive<GetObject>(g => Sender.Tell(_objects.TryGetValue(g.Key, out var o)
            ? new ObjectStored(o)
            : NotFound(g.Key)));
        Receive<CreateObject>(c =>
        {
            Sender.Tell(Create(c.Resource, c.Object));
        });
        Receive<UpdateObject>(u =>
        {
            Sender.Tell(Update(u));
        });
        Receive<DeleteObject>(d =>
        {
            Sender.Tell(Delete(d));
        });
    }

    private static StoreFailed NotFound(ResourceKey key) => new(new StoreError(404, "NotFound", $"{key} not found"));

    private object Create(string resource, IKubernetesObject<V1ObjectMeta> incoming)
    {
        var obj = KubeObjects.CloneObject(incoming);
        if (string.IsNullOrEmpty(obj.Metadata.Name)) obj.Metadata.Name = obj.Metadata.GenerateName + Guid.NewGuid().ToString("N")[..5];
        var key = ObjectKey(resource, obj);
        if (_objects.ContainsKey(key)) return new StoreFailed(new StoreError(409, "AlreadyExists", $"{key} already exists"));
        obj.Metadata.Uid ??= Guid.NewGuid().ToString();
        obj.Metadata.CreationTimestamp ??= DateTime.UtcNow;
        obj.Metadata.Generation = 1;
        obj.Metadata.ResourceVersion = (++_version).ToString();
        _objects[key] = obj;
        Notify("ADDED", resource, obj);
        return new ObjectStored(obj);
    }

    private object Update(UpdateObject u)
    {
        var key = ObjectKey(u.Resource, u.Object);
        if (!_objects.TryGetValue(key, out var stored)) return NotFound(key);
        if (u.Object.Metadata.ResourceVersion is { } rv && rv != stored.Metadata.ResourceVersion)
            return new StoreFailed(new StoreError(409, "Conflict", $"the object {key} has been modified"));

        var storedJson = JsonNode.Parse(KubeObjects.Serialize(stored))!.AsObject();
        var incomingJson = JsonNode.Parse(KubeObjects.Serialize(u.Object))!.AsObject();
        JsonObject result;
        if (u.Subresource == "status")
        {
            result = storedJson;
            result["status"] = incomingJson["status"]?.DeepClone();
        }
        else
        {
            result = incomingJson;
            result["status"] = storedJson["status"]?.DeepClone();
            var meta = result["metadata"]!.AsObject();
            meta["uid"] = stored.Metadata.Uid;
            meta["creationTimestamp"] = storedJson["metadata"]!["creationTimestamp"]?.DeepClone();
            meta["generation"] = stored.Metadata.Generation +
                                 (JsonNode.DeepEquals(storedJson["spec"], incomingJson["spec"]) ? 0 : 1);
        }
        var obj = (IKubernetesObject<V1ObjectMeta>)KubeObjects.Deserialize(result.ToJsonString(), stored.GetType());
        obj.Metadata.ResourceVersion = (++_version).ToString();
        if (obj.Metadata.DeletionTimestamp is not null && (obj.Metadata.Finalizers?.Count ?? 0) == 0)
        {
            _objects.Remove(key);
            Notify("DELETED", u.Resource, obj);
            return new ObjectStored(obj);
        }
        _objects[key] = obj;
        Notify("MODIFIED", u.Resource, obj);
        return new ObjectStored(obj);
    }

    private object Delete(DeleteObject d)
    {
        if (!_objects.TryGetValue(d.Key, out var stored)) return NotFound(d.Key);
        if (d.PreconditionUid is { } uid && uid != stored.Metadata.Uid)
            return new StoreFailed(new StoreError(409, "Conflict", "Precondition failed: UID in precondition"));
        var obj = KubeObjects.CloneObject(stored);
        if (d.PropagationPolicy == "Foreground")
        {
            obj.Metadata.Finalizers ??= new List<string>();
            if (!obj.Metadata.Finalizers.Contains("foregroundDeletion")) obj.Metadata.Finalizers.Add("foregroundDeletion");
        }
        obj.Metadata.ResourceVersion = (++_version).ToString();
        if ((obj.Metadata.Finalizers?.Count ?? 0) > 0)
        {
            obj.Metadata.DeletionTimestamp ??= DateTime.UtcNow;
            _objects[d.Key] = obj;
            Notify("MODIFIED", d.Key.Resource, obj);
            return new ObjectStored(obj);
        }
        _objects.Remove(d.Key);
        Notify("DELETED", d.Key.Resource, obj);
        return new ObjectStored(obj);
    }

    private static ResourceKey ObjectKey(string resource, IKubernetesObject<V1ObjectMeta> obj) =>
        new(resource, obj.Metadata.NamespaceProperty, obj.Metadata.Name);

    private void Notify(string type, string resource, IKubernetesObject<V1ObjectMeta> obj)
    {
        foreach (var (watched, subscriber) in _watchers)
            if (watched == resource || watched == "*")
                subscriber.Tell(new ObjectChanged(type, resource, obj, _version));
    }
}
