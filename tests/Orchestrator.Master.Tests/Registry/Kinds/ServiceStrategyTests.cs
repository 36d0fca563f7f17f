using k8s.Models;
using Orchestrator.Master.Registry.Kinds.Apps;
using Orchestrator.Master.Registry.Kinds.Core;
using Orchestrator.Master.Store;
using Orchestrator.Master.Tests.Store;
using Orchestrator.Shared.Api;
using Xunit;

namespace Orchestrator.Master.Tests.Registry.Kinds;

public class ServiceAdmissionTests
{
    private static List<StoreErrorCause> Admit(V1Service svc, V1Service? old = null, params V1Service[] others)
    {
        var causes = new List<StoreErrorCause>();
        causes.AddRange(Strategies.Admit(CoreResources.Services, svc, old, new FakeContext(others)));
        return causes;
    }

    private static V1Service Existing(string name, string clusterIp, int? nodePort = null)
    {
        var svc = Objects.Service(name, type: nodePort is null ? "ClusterIP" : "NodePort", nodePort: nodePort);
        svc.Spec.ClusterIP = clusterIp;
        return svc;
    }

    [Fact]
    public void ClusterIP_service_gets_defaults_and_the_next_free_address()
    {
        var svc = Objects.Service("web");
        svc.Spec.Type = null;
        Assert.Empty(Admit(svc, null, Existing("kubernetes", "172.28.128.1"), Existing("a", "172.28.128.2")));

        Assert.Equal("ClusterIP", svc.Spec.Type);
        Assert.Equal("172.28.128.3", svc.Spec.ClusterIP);
        Assert.Equal(["172.28.128.3"], svc.Spec.ClusterIPs);
        Assert.Equal(["IPv4"], svc.Spec.IpFamilies);
        Assert.Equal("SingleStack", svc.Spec.IpFamilyPolicy);
        Assert.Equal("None", svc.Spec.SessionAffinity);
        var port = svc.Spec.Ports[0];
        Assert.Equal("TCP", port.Protocol);
        Assert.Equal("80", port.TargetPort.Value);
        Assert.Null(port.NodePort);
    }

    [Fact]
    public void A_service_asking_for_IPv6_or_dual_stack_is_refused_on_this_single_stack_cluster()
    {
        // content/en/examples/service/networking/dual-stack-ipfamilies-ipv6.yaml: kube-apiserver with an IPv4-only service
        // range refuses it (initIPFamilyFields); it was stored with an IPv4 cluster IP under ipFamilies [IPv6]
        var ipv6 = Objects.Service("my-service");
        ipv6.Spec.IpFamilies = ["IPv6"];
        var cause = Assert.Single(Admit(ipv6));
        Assert.Equal("spec.ipFamilies[0]", cause.Field);
        Assert.Equal("Invalid value: \"IPv6\": not configured on this cluster", cause.Message);
        Assert.Null(ipv6.Spec.ClusterIP);

        var required = Objects.Service("my-service");
        required.Spec.IpFamilyPolicy = "RequireDualStack";
        cause = Assert.Single(Admit(required));
        Assert.Equal("spec.ipFamilyPolicy", cause.Field);
        Assert.Equal("Invalid value: \"RequireDualStack\": this cluster is not configured for dual-stack services", cause.Message);

        var single = Objects.Service("my-service");
        single.Spec.IpFamilies = ["IPv4", "IPv6"];
        single.Spec.IpFamilyPolicy = "SingleStack";
        cause = Assert.Single(Admit(single));
        Assert.Equal("spec.ipFamilyPolicy", cause.Field);

        var unknown = Objects.Service("my-service");
        unknown.Spec.IpFamilies = ["IPv5"];
        Assert.Equal("FieldValueNotSupported", Assert.Single(Admit(unknown)).Reason);
    }

