using Orchestrator.Node.Tests.Services;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Akka.Actor;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Orchestrator.Node.Tests.Runtime;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Node.Tests;

/// <summary>
/// The whole node as Program runs it (NodeHost), against a stand-in master: an actor system with role "master"
/// and a "node-gateway" actor, over real Akka.Remote (TLS) with the protocol serializer, real Docker and the real proxy.
/// </summary>
public sealed class NodeHostTests(DockerFixture docker) : IClassFixture<DockerFixture>, IAsyncLifetime
{
    private readonly Channel<(object Message, IActorRef Sender)> _received = Channel.CreateUnbounded<(object, IActorRef)>();
    private ActorSystem _master = null!;
    private WebApplication _node = null!;

    public async Task InitializeAsync()
    {
        var port = TestNetwork.FreePort();
        _master = TestCluster.StartMaster(port);
        _master.ActorOf(Props.Create(() => new RecordingGateway(_received.Writer)), NodeProtocolNames.GatewayActorName);

        var options = NodeOptions.Parse(["--name", docker.NodeName, "--master", $"127.0.0.1:{port}", "--healthz-port", TestNetwork.FreePort().ToString(),
            "--cluster-cert", TestCluster.CertificatePath]);
        _node = NodeHost.Build(options);
        await _node.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _node.StopAsync();
        await _node.DisposeAsync();
        await _master.Terminate();
    }

    [Fact]
    public async Task Registers_runs_the_desired_pod_and_serves_it_on_a_node_port()
    {
        var (register, agent) = await Next<RegisterNode>(_ => true);
        Assert.Equal(docker.NodeName, register.Node.Metadata.Name);
        Assert.StartsWith("docker://", register.Node.Status.NodeInfo.ContainerRuntimeVersion);

        var pod = new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = $"web-{Guid.NewGuid():N}"[..12], NamespaceProperty = "default", Uid = Guid.NewGuid().ToString() },
            Spec = new V1PodSpec
            {
                NodeName = docker.NodeName,
                TerminationGracePeriodSeconds = 1,
                Containers =
                [
                    new V1Container
                    {
                        Name = "web", Image = DockerFixture.Image, Command = ["/busybox", "sh", "-c"],
                        Args = ["/busybox hostname > /www/index.html && exec /busybox httpd -f -p 80 -h /www"],
                        Ports = [new V1ContainerPort { ContainerPort = 80 }],
                    },
                ],
            },
        };
        agent.Tell(new DesiredPodsChanged(docker.NodeName, 1, [pod]));
        var (running, _) = await Next<PodStatusReported>(r => r.Status.Phase == "Running");
        Assert.Equal(pod.Metadata.Uid, running.Uid);

        var nodePort = TestNetwork.FreePort();
        var service = new V1Service
        {
            Metadata = new V1ObjectMeta { Name = "web", NamespaceProperty = "default" },
            Spec = new V1ServiceSpec { Type = "NodePort", Ports = [new V1ServicePort { Port = 80, NodePort = nodePort, Protocol = "TCP" }] },
        };
        var endpoints = new V1Endpoints
        {
            Metadata = new V1ObjectMeta { Name = "web", NamespaceProperty = "default" },
            Subsets = [new V1EndpointSubset { Addresses = [new V1EndpointAddress { Ip = running.Status.PodIP }], Ports = [new Corev1EndpointPort { Port = 80 }] }],
        };
        agent.Tell(new ServicesChanged(1, [service], TestSlices.Of(endpoints)));
        Assert.Equal(pod.Metadata.Name, (await TestNetwork.GetWithRetry($"http://127.0.0.1:{nodePort}/", attempts: 100)).Trim());

        agent.Tell(new DesiredPodsChanged(docker.NodeName, 2, []));
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while ((await docker.Runtime.ListContainersAsync(pod.Metadata.Uid)).Count > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the pod's container was not removed");
            await Task.Delay(200);
        }
    }

    private async Task<(T Message, IActorRef Sender)> Next<T>(Func<T, bool> match)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            var (message, sender) = await _received.Reader.ReadAsync(timeout.Token);
            if (message is T t && match(t)) return (t, sender);
        }
    }

    /// <summary>The master's side, reduced to: acknowledge registrations, record everything.</summary>
    internal sealed class RecordingGateway : ReceiveActor
    {
        public RecordingGateway(ChannelWriter<(object, IActorRef)> received)
        {
            ReceiveAny(message =>
            {
                if (message is RegisterNode register) Sender.Tell(new NodeRegistered(register.Node.Metadata.Name));
                received.TryWrite((message, Sender));
            });
        }
    }
}
