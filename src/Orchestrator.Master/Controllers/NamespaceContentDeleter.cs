using Akka.Actor;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Controllers;

/// <summary>
/// One pass of the namespace controller over a terminating namespace (Kubernetes' namespaced-resources deleter):
/// for each namespaced resource in turn, lists its objects in the namespace, deletes those not yet being deleted
/// (background propagation; pods with their grace period), then lists again and counts what remains and which
/// finalizers hold it. Resources are visited one at a time, so every store reply belongs to the current step. Tells
/// its parent a <see cref="NamespaceContentReport"/> and stops.
/// </summary>
internal sealed class NamespaceContentDeleter : ReceiveActor
{
    private readonly IActorRef _store;
    private readonly string _namespace;
    private readonly string _uid;
    private readonly IReadOnlyList<(string StoreName, string Display)> _resources;
    private readonly Dictionary<string, int> _remaining = new();
    private readonly Dictionary<string, int> _finalizers = new();
    private readonly List<string> _errors = [];
    private int _index;
    private int _pending;
    private bool _counting;

    public NamespaceContentDeleter(IActorRef store, string @namespace, string uid,
        IReadOnlyList<(string StoreName, string Display)> resources)
    {
        _store = store;
        _namespace = @namespace;
        _uid = uid;
        _resources = resources;

        Receive<ObjectsListed>(listed =>
        {
            if (_counting)
            {
                Count(listed);
                Next();
                return;
            }
            var (storeName, _) = _resources[_index];
            _pending = 0;
            foreach (var obj in listed.Items.Where(o => o.Metadata.DeletionTimestamp is null))
            {
                _pending++;
                _store.Tell(new DeleteObject(new ResourceKey(storeName, _namespace, obj.Metadata.Name),
                    PreconditionUid: obj.Metadata.Uid, GracePeriodSeconds: null));
            }
            if (_pending == 0)
            {
                Count(listed);
                Next();
            }
        });
        Receive<ObjectStored>(_ => Deleted());
        Receive<StoreFailed>(failed =>
        {
            if (_pending == 0)
            {
                // The list itself failed: the resource is not served any more (a definition deleted meanwhile).
                Next();
                return;
            }
            // Gone already (404) or changed under us (409): the next pass sees it as it is now.
            if (failed.Error.Code is not (404 or 409)) _errors.Add(failed.Error.Message);
            Deleted();
        });
    }

    public static Props Props(IActorRef store, string @namespace, string uid, IReadOnlyList<(string StoreName, string Display)> resources) =>
        Akka.Actor.Props.Create(() => new NamespaceContentDeleter(store, @namespace, uid, resources));

    protected override void PreStart()
    {
        _index = -1;
        Next();
    }

    private void Deleted()
    {
        if (--_pending > 0) return;
        _counting = true;
        _store.Tell(new ListObjects(_resources[_index].StoreName, _namespace));
    }

    private void Count(ObjectsListed listed)
    {
        if (listed.Items.Count == 0) return;
        _remaining[_resources[_index].Display] = listed.Items.Count;
        foreach (var finalizer in listed.Items.SelectMany(o => o.Metadata.Finalizers ?? []))
            _finalizers[finalizer] = _finalizers.GetValueOrDefault(finalizer) + 1;
    }

    private void Next()
    {
        _counting = false;
        _pending = 0;
        if (++_index < _resources.Count)
        {
            _store.Tell(new ListObjects(_resources[_index].StoreName, _namespace));
            return;
        }
        Context.Parent.Tell(new NamespaceContentReport(_namespace, _uid, _remaining, _finalizers, _errors));
        Context.Stop(Self);
    }
}

/// <summary>What one pass over a terminating namespace left: objects per resource ("pods.", "crontabs.stable.example.com"),
/// objects per finalizer, and the deletions the store refused.</summary>
internal sealed record NamespaceContentReport(string Namespace, string Uid, IReadOnlyDictionary<string, int> Remaining,
    IReadOnlyDictionary<string, int> Finalizers, IReadOnlyList<string> Errors);