    [Fact]
    public void PreferDualStack_gets_the_one_family_of_this_cluster_and_a_headless_selectorless_service_both()
    {
        // dual-stack-preferred-svc.yaml: accepted single-stack
        var preferred = Objects.Service("my-service");
        preferred.Spec.IpFamilyPolicy = "PreferDualStack";
        Assert.Empty(Admit(preferred));
        Assert.Equal(["IPv4"], preferred.Spec.IpFamilies);
        Assert.Equal("PreferDualStack", preferred.Spec.IpFamilyPolicy);

        // a headless Service without a selector defaults to RequireDualStack and names both families (no address is
        // allocated for it), as kube-apiserver does on any cluster
        var headless = Objects.Service("headless");
        headless.Spec.ClusterIP = "None";
        headless.Spec.Selector = null;
        Assert.Empty(Admit(headless));
        Assert.Equal("RequireDualStack", headless.Spec.IpFamilyPolicy);
        Assert.Equal(["IPv4", "IPv6"], headless.Spec.IpFamilies);
    }

    [Fact]
    public void A_headless_service_may_have_no_ports_as_in_Kubernetes()
    {
        // kubectl create service clusterip headless --clusterip=None (kubectl's test/cmd)
        var svc = Objects.Service("headless");
        svc.Spec.Ports = [];
        svc.Spec.ClusterIP = "None";
        Assert.Empty(Admit(svc));
        Assert.Equal("None", svc.Spec.ClusterIP);

        var update = Objects.Service("headless");
        update.Spec.Ports = null;
        Assert.Empty(Admit(update, svc));
    }

    [Fact]
    public void A_service_with_a_cluster_ip_needs_ports()
    {
        var svc = Objects.Service("web");
        svc.Spec.Ports = [];
        var cause = Assert.Single(Admit(svc));
        Assert.Equal("spec.ports", cause.Field);
        Assert.Equal("FieldValueRequired", cause.Reason);
    }

    [Fact]
    public void NodePort_service_gets_a_node_port_and_cluster_traffic_policy()
    {
        var svc = Objects.Service("web", type: "NodePort");
        Assert.Empty(Admit(svc, null, Existing("a", "172.28.128.2", 30000)));
        Assert.Equal(30001, svc.Spec.Ports[0].NodePort);
        Assert.Equal("Cluster", svc.Spec.ExternalTrafficPolicy);
    }

    [Fact]
    public void A_node_port_in_use_is_refused()
    {
        var svc = Objects.Service("web", type: "NodePort", nodePort: 30080);
        var cause = Assert.Single(Admit(svc, null, Existing("a", "172.28.128.2", 30080)));
        Assert.Equal("spec.ports[0].nodePort", cause.Field);
        Assert.Equal("Invalid value: 30080: provided port is already allocated", cause.Message);
    }

    [Fact]
    public void A_node_port_outside_the_range_is_refused()
    {
        var cause = Assert.Single(Admit(Objects.Service("web", type: "NodePort", nodePort: 80)));
        Assert.Equal("Invalid value: 80: provided port is not in the valid range. The range of valid ports is 30000-32767", cause.Message);
    }

    [Fact]
    public void A_node_port_on_a_ClusterIP_service_is_forbidden()
    {
        var cause = Assert.Single(Admit(Objects.Service("web", nodePort: 30080)));
        Assert.Equal("Forbidden: may not be used when `type` is 'ClusterIP'", cause.Message);
    }

    [Fact]
    public void Port_out_of_range_is_invalid()
    {
        var svc = Objects.Service("web");
        svc.Spec.Ports[0].Port = 70000;
        var cause = Admit(svc)[0]; // the defaulted targetPort is out of range too, as in Kubernetes
        Assert.Equal("spec.ports[0].port", cause.Field);
        Assert.Equal("Invalid value: 70000: must be between 1 and 65535, inclusive", cause.Message);
    }

