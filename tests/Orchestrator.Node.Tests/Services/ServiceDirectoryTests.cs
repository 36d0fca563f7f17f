using System.Net;
using k8s.Models;
using Orchestrator.Node.Services;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Node.Tests.Services;

public sealed class ServiceDirectoryTests
{
    internal static V1Service Service(string name, string ns, string clusterIp, params (string? Name, int Port)[] ports) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns },
        Spec = new V1ServiceSpec
        {
            ClusterIP = clusterIp,
            Ports = ports.Select(p => new V1ServicePort { Name = p.Name, Port = p.Port, Protocol = "TCP" }).ToList(),
        },
    };

    internal static V1Endpoints Endpoints(string name, string ns, params string[] ready) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns },
        Subsets = [new V1EndpointSubset { Addresses = ready.Select(ip => new V1EndpointAddress { Ip = ip }).ToList() }],
    };

    [Fact]
    public void A_service_resolves_to_its_cluster_ip_and_a_headless_one_to_its_ready_pods()
    {
        var directory = new ServiceDirectory();
        directory.Publish(new ServicesChanged(1,
            [Service("redis-master", "default", "172.28.128.3", (null, 6379)), Service("db", "default", "None", (null, 5432))],
            TestSlices.Of(Endpoints("db", "default", "172.28.0.5", "172.28.0.6"))));

        Assert.Equal([IPAddress.Parse("172.28.128.3")], directory.Addresses("default", "redis-master"));
        Assert.Equal([IPAddress.Parse("172.28.0.5"), IPAddress.Parse("172.28.0.6")], directory.Addresses("default", "db"));
        Assert.Null(directory.Addresses("other", "redis-master"));
    }

    [Fact]
    public void Environment_variables_follow_the_kubelets_names_for_the_pods_namespace_only()
    {
        var directory = new ServiceDirectory();
        directory.Publish(new ServicesChanged(1,
            [Service("redis-master", "default", "172.28.128.3", (null, 6379)),
             Service("web", "default", "172.28.128.4", ("http", 80), ("metrics", 9090)),
             Service("elsewhere", "other", "172.28.128.5", (null, 1))],
            []));

        var env = directory.EnvironmentFor("default").ToDictionary(kv => kv.Key, kv => kv.Value);

        Assert.Equal("172.28.128.3", env["REDIS_MASTER_SERVICE_HOST"]);
        Assert.Equal("6379", env["REDIS_MASTER_SERVICE_PORT"]);
        Assert.Equal("tcp://172.28.128.3:6379", env["REDIS_MASTER_PORT"]);
        Assert.Equal("tcp://172.28.128.3:6379", env["REDIS_MASTER_PORT_6379_TCP"]);
        Assert.Equal("172.28.128.3", env["REDIS_MASTER_PORT_6379_TCP_ADDR"]);
        Assert.Equal("9090", env["WEB_SERVICE_PORT_METRICS"]);
        Assert.DoesNotContain("ELSEWHERE_SERVICE_HOST", env.Keys);
    }

    [Fact]
    public void The_api_servers_service_is_in_every_namespace_also_without_service_links()
    {
        var directory = new ServiceDirectory();
        directory.Publish(new ServicesChanged(1,
            [Service("kubernetes", "default", "172.28.128.1", ("https", 443)), Service("web", "team", "172.28.128.4", (null, 80)),
             Service("kubernetes", "team", "172.28.128.9", (null, 8080))],
            []));

        var env = directory.EnvironmentFor("other", serviceLinks: false).ToDictionary(kv => kv.Key, kv => kv.Value);
        Assert.Equal("172.28.128.1", env["KUBERNETES_SERVICE_HOST"]);
        Assert.Equal("443", env["KUBERNETES_SERVICE_PORT"]);
        Assert.Equal("443", env["KUBERNETES_SERVICE_PORT_HTTPS"]);
        Assert.Equal("tcp://172.28.128.1:443", env["KUBERNETES_PORT"]);
        Assert.Equal("172.28.128.1", env["KUBERNETES_PORT_443_TCP_ADDR"]);
        Assert.Equal("tcp", env["KUBERNETES_PORT_443_TCP_PROTO"]);
        Assert.DoesNotContain("WEB_SERVICE_HOST", directory.EnvironmentFor("team", serviceLinks: false).Select(kv => kv.Key));
        var team = directory.EnvironmentFor("team").ToDictionary(kv => kv.Key, kv => kv.Value); // one value per name
        Assert.Equal("172.28.128.9", team["KUBERNETES_SERVICE_HOST"]); // the namespace's own Service of that name wins
        Assert.Equal("172.28.128.4", team["WEB_SERVICE_HOST"]);
    }

    [Fact]
    public void A_subscriber_gets_the_current_view_at_once_and_then_every_change_in_order()
    {
        var directory = new ServiceDirectory();
        directory.Publish(new ServicesChanged(1, [], []));
        var seen = new List<long>();

        directory.Subscribe(changed => seen.Add(changed.Generation));
        directory.Publish(new ServicesChanged(2, [], []));
        directory.Publish(new ServicesChanged(3, [], []));

        Assert.Equal([1, 2, 3], seen);
    }

    [Fact]
    public void A_subscriber_that_throws_does_not_keep_the_change_from_the_others()
    {
        var directory = new ServiceDirectory();
        var seen = new List<long>();
        directory.Subscribe(_ => throw new InvalidOperationException("broken reader"));
        directory.Subscribe(changed => seen.Add(changed.Generation));

        var error = Assert.Throws<AggregateException>(() => directory.Publish(new ServicesChanged(4, [Service("web", "default", "172.28.128.4", (null, 80))], [])));

        Assert.Equal("broken reader", Assert.Single(error.InnerExceptions).Message);
        Assert.Equal([4], seen);
        Assert.NotNull(directory.Addresses("default", "web"));
    }
}
