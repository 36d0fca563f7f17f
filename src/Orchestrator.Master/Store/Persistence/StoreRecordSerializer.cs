using System.Text.Json;
using Akka.Actor;
using Akka.Serialization;

namespace Orchestrator.Master.Store.Persistence;

/// <summary>
/// Serializes the store's journal and snapshot records as JSON with a short, stable manifest, so the SQLite
/// journal does not embed CLR type names (which Akka's default JSON serializer would).
/// </summary>
internal sealed class StoreRecordSerializer : SerializerWithStringManifest
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

    private static readonly Dictionary<string, Type> TypesByManifest = new()
    {
        ["put"] = typeof(ObjectPut),
        ["removed"] = typeof(ObjectRemoved),
        ["snapshot"] = typeof(StoreSnapshot),
    };

    public StoreRecordSerializer(ExtendedActorSystem system) : base(system) { }

    public override int Identifier => 7311;

    public override string Manifest(object o) => o switch
    {
        ObjectPut => "put",
        ObjectRemoved => "removed",
        StoreSnapshot => "snapshot",
        _ => throw new ArgumentException($"{o.GetType()} is not a store record"),
    };

    public override byte[] ToBinary(object obj) => JsonSerializer.SerializeToUtf8Bytes(obj, obj.GetType(), Options);

    public override object FromBinary(byte[] bytes, string manifest) =>
        TypesByManifest.TryGetValue(manifest, out var type)
            ? JsonSerializer.Deserialize(bytes, type, Options)
              ?? throw new System.Runtime.Serialization.SerializationException($"Empty store record '{manifest}'")
            : throw new System.Runtime.Serialization.SerializationException($"Unknown store record manifest '{manifest}'");

    /// <summary>HOCON binding the store's records to this serializer.</summary>
    public const string Hocon = """
        akka.actor {
          serializers { orchestrator-store = "Orchestrator.Master.Store.Persistence.StoreRecordSerializer, orchestrator-master" }
          serialization-bindings { "Orchestrator.Master.Store.Persistence.IStoreRecord, orchestrator-master" = orchestrator-store }
        }
        """;
}