    [Fact]
    public void Update_that_omits_allocations_keeps_them()
    {
        var old = Existing("web", "172.28.128.7", 30123);
        var update = Objects.Service("web", type: "NodePort");
        Assert.Empty(Admit(update, old));
        Assert.Equal("172.28.128.7", update.Spec.ClusterIP);
        Assert.Equal(30123, update.Spec.Ports[0].NodePort);
    }

    [Fact]
    public void A_requested_cluster_ip_must_be_free_and_in_range()
    {
        var taken = Objects.Service("web");
        taken.Spec.ClusterIP = "172.28.128.1";
        Assert.Equal("Invalid value: []string{\"172.28.128.1\"}: failed to allocate IP 172.28.128.1: provided IP is already allocated",
            Assert.Single(Admit(taken, null, Existing("kubernetes", "172.28.128.1"))).Message);

        var outside = Objects.Service("web");
        outside.Spec.ClusterIP = "192.168.1.1";
        Assert.Contains("is not in the valid range", Assert.Single(Admit(outside)).Message);
    }

    [Fact]
    public void Client_ip_affinity_gets_the_default_timeout_and_no_affinity_drops_the_config()
    {
        var clientIp = Objects.Service("web");
        clientIp.Spec.SessionAffinity = "ClientIP";
        Assert.Empty(Admit(clientIp));
        Assert.Equal(10800, clientIp.Spec.SessionAffinityConfig.ClientIP.TimeoutSeconds);

        var none = Objects.Service("other");
        none.Spec.SessionAffinityConfig = new V1SessionAffinityConfig { ClientIP = new V1ClientIPConfig { TimeoutSeconds = 60 } };
        Assert.Empty(Admit(none));
        Assert.Null(none.Spec.SessionAffinityConfig);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(86401)]
    public void A_client_ip_affinity_timeout_outside_1_to_86400_is_invalid(int seconds)
    {
        var svc = Objects.Service("web");
        svc.Spec.SessionAffinity = "ClientIP";
        svc.Spec.SessionAffinityConfig = new V1SessionAffinityConfig { ClientIP = new V1ClientIPConfig { TimeoutSeconds = seconds } };
        var cause = Assert.Single(Admit(svc));
        Assert.Equal("spec.sessionAffinityConfig.clientIP.timeoutSeconds", cause.Field);
        Assert.Equal($"Invalid value: {seconds}: must be greater than 0 and less than 86400", cause.Message);
    }

    [Theory]
    [InlineData("sessionAffinity", "spec.sessionAffinity")]
    [InlineData("internalTrafficPolicy", "spec.internalTrafficPolicy")]
    [InlineData("externalTrafficPolicy", "spec.externalTrafficPolicy")]
    [InlineData("trafficDistribution", "spec.trafficDistribution")]
    public void Unsupported_affinity_policy_and_distribution_values_are_refused(string field, string path)
    {
        var svc = Objects.Service("web", type: "NodePort");
        switch (field)
        {
            case "sessionAffinity": svc.Spec.SessionAffinity = "Cookie"; break;
            case "internalTrafficPolicy": svc.Spec.InternalTrafficPolicy = "Node"; break;
            case "externalTrafficPolicy": svc.Spec.ExternalTrafficPolicy = "Node"; break;
            default: svc.Spec.TrafficDistribution = "PreferSameNode"; break;
        }
        var cause = Assert.Single(Admit(svc));
        Assert.Equal(path, cause.Field);
        Assert.Equal("FieldValueNotSupported", cause.Reason);
    }

    [Theory]
    [InlineData("ClusterIP", "Local")]
    [InlineData("ClusterIP", "Cluster")]
    [InlineData("ExternalName", "Local")]
    public void External_traffic_policy_is_refused_where_no_traffic_comes_from_outside(string type, string policy)
    {
        var svc = Objects.Service("web", type: type);
        if (type == "ExternalName") { svc.Spec.ExternalName = "example.com"; svc.Spec.Ports = null; }
        svc.Spec.ExternalTrafficPolicy = policy;
        var cause = Assert.Single(Admit(svc));
        Assert.Equal("spec.externalTrafficPolicy", cause.Field);
        Assert.Equal($"Invalid value: \"{policy}\": may only be set for externally-accessible services", cause.Message);
    }

