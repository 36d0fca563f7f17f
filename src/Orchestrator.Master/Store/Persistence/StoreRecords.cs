using System.Text.Json.Serialization;

namespace Orchestrator.Master.Store.Persistence;

// What the ObjectStore writes to its journal and snapshot store. These are the store's own records, not API
// types: objects travel as their KubernetesJson text so the journal's format is the API's wire format and does
// not depend on the CLR model classes. Renaming a record or a field is a storage format change.
// The Json of a resource listed in the encryption provider config is stored as its transformed value
// ("k8s:enc:aesgcm:v1:<key>:<base64>"), see Encryption/.

/// <summary>Marker for everything the store persists; bound to <see cref="StoreRecordSerializer"/>.</summary>
internal interface IStoreRecord;

/// <summary>An object was created or replaced; <see cref="Json"/> already carries its resourceVersion.</summary>
/// <param name="Json">The object's KubernetesJson text as UTF-8, as it is made and read (a UTF-16 string of it was twice the
/// bytes, and one more copy on the way in and out); stored as the JSON string it always was (<see cref="Utf8Text"/>).</param>
internal sealed record ObjectPut(string Resource, [property: JsonConverter(typeof(Utf8Text))] byte[] Json, long ResourceVersion) : IStoreRecord
{
    public bool Equals(ObjectPut? other) =>
        other is not null && Resource == other.Resource && ResourceVersion == other.ResourceVersion && Json.AsSpan().SequenceEqual(other.Json);

    public override int GetHashCode() => HashCode.Combine(Resource, ResourceVersion, Json.Length);
}

/// <summary>An object was deleted; the deletion took <see cref="ResourceVersion"/>.</summary>
internal sealed record ObjectRemoved(string Resource, string? Namespace, string Name, long ResourceVersion) : IStoreRecord;

/// <summary>
/// Written by each journal writer when it starts, before the store accepts writes: proof that the journal can be
/// written now (a full disk fails here, not on a client's write). It takes a sequence number, so it also takes a
/// resourceVersion that no object carries.
/// </summary>
public sealed record JournalProbe(DateTime StartedAt) : IStoreRecord;

/// <summary>All objects at <see cref="ResourceVersion"/>: recovery is the newest snapshot plus the events after it.</summary>
internal sealed record StoreSnapshot(IReadOnlyList<SnapshotObject> Objects, long ResourceVersion) : IStoreRecord;

internal sealed record SnapshotObject(string Resource, string Json);
