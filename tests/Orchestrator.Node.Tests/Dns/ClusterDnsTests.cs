using System.Net;
using ARSoft.Tools.Net.Dns;
using ARSoft.Tools.Net;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Orchestrator.Node.Dns;
using Orchestrator.Node.Services;
using Orchestrator.Node.Tests.Services;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Node.Tests.Dns;

/// <summary>
/// Cluster DNS on a loopback address with a fake upstream DNS server on another loopback address (the test's
/// resolv.conf names it): nothing here ever asks a real resolver.
/// </summary>
public sealed class ClusterDnsTests : IAsyncLifetime
{
    private static int _next = 40;
    private readonly int _port = 20000 + Random.Shared.Next(20000);
    private readonly IPAddress _listen;
    private readonly IPAddress _upstreamAddress;
    private readonly string _resolvConf = Path.GetTempFileName();
    private readonly ServiceDirectory _directory = new();
    private DnsServer _upstream = null!;
    private ClusterDns _dns = null!;
    private int _upstreamQueries;

    public ClusterDnsTests()
    {
        var n = Interlocked.Add(ref _next, 2);
        _listen = IPAddress.Parse($"127.0.53.{n}");
        _upstreamAddress = IPAddress.Parse($"127.0.53.{n + 1}");
    }

    public async Task InitializeAsync()
    {
        await File.WriteAllTextAsync(_resolvConf, $"# test\nsearch example\nnameserver {_upstreamAddress}\n");
        _upstream = new DnsServer(new UdpServerTransport(new IPEndPoint(_upstreamAddress, _port)));
        _upstream.QueryReceived += (_, e) =>
        {
            Interlocked.Increment(ref _upstreamQueries);
            var query = (DnsMessage)e.Query;
            var response = query.CreateResponseInstance();
            if (query.Questions[0].Name.Equals(DomainName.Parse("upstream.example")))
                response.AnswerRecords.Add(new ARecord(query.Questions[0].Name, 60, IPAddress.Parse("127.0.0.99")));
            else response.ReturnCode = ReturnCode.NxDomain;
            e.Response = response;
            return Task.CompletedTask;
        };
        _upstream.Start();
        _directory.Publish(new ServicesChanged(1,
            [ServiceDirectoryTests.Service("redis-master", "default", "172.28.128.3", (null, 6379)),
             ServiceDirectoryTests.Service("api", "shop", "172.28.128.9", (null, 80)),
             ServiceDirectoryTests.Service("nginx", "default", "None", ("web", 80))],
            TestSlices.Of(new V1Endpoints
            {
                Metadata = new V1ObjectMeta { Name = "nginx", NamespaceProperty = "default" },
                Subsets =
                [
                    new V1EndpointSubset
                    {
                        Addresses = [new V1EndpointAddress { Ip = "10.1.0.5", Hostname = "web-0" }, new V1EndpointAddress { Ip = "10.1.0.6" }],
                        NotReadyAddresses = [new V1EndpointAddress { Ip = "10.1.0.7", Hostname = "web-2" }],
                    },
                ],
            })));
        _dns = new ClusterDns(new ClusterDnsOptions(new IPEndPoint(_listen, _port), "cluster.local", _resolvConf, _port),
            _directory, NullLogger<ClusterDns>.Instance);
        Assert.True(await _dns.TryStartAsync());
    }

    public Task DisposeAsync()
    {
        _dns.Dispose();
        try { _upstream.Stop(); } catch (AggregateException) { } // Stop may report its cancelled receive loops
        File.Delete(_resolvConf);
        return Task.CompletedTask;
    }

    private async Task<DnsMessage> Ask(string name)
    {
        var client = new DnsClient([_listen], [new UdpClientTransport(_port)], false, 3000);
        var answer = await client.ResolveAsync(DomainName.Parse(name), RecordType.A);
        Assert.NotNull(answer);
        return answer;
    }

    private static string[] Addresses(DnsMessage m) => m.AnswerRecords.OfType<ARecord>().Select(a => a.Address.ToString()).ToArray();

    [Theory]
    [InlineData("redis-master.default.svc.cluster.local")]
    [InlineData("redis-master.default.svc")]
    [InlineData("redis-master.default")]
    [InlineData("redis-master")]
    public async Task Service_names_resolve_to_the_cluster_ip(string name) =>
        Assert.Equal(["172.28.128.3"], Addresses(await Ask(name)));

    [Fact]
    public async Task Another_namespace_needs_its_name()
    {
        Assert.Equal(["172.28.128.9"], Addresses(await Ask("api.shop.svc.cluster.local")));
        Assert.Equal(ReturnCode.NxDomain, (await Ask("api.default.svc.cluster.local")).ReturnCode);
        Assert.Equal(0, _upstreamQueries); // names in the cluster zone never leave the node
    }

    [Fact]
    public async Task A_headless_service_lists_its_ready_endpoints_and_names_each_by_hostname_or_dashed_ip()
    {
        Assert.Equal(["10.1.0.5", "10.1.0.6"], Addresses(await Ask("nginx.default.svc.cluster.local")).Order());
        Assert.Equal(["10.1.0.5"], Addresses(await Ask("web-0.nginx.default.svc.cluster.local")));
        Assert.Equal(["10.1.0.6"], Addresses(await Ask("10-1-0-6.nginx.default.svc.cluster.local")));
        Assert.Equal(ReturnCode.NxDomain, (await Ask("web-2.nginx.default.svc.cluster.local")).ReturnCode); // not ready
        Assert.Equal(ReturnCode.NxDomain, (await Ask("web-0.redis-master.default.svc.cluster.local")).ReturnCode); // not headless
        Assert.Equal(0, _upstreamQueries);
    }

    [Fact]
    public async Task Other_names_are_forwarded_to_the_resolv_conf_upstream()
    {
        Assert.Equal(["127.0.0.99"], Addresses(await Ask("upstream.example")));
        Assert.Equal(ReturnCode.NxDomain, (await Ask("missing.example")).ReturnCode);
        Assert.Equal(2, _upstreamQueries);
    }

    [Fact]
    public void Resolv_conf_gives_the_nameservers_in_order()
    {
        Assert.Equal([_upstreamAddress], ResolvConf.Nameservers(_resolvConf));
        Assert.Empty(ResolvConf.Nameservers("/nonexistent/resolv.conf"));
    }
}