    [Fact]
    public void A_cluster_ip_service_with_external_ips_is_externally_accessible_defaulted_and_may_be_local()
    {
        var defaulted = Objects.Service("web");
        defaulted.Spec.ExternalIPs = ["192.0.2.10"];
        Assert.Empty(Admit(defaulted));
        Assert.Equal("Cluster", defaulted.Spec.ExternalTrafficPolicy);

        var local = Objects.Service("local");
        local.Spec.ExternalIPs = ["192.0.2.11"];
        local.Spec.ExternalTrafficPolicy = "Local";
        Assert.Empty(Admit(local));
        Assert.Equal("Local", local.Spec.ExternalTrafficPolicy);
        Assert.Null(local.Spec.HealthCheckNodePort); // a health check node port is a LoadBalancer's only

        var plain = Objects.Service("plain");
        Assert.Empty(Admit(plain));
        Assert.Null(plain.Spec.ExternalTrafficPolicy);
    }

    [Fact]
    public void A_type_change_to_cluster_ip_drops_an_unchanged_external_traffic_policy_and_keeps_a_changed_one_to_refuse_it()
    {
        var old = Objects.Service("web", type: "NodePort", nodePort: 30080);
        old.Spec.ExternalTrafficPolicy = "Local";
        Assert.Empty(Admit(old));

        var unchanged = Objects.Service("web");
        unchanged.Spec.ClusterIP = old.Spec.ClusterIP;
        unchanged.Spec.ExternalTrafficPolicy = "Local";
        Assert.Empty(Admit(unchanged, old));
        Assert.Null(unchanged.Spec.ExternalTrafficPolicy);

        var changed = Objects.Service("web");
        changed.Spec.ClusterIP = old.Spec.ClusterIP;
        changed.Spec.ExternalTrafficPolicy = "Cluster";
        Assert.Equal("spec.externalTrafficPolicy", Assert.Single(Admit(changed, old)).Field);
    }

    [Fact]
    public void A_type_change_away_from_load_balancer_clears_its_load_balancer_status()
    {
        static V1ServiceStatus Balanced() => new() { LoadBalancer = new V1LoadBalancerStatus { Ingress = [new V1LoadBalancerIngress { Ip = "127.0.0.200" }] } };
        var old = Objects.Service("web", type: "LoadBalancer");
        old.Status = Balanced();
        var update = Objects.Service("web", type: "NodePort");

        ((IResourceStrategy)CoreResources.Services.Strategy).PrepareForUpdate(update, old);
        Assert.Null(update.Status.LoadBalancer.Ingress);
        Assert.Single(old.Status.LoadBalancer.Ingress); // the stored object is not touched

        var stillBalanced = Objects.Service("web", type: "LoadBalancer");
        ((IResourceStrategy)CoreResources.Services.Strategy).PrepareForUpdate(stillBalanced, old);
        Assert.Single(stillBalanced.Status.LoadBalancer.Ingress);
    }

    [Theory]
    [InlineData("NodePort")]
    [InlineData("LoadBalancer")]
    public void A_type_change_to_cluster_ip_that_keeps_the_node_ports_releases_them_as_a_merge_patch_of_the_type_would(string from)
    {
        var old = Objects.Service("web", type: from, nodePort: 30080);
        old.Spec.ExternalTrafficPolicy = "Local";
        Assert.Empty(Admit(old));
        var update = KubeObjects.Clone(old);
        update.Spec.Type = "ClusterIP"; // kubectl patch svc web -p '{"spec":{"type":"ClusterIP"}}'

        Assert.Empty(Admit(update, old));
        Assert.Null(update.Spec.Ports[0].NodePort);
        Assert.Null(update.Spec.HealthCheckNodePort);
        Assert.Null(update.Spec.ExternalTrafficPolicy);
        Assert.Null(update.Spec.AllocateLoadBalancerNodePorts);
    }

