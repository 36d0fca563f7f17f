using Docker.DotNet.Models;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Orchestrator.Node.Host;
using Orchestrator.Node.Runtime;
using Orchestrator.Node.Tests.Agent;

namespace Orchestrator.Node.Tests.Runtime;

/// <summary>What a sandbox and the containers joining it are created with (no Docker call is made).</summary>
public sealed class SandboxParametersTests : IDisposable
{
    private readonly DockerRuntime _runtime;

    public SandboxParametersTests()
    {
        var pods = PodNetwork.FromCidr("172.28.0.0/16");
        _runtime = new DockerRuntime(new DockerRuntimeOptions("unix:///var/run/docker.sock", "node-a", "orchestrator", "127.0.0.1",
            pods, new PodDns(pods.Gateway, "cluster.local")), NullLogger<DockerRuntime>.Instance);
    }

    public void Dispose() => _runtime.Dispose();

    private static V1Pod TwoContainerPod()
    {
        var pod = TestPods.Pod("web-1", containers: ["app", "sidecar"]);
        pod.Spec.Containers[1].Ports = [new V1ContainerPort { ContainerPort = 9090, HostPort = 19090 }, new V1ContainerPort { ContainerPort = 80 }];
        pod.Spec.Containers[0].Env =
        [
            new V1EnvVar { Name = "POD_IP", ValueFrom = new V1EnvVarSource { FieldRef = new V1ObjectFieldSelector { FieldPath = "status.podIP" } } },
            new V1EnvVar { Name = "POD_IPS", ValueFrom = new V1EnvVarSource { FieldRef = new V1ObjectFieldSelector { FieldPath = "status.podIPs" } } },
            new V1EnvVar { Name = "HOST_IP", ValueFrom = new V1EnvVarSource { FieldRef = new V1ObjectFieldSelector { FieldPath = "status.hostIP" } } },
        ];
        return pod;
    }

    [Fact]
    public void The_sandbox_holds_the_pods_address_hostname_dns_and_the_ports_of_all_its_containers()
    {
        var pod = TwoContainerPod();
        var p = _runtime.BuildSandboxParameters(new SandboxRequest(pod, "node-a", "127.0.0.1", Attempt: 1), "172.28.0.7");

        Assert.Equal("orchestrator/pause:1", p.Image);
        Assert.Equal($"orch_web-1_default_POD_{pod.Metadata.Uid.Replace("-", "")[..8]}_1", p.Name);
        Assert.Equal("orchestrator", p.HostConfig.NetworkMode);
        Assert.Equal("172.28.0.7", p.NetworkingConfig.EndpointsConfig["orchestrator"].IPAMConfig.IPv4Address);
        Assert.Equal("web-1", p.Hostname);
        Assert.Equal(["172.28.0.1"], p.HostConfig.DNS);
        Assert.Equal(["80/tcp", "9090/tcp"], p.ExposedPorts.Keys.Order());
        Assert.Equal("", Assert.Single(p.HostConfig.PortBindings["80/tcp"]).HostPort); // declared twice, published once
        Assert.Equal(("127.0.0.1", "19090"), (p.HostConfig.PortBindings["9090/tcp"][0].HostIP, p.HostConfig.PortBindings["9090/tcp"][0].HostPort));
        Assert.Equal(
            new Dictionary<string, string>
            {
                [ContainerLabels.Node] = "node-a", [ContainerLabels.PodUid] = pod.Metadata.Uid, [ContainerLabels.PodName] = "web-1",
                [ContainerLabels.PodNamespace] = "default", [ContainerLabels.ContainerName] = "POD", [ContainerLabels.RestartCount] = "1",
                [ContainerLabels.Role] = "sandbox",
            },
            p.Labels);
        var listed = ContainerLabels.Parse("id", p.Labels, running: true, DateTime.UtcNow);
        Assert.True(listed!.IsSandbox);
    }

    [Fact]
    public void A_container_joins_the_sandboxs_namespace_with_nothing_docker_refuses_there_and_knows_the_pod_IP()
    {
        var pod = TwoContainerPod();
        var p = _runtime.BuildCreateParameters(new ContainerRequest(pod, pod.Spec.Containers[0], "node-a", "127.0.0.1", 0,
            SandboxId: "abc123", PodIp: "172.28.0.7"));

        Assert.Equal("container:abc123", p.HostConfig.NetworkMode);
        Assert.Null(p.Hostname);
        Assert.Null(p.ExposedPorts);
        Assert.Null(p.HostConfig.PortBindings);
        Assert.Null(p.HostConfig.DNS);
        Assert.Null(p.HostConfig.DNSSearch);
        Assert.Null(p.NetworkingConfig);
        Assert.Equal(["POD_IP=172.28.0.7", "POD_IPS=172.28.0.7", "HOST_IP=127.0.0.1"], p.Env);
        Assert.Equal("abc123", p.Labels[ContainerLabels.Sandbox]);
        var listed = ContainerLabels.Parse("id", p.Labels, running: true, DateTime.UtcNow);
        Assert.Equal((false, "abc123"), (listed!.IsSandbox, listed.SandboxId));
    }

    [Fact]
    public void Without_a_sandbox_a_container_keeps_a_network_of_its_own()
    {
        var pod = TwoContainerPod();
        var p = _runtime.BuildCreateParameters(new ContainerRequest(pod, pod.Spec.Containers[1], "node-a", "127.0.0.1", 0));
        Assert.Equal("orchestrator", p.HostConfig.NetworkMode);
        Assert.Equal("web-1", p.Hostname);
        Assert.Equal(["80/tcp", "9090/tcp"], p.ExposedPorts.Keys.Order());
    }
}

/// <summary>The container's resolved environment as Docker gets it, and $(VAR) in its command and args.</summary>
public sealed class ContainerEnvironmentParametersTests : IDisposable
{
    private readonly DockerRuntime _runtime = new(new DockerRuntimeOptions("unix:///var/run/docker.sock", "node-a", "orchestrator", "127.0.0.1"),
        NullLogger<DockerRuntime>.Instance);

    public void Dispose() => _runtime.Dispose();

    [Fact]
    public void The_supervisors_environment_is_used_and_expands_command_and_args()
    {
        var pod = TestPods.Pod("web-1");
        var c = pod.Spec.Containers[0];
        c.Command = ["sh", "-c", "echo $(MODE) $(MISSING)"];
        c.Args = ["--mode=$(MODE)", "$$(MODE)"];

        var p = _runtime.BuildCreateParameters(new ContainerRequest(pod, c, "node-a", "127.0.0.1", 0) { Environment = ["MODE=fast"] });

        Assert.Equal(["MODE=fast"], p.Env);
        Assert.Equal(["sh", "-c", "echo fast $(MISSING)"], p.Entrypoint);
        Assert.Equal(["--mode=fast", "$(MODE)"], p.Cmd);
    }
}
