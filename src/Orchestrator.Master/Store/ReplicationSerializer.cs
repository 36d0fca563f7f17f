using System.Text.Json;
using Akka.Actor;
using Akka.Serialization;

namespace Orchestrator.Master.Store;

/// <summary>Serializes the replication stream's records (<see cref="IReplicationMessage"/>) as JSON with the record's
/// name as manifest; objects are already JSON strings inside them. Its identifier is the one the cluster guard admits
/// between masters (ClusterGuardPolicy.ReplicationSerializerId).</summary>
internal sealed class ReplicationSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    public const int Id = 7321;

    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

    private static readonly Dictionary<string, Type> TypesByManifest = typeof(IReplicationMessage).Assembly.GetTypes()
        .Where(t => typeof(IReplicationMessage).IsAssignableFrom(t) && t is { IsInterface: false, IsAbstract: false })
        .ToDictionary(t => t.Name);

    public override int Identifier => Id;

    public override string Manifest(object o) => o.GetType().Name;

    public override byte[] ToBinary(object obj) => JsonSerializer.SerializeToUtf8Bytes(obj, obj.GetType(), Options);

    public override object FromBinary(byte[] bytes, string manifest) =>
        TypesByManifest.TryGetValue(manifest, out var type)
            ? JsonSerializer.Deserialize(bytes, type, Options)!
            : throw new System.Runtime.Serialization.SerializationException($"Unknown replication manifest '{manifest}'");

    /// <summary>Binds the stream's records to this serializer (type names with this assembly's name, orchestrator-master
    /// in the master's build).</summary>
    public static string Hocon { get; } = $$"""
        akka.actor {
          serializers { orchestrator-replication = "{{TypeName(typeof(ReplicationSerializer))}}" }
          serialization-bindings { "{{TypeName(typeof(IReplicationMessage))}}" = orchestrator-replication }
        }
        """;

    public static string TypeName(Type type) => $"{type.FullName}, {type.Assembly.GetName().Name}";
}