    [Fact]
    public void A_type_change_to_cluster_ip_with_a_new_node_port_is_still_refused()
    {
        var old = Objects.Service("web", type: "NodePort", nodePort: 30080);
        Assert.Empty(Admit(old));
        var update = KubeObjects.Clone(old);
        update.Spec.Type = "ClusterIP";
        update.Spec.Ports[0].NodePort = 30081;

        var cause = Assert.Single(Admit(update, old));
        Assert.Equal("spec.ports[0].nodePort", cause.Field);
    }

    [Fact]
    public void A_type_change_to_external_name_that_keeps_the_cluster_ip_releases_it()
    {
        var old = Objects.Service("web");
        Assert.Empty(Admit(old));
        var update = KubeObjects.Clone(old);
        update.Spec.Type = "ExternalName";
        update.Spec.ExternalName = "example.com";

        Assert.Empty(Admit(update, old));
        Assert.Null(update.Spec.ClusterIP);
        Assert.Null(update.Spec.ClusterIPs);
        Assert.Null(update.Spec.IpFamilies);
        Assert.Null(update.Spec.IpFamilyPolicy);
    }

    [Fact]
    public void An_external_name_service_may_not_have_a_cluster_ip()
    {
        var svc = Objects.Service("web", type: "ExternalName");
        svc.Spec.ExternalName = "example.com";
        svc.Spec.ClusterIP = "172.28.128.40";
        var cause = Assert.Single(Admit(svc));
        Assert.Equal(("spec.clusterIPs", "Forbidden: may not be set for ExternalName services"), (cause.Field, cause.Message));
    }

    [Theory]
    [InlineData("not-an-ip", "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)")]
    [InlineData("10.0.0.1/24", "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)")]
    [InlineData("0.0.0.0", "may not be unspecified (0.0.0.0)")]
    [InlineData("::", "may not be unspecified (::)")]
    [InlineData("169.254.169.254", "may not be in the link-local range (169.254.0.0/16, fe80::/10)")]
    [InlineData("224.0.0.5", "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)")]
    public void An_external_ip_that_is_no_address_or_a_special_one_is_refused(string externalIp, string message)
    {
        var svc = Objects.Service("web");
        svc.Spec.ExternalIPs = ["192.0.2.10", externalIp];
        var cause = Assert.Single(Admit(svc));
        Assert.Equal(("spec.externalIPs[1]", $"Invalid value: \"{externalIp}\": {message}"), (cause.Field, cause.Message));
    }

    [Theory]
    [InlineData("192.0.2.10")]
    [InlineData("127.0.0.60")] // this machine's address for a Service (README), which kube-apiserver would refuse
    [InlineData("2001:db8::10")]
    public void An_external_ip_of_the_machine_or_elsewhere_is_accepted(string externalIp)
    {
        var svc = Objects.Service("web");
        svc.Spec.ExternalIPs = [externalIp];
        Assert.Empty(Admit(svc));
    }

    [Fact]
    public void A_cluster_ip_service_stored_with_a_policy_by_an_earlier_version_can_still_be_updated()
    {
        var stored = Objects.Service("web");
        Assert.Empty(Admit(stored));
        stored.Spec.ExternalTrafficPolicy = "Cluster"; // as a PUT from NodePort to ClusterIP left it before
        var update = KubeObjects.Clone(stored);
        update.Metadata.Labels = new Dictionary<string, string> { ["tier"] = "web" };

        Assert.Empty(Admit(update, stored));
        Assert.Null(update.Spec.ExternalTrafficPolicy);
    }
}
