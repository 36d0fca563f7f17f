using Akka.Actor;
using k8s.Models;
using Orchestrator.Shared.Protocol;
using Orchestrator.Shared.Protocol.Serialization;
using Xunit;

namespace Orchestrator.Shared.Tests.Protocol;

public sealed class ProtocolSerializerTests : IDisposable
{
    private readonly ActorSystem _system = ActorSystem.Create("serializer-test", ProtocolSerializer.Hocon);

    [Fact]
    public void Protocol_messages_are_bound_to_the_protocol_serializer()
    {
        var serializer = _system.Serialization.FindSerializerForType(typeof(DesiredPodsChanged));
        Assert.IsType<ProtocolSerializer>(serializer);
    }

    [Fact]
    public void Pods_keep_their_Kubernetes_wire_format_across_the_wire()
    {
        var pod = new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = "web-1", NamespaceProperty = "default", Uid = "u1" },
            Spec = new V1PodSpec
            {
                Containers =
                [
                    new V1Container
                    {
                        Name = "web", Image = "katacoda/docker-http-server:latest",
                        Ports = [new V1ContainerPort { ContainerPort = 80, HostPort = 8001 }],
                        Resources = new V1ResourceRequirements { Limits = new Dictionary<string, ResourceQuantity> { ["memory"] = new("64Mi") } },
                        ReadinessProbe = new V1Probe { HttpGet = new V1HTTPGetAction { Port = "http", Path = "/" } },
                    },
                ],
            },
        };
        var message = new DesiredPodsChanged("node-a", 7, [pod]);
        var serializer = (ProtocolSerializer)_system.Serialization.FindSerializerFor(message);

        var bytes = serializer.ToBinary(message);
        var back = (DesiredPodsChanged)serializer.FromBinary(bytes, serializer.Manifest(message));

        Assert.Equal(7, back.Generation);
        var container = Assert.Single(back.Pods).Spec.Containers[0];
        Assert.Equal(8001, container.Ports[0].HostPort);
        Assert.Equal("64Mi", container.Resources.Limits["memory"].ToString());
        Assert.Equal("http", container.ReadinessProbe.HttpGet.Port.Value);
    }

    [Fact]
    public void An_unknown_manifest_is_an_error()
    {
        var serializer = (ProtocolSerializer)_system.Serialization.FindSerializerForType(typeof(NodeHeartbeat));
        Assert.Throws<System.Runtime.Serialization.SerializationException>(() => serializer.FromBinary("{}"u8.ToArray(), "Nope"));
    }

    public void Dispose() => _system.Terminate().Wait(TimeSpan.FromSeconds(10));
}
