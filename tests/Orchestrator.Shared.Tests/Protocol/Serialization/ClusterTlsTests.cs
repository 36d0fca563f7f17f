using System.Threading.Channels;
using Akka.Actor;
using Akka.Cluster;
using Orchestrator.Shared.Protocol;
using Orchestrator.Shared.Protocol.Serialization;
using Xunit;
using static Orchestrator.Shared.Tests.Protocol.Serialization.ClusterTestSystems;

namespace Orchestrator.Shared.Tests.Protocol.Serialization;

/// <summary>Only an actor system holding the cluster certificate joins the master's cluster or reaches its actors.</summary>
public sealed class ClusterTlsTests : IAsyncLifetime
{
    private const string MasterHost = "127.0.0.21";
    private const string OtherHost = "127.0.0.22";
    private static readonly TimeSpan Quiet = TimeSpan.FromSeconds(8);
    private readonly string _directory = Directory.CreateTempSubdirectory("cluster-tls-").FullName;
    private readonly Channel<object> _received = Channel.CreateUnbounded<object>();
    private readonly List<ActorSystem> _systems = [];
    private string _clusterPfx = null!;
    private string _masterAddress = null!;
    private ActorSystem _master = null!;

    public Task InitializeAsync()
    {
        _clusterPfx = WriteCertificate(_directory, "cluster.pfx");
        var port = FreePort(System.Net.IPAddress.Parse(MasterHost));
        _masterAddress = $"{MasterHost}:{port}";
        _master = Track(Start(MasterHost, port, NodeProtocolNames.MasterRole, _masterAddress, ClusterTls.Load(_clusterPfx), ClusterMembership.Hocon));
        _master.ActorOf(Props.Create(() => new Recorder(_received.Writer)), NodeProtocolNames.GatewayActorName);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await Task.WhenAll(_systems.Select(s => s.Terminate().WaitAsync(TimeSpan.FromSeconds(20))));
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task A_node_with_the_cluster_certificate_joins_and_reaches_the_master()
    {
        var node = Track(Start(OtherHost, 0, NodeProtocolNames.NodeRole, _masterAddress, ClusterTls.Load(_clusterPfx), ClusterMembership.Hocon));

        Assert.True(await Eventually(() => NodeMembers(_master).Any(m => m.Status == MemberStatus.Up), TimeSpan.FromSeconds(30)),
            "the node did not become an Up member of the master's cluster");
        node.ActorSelection($"{ClusterTls.Address(_masterAddress)}/user/{NodeProtocolNames.GatewayActorName}").Tell("hello");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        Assert.Equal("hello", await _received.Reader.ReadAsync(timeout.Token));
    }

    [Fact]
    public async Task A_node_with_another_certificate_neither_joins_nor_reaches_the_master()
    {
        // same subject name, different key: only the pinned thumbprint tells them apart
        var otherPfx = WriteCertificate(_directory, "other.pfx");
        var outsider = Track(Start(OtherHost, 0, NodeProtocolNames.NodeRole, _masterAddress, ClusterTls.Load(otherPfx), ClusterMembership.Hocon,
            trustAnyPeer: true));
        outsider.ActorSelection($"{ClusterTls.Address(_masterAddress)}/user/{NodeProtocolNames.GatewayActorName}").Tell("let me in");

        await AssertNothingArrives();
        Assert.Empty(NodeMembers(_master));
        Assert.DoesNotContain(Cluster.Get(outsider).State.Members, m => m.Status == MemberStatus.Up);
    }

    [Fact]
    public async Task A_plain_tcp_system_does_not_reach_the_master()
    {
        var outsider = Track(Start(OtherHost, 0, NodeProtocolNames.NodeRole, _masterAddress, certificate: null, ClusterMembership.Hocon));
        outsider.ActorSelection($"akka.tcp://{NodeProtocolNames.ActorSystemName}@{_masterAddress}/user/{NodeProtocolNames.GatewayActorName}")
            .Tell("let me in");

        await AssertNothingArrives();
        Assert.Empty(NodeMembers(_master));
    }

    [Fact]
    public void A_missing_or_keyless_certificate_file_is_one_readable_error()
    {
        var missing = Assert.Throws<ClusterCertificateException>(() => ClusterTls.Load(Path.Combine(_directory, "absent.pfx")));
        Assert.Contains("does not exist", missing.Message);

        var garbage = Path.Combine(_directory, "garbage.pfx");
        File.WriteAllText(garbage, "not a certificate");
        Assert.Contains("cannot be read", Assert.Throws<ClusterCertificateException>(() => ClusterTls.Load(garbage)).Message);

        var publicOnly = Path.Combine(_directory, "public.pfx");
        using (var withKey = ClusterTls.Load(_clusterPfx))
            File.WriteAllBytes(publicOnly, System.Security.Cryptography.X509Certificates.X509CertificateLoader
                .LoadCertificate(withKey.RawData).Export(System.Security.Cryptography.X509Certificates.X509ContentType.Pkcs12));
        Assert.Contains("no private key", Assert.Throws<ClusterCertificateException>(() => ClusterTls.Load(publicOnly)).Message);
    }

    private async Task AssertNothingArrives()
    {
        using var quiet = new CancellationTokenSource(Quiet);
        try
        {
            var message = await _received.Reader.ReadAsync(quiet.Token);
            Assert.Fail($"the master's actor received '{message}' from a system without the cluster certificate");
        }
        catch (OperationCanceledException) { }
    }

    private static IReadOnlyList<Member> NodeMembers(ActorSystem system) =>
        Cluster.Get(system).State.Members.Where(m => m.HasRole(NodeProtocolNames.NodeRole)).ToList();

    private ActorSystem Track(ActorSystem system)
    {
        _systems.Add(system);
        return system;
    }
}
