using Microsoft.Extensions.Logging.Abstractions;
using Orchestrator.Node.Host;
using Orchestrator.Node.Runtime;
using Orchestrator.Node.Services;
using Orchestrator.Node.Tests.Agent;
using Orchestrator.Node.Tests.Services;
using Orchestrator.Shared.Protocol;
using k8s.Models;

namespace Orchestrator.Node.Tests.Dns;

/// <summary>What a container is created with for cluster DNS and service links (no Docker call is made).</summary>
public sealed class PodDnsConfigTests : IDisposable
{
    private readonly ServiceDirectory _directory = new();
    private readonly DockerRuntime _runtime;

    public PodDnsConfigTests()
    {
        var pods = PodNetwork.FromCidr("172.28.0.0/16");
        _runtime = new DockerRuntime(new DockerRuntimeOptions("unix:///var/run/docker.sock", "node-a", "orchestrator", "127.0.0.1",
            pods, new PodDns(pods.Gateway, "cluster.local")), NullLogger<DockerRuntime>.Instance, _directory);
        _directory.Publish(new ServicesChanged(1, [ServiceDirectoryTests.Service("redis-master", "default", "172.28.128.3", (null, 6379))], []));
    }

    public void Dispose() => _runtime.Dispose();

    private Docker.DotNet.Models.CreateContainerParameters Create(V1Pod pod) =>
        _runtime.BuildCreateParameters(new ContainerRequest(pod, pod.Spec.Containers[0], "node-a", "127.0.0.1", 0));

    [Fact]
    public void The_pod_network_splits_the_cidr_between_pods_and_cluster_ips()
    {
        var network = PodNetwork.FromCidr("172.28.0.0/16");
        Assert.Equal(("172.28.0.0/16", "172.28.0.0/17", "172.28.0.1", "orch0"), (network.Subnet, network.IpRange, network.Gateway, network.Bridge));
    }

    [Fact]
    public void A_cluster_first_pod_uses_cluster_dns_with_the_kubelets_search_path()
    {
        var parameters = Create(TestPods.Pod("web"));

        Assert.Equal(["172.28.0.1"], parameters.HostConfig.DNS);
        Assert.Equal(["default.svc.cluster.local", "svc.cluster.local", "cluster.local"], parameters.HostConfig.DNSSearch);
        Assert.Equal(["ndots:5"], parameters.HostConfig.DNSOptions);
    }

    [Fact]
    public void A_default_policy_pod_keeps_dockers_resolver()
    {
        var pod = TestPods.Pod("web");
        pod.Spec.DnsPolicy = "Default";
        Assert.Null(Create(pod).HostConfig.DNS);
    }

    [Fact]
    public void Service_links_come_first_and_the_containers_own_variables_win()
    {
        var pod = TestPods.Pod("web");
        pod.Spec.Containers[0].Env = [new V1EnvVar { Name = "REDIS_MASTER_SERVICE_PORT", Value = "1234" }];

        var env = Create(pod).Env;

        Assert.Contains("REDIS_MASTER_SERVICE_HOST=172.28.128.3", env);
        Assert.Contains("REDIS_MASTER_SERVICE_PORT=1234", env);
        Assert.DoesNotContain("REDIS_MASTER_SERVICE_PORT=6379", env);
    }

    [Fact]
    public void Service_links_can_be_turned_off()
    {
        var pod = TestPods.Pod("web");
        pod.Spec.EnableServiceLinks = false;
        Assert.DoesNotContain(Create(pod).Env, e => e.StartsWith("REDIS_MASTER_", StringComparison.Ordinal));
    }
}
