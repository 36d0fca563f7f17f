using k8s.Models;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;
using Xunit;

namespace Orchestrator.Master.Tests.Store;

/// <summary>A Service's /status update as 1.32's ValidateServiceStatusUpdate admits it, and the decoded defaults
/// (SetDefaults_Service) that are set before admission.</summary>
public class ServiceStatusSpec() : StoreSpecBase(new ObjectStoreSettings(SnapshotEvery: 1000, WatchWindow: 50))
{
    private V1Service Create(string name, string type) =>
        (V1Service)Stored(new CreateObject("services", Objects.Service(name, type: type)));

    private static V1Service WithIngress(V1Service stored, params V1LoadBalancerIngress[] ingress)
    {
        var changed = KubeObjects.Clone(stored);
        changed.Status = new V1ServiceStatus { LoadBalancer = new V1LoadBalancerStatus { Ingress = ingress } };
        return changed;
    }

    [Fact]
    public void A_load_balancer_address_without_its_ip_mode_gets_VIP()
    {
        var stored = Create("lb", "LoadBalancer");
        Assert.True(stored.Spec.AllocateLoadBalancerNodePorts);
        Assert.Equal("Cluster", stored.Spec.ExternalTrafficPolicy);

        var updated = (V1Service)Stored(new UpdateObject("services",
            WithIngress(stored, new V1LoadBalancerIngress { Ip = "127.0.100.7" }, new V1LoadBalancerIngress { Hostname = "lb.example.com" }),
            "status"));

        Assert.Equal("VIP", updated.Status.LoadBalancer.Ingress[0].IpMode);
        Assert.Null(updated.Status.LoadBalancer.Ingress[1].IpMode);
        Assert.Equal("lb.example.com", updated.Status.LoadBalancer.Ingress[1].Hostname);
    }

    [Fact]
    public void Bad_load_balancer_status_is_refused_with_kubes_causes()
    {
        var stored = Create("lb", "LoadBalancer");
        var failed = Failed(new UpdateObject("services", WithIngress(stored,
            new V1LoadBalancerIngress { Ip = "300.1.1.1", IpMode = "Proxy" },
            new V1LoadBalancerIngress { Ip = "10.0.0.1", IpMode = "Direct" },
            new V1LoadBalancerIngress { Hostname = "lb.example.com", IpMode = "VIP" },
            new V1LoadBalancerIngress { Hostname = "10.0.0.2" },
            new V1LoadBalancerIngress { Hostname = "Not_A_Name" }), "status"));

        Assert.Equal("Invalid", failed.Reason);
        Assert.Equal(
        [
            "status.loadBalancer.ingress[0].ip",
            "status.loadBalancer.ingress[1].ipMode",
            "status.loadBalancer.ingress[2].ipMode",
            "status.loadBalancer.ingress[3].hostname",
            "status.loadBalancer.ingress[4].hostname",
        ], failed.Causes!.Select(c => c.Field));
        Assert.Contains("Forbidden: may not be specified when `ip` is not set", failed.Causes![2].Message);
        Assert.Contains("must be a DNS name, not an IP address", failed.Causes![3].Message);

        var cluster = Create("plain", "ClusterIP");
        var notBalanced = Failed(new UpdateObject("services",
            WithIngress(cluster, new V1LoadBalancerIngress { Ip = "10.0.0.1", IpMode = "VIP" }), "status"));
        var cause = Assert.Single(notBalanced.Causes!);
        Assert.Equal("status.loadBalancer.ingress", cause.Field);
        Assert.Equal("Forbidden: may only be used when `spec.type` is 'LoadBalancer'", cause.Message);
    }
}
