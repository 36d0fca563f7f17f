using System.Text;
using Akka.Actor;
using Akka.Serialization;
using Orchestrator.Shared.Api;

namespace Orchestrator.Shared.Protocol.Serialization;

/// <summary>
/// Serializes <see cref="INodeProtocolMessage"/> records as KubernetesJson so Kubernetes models keep their
/// wire format (IntOrString, quantities, RFC 3339 times) across Akka.Remote. The manifest is the record's
/// short type name, so renaming a record is a protocol change.
/// </summary>
public sealed class ProtocolSerializer : SerializerWithStringManifest
{
    private static readonly Dictionary<string, Type> TypesByManifest = typeof(INodeProtocolMessage).Assembly
        .GetTypes()
        .Where(t => typeof(INodeProtocolMessage).IsAssignableFrom(t) && t is { IsInterface: false, IsAbstract: false })
        .ToDictionary(t => t.Name);

    public ProtocolSerializer(ExtendedActorSystem system) : base(system) { }

    public override int Identifier => 7301;

    public override string Manifest(object o) => o.GetType().Name;

    public override byte[] ToBinary(object obj) => Encoding.UTF8.GetBytes(KubeObjects.Serialize(obj));

    public override object FromBinary(byte[] bytes, string manifest) =>
        TypesByManifest.TryGetValue(manifest, out var type)
            ? KubeObjects.Deserialize(Encoding.UTF8.GetString(bytes), type)
            : throw new System.Runtime.Serialization.SerializationException($"Unknown node protocol manifest '{manifest}'");

    /// <summary>HOCON that binds the protocol's messages to this serializer and sizes remoting frames for them; both roles add it.</summary>
    public const string Hocon = """
        akka.actor {
          serializers { orchestrator-protocol = "Orchestrator.Shared.Protocol.Serialization.ProtocolSerializer, Orchestrator.Shared" }
          serialization-bindings { "Orchestrator.Shared.Protocol.INodeProtocolMessage, Orchestrator.Shared" = orchestrator-protocol }
        }
        # DesiredPodsChanged and ServicesChanged carry whole object sets; the 128 kB default frame is too small
        # for a node with a few dozen pods.
        akka.remote.dot-netty.tcp {
          maximum-frame-size = 16MiB
          send-buffer-size = 16MiB
          receive-buffer-size = 16MiB
        }
        """;
}
