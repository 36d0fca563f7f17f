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
    public void Network_policies_and_their_peers_cross_the_wire()
    {
        var policy = new V1NetworkPolicy
        {
            Metadata = new V1ObjectMeta { Name = "allow", NamespaceProperty = "default" },
            Spec = new V1NetworkPolicySpec
            {
                PodSelector = new V1LabelSelector(), PolicyTypes = ["Ingress"],
                Ingress = [new V1NetworkPolicyIngressRule { Ports = [new V1NetworkPolicyPort { Port = "http", Protocol = "TCP" }] }],
            },
        };
        var message = new NetworkPoliciesChanged(3, [policy], [new PolicyNamespace("default", new Dictionary<string, string> { ["team"] = "a" })],
            [new PolicyPod("default", "web", new Dictionary<string, string> { ["app"] = "web" }, "172.28.0.9", [new PolicyPodPort("http", 8080, "TCP")])]);
        var serializer = (ProtocolSerializer)_system.Serialization.FindSerializerFor(message);

        var back = (NetworkPoliciesChanged)serializer.FromBinary(serializer.ToBinary(message), serializer.Manifest(message));

        Assert.Equal("http", back.Policies[0].Spec.Ingress[0].Ports[0].Port.Value);
        Assert.Equal("a", back.Namespaces[0].Labels!["team"]);
        var pod = Assert.Single(back.Pods);
        Assert.Equal(("web", "172.28.0.9", "web"), (pod.Name, pod.Ip, pod.Labels!["app"]));
        Assert.Equal(new PolicyPodPort("http", 8080, "TCP"), Assert.Single(pod.Ports!));
    }

    [Fact]
    public void The_nodes_pod_ranges_cross_the_wire_with_the_services()
    {
        var message = new ServicesChanged(4, [], [], PodRanges: [new NodePodRange("n1", "172.28.1.0/24")]);
        var serializer = (ProtocolSerializer)_system.Serialization.FindSerializerFor(message);

        var back = (ServicesChanged)serializer.FromBinary(serializer.ToBinary(message), serializer.Manifest(message));

        Assert.Equal(new NodePodRange("n1", "172.28.1.0/24"), Assert.Single(back.PodRanges!));
    }

    [Fact]
    public void An_unknown_manifest_is_an_error()
    {
        var serializer = (ProtocolSerializer)_system.Serialization.FindSerializerForType(typeof(NodeHeartbeat));
        Assert.Throws<System.Runtime.Serialization.SerializationException>(() => serializer.FromBinary("{}"u8.ToArray(), "Nope"));
    }

    public void Dispose() => _system.Terminate().Wait(TimeSpan.FromSeconds(10));
}
