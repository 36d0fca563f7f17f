using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Orchestrator.Node.Agent;
using Orchestrator.Node.Services;
using Orchestrator.Node.Tests.Runtime;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Node.Tests.Agent;

/// <summary>The node proves system:node:NAME at each registration and keeps the certificate the master bootstraps.</summary>
public sealed class NodeClientIdentityTests : TestKit, IDisposable
{
    private readonly FakeRuntime _runtime = new();
    private readonly TestProbe _gateway;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "node-identity-" + Guid.NewGuid().ToString("N"));
    private readonly NodeClientCertificateAuthority _ca = new(KubeletCertificateAuthority.CreateCertificate());

    public NodeClientIdentityTests() : base("akka.loglevel = INFO") => _gateway = CreateTestProbe("node-gateway");

    private NodeAgentSettings Settings() => new(
        "node-a", "127.0.0.1", _gateway.Ref.Path.ToString(), UseCluster: false,
        RegisterInterval: TimeSpan.FromMilliseconds(200),
        HeartbeatInterval: TimeSpan.FromSeconds(30),
        OrphanSweepInterval: TimeSpan.FromSeconds(30),
        RuntimeRetryInterval: TimeSpan.FromMilliseconds(100),
        MasterLostTimeout: TimeSpan.FromSeconds(30),
        Pods: new PodSupervisorSettings("node-a", "127.0.0.1", TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)));

    private static string? Proof(NodeCredential credential, string sender)
    {
        using var key = CertificateRequest.LoadSigningRequestPem(credential.SigningRequest, System.Security.Cryptography.HashAlgorithmName.SHA256).PublicKey.GetECDsaPublicKey()!;
        return NodeCredentials.CheckProof(credential, key, "node-a", sender, DateTime.UtcNow);
    }

    [Fact]
    public void A_new_node_registers_with_a_signed_request_and_then_with_the_certificate_the_master_issued()
    {
        using var identity = new NodeClientIdentity("node-a", _directory);
        var agent = Sys.ActorOf(NodeAgent.Props(Settings(), _runtime, new ServiceDirectory(), credentials: identity));

        var first = _gateway.ExpectMsg<RegisterNode>().Credential!;
        Assert.Null(first.Certificate);
        Assert.Null(Proof(first, _gateway.LastSender.Path.ToString())); // signed for the agent the master sees
        Assert.NotNull(Proof(first, "akka://other/user/node-agent"));

        var issued = _ca.Issue(first.SigningRequest, "node-a");
        agent.Tell(new NodeRegistered("node-a", NodeCertificate: issued), _gateway.Ref);
        AwaitCondition(() => identity.HasCertificate);
        Assert.Equal(issued, File.ReadAllText(Path.Combine(_directory, NodeClientIdentity.CertificateFile("node-a"))));

        // the gateway forgot the agent (a master restart): it registers again, now with its certificate
        agent.Tell(new NodeRegistrationRefused("node-a", "the node is not registered from this agent"), _gateway.Ref);
        var again = _gateway.FishForMessage<RegisterNode>(_ => true).Credential!;
        Assert.Equal(issued, again.Certificate);
        using var certificate = X509Certificate2.CreateFromPem(again.Certificate!);
        Assert.Null(NodeCredentials.CheckCertificate(certificate, _ca.Certificate, "node-a", DateTime.UtcNow));
    }

    [Fact]
    public void A_refused_registration_is_logged_as_one_error_line_and_retried()
    {
        using var identity = new NodeClientIdentity("node-a", null);
        var agent = Sys.ActorOf(NodeAgent.Props(Settings(), _runtime, new ServiceDirectory(), credentials: identity));
        _gateway.ExpectMsg<RegisterNode>();

        EventFilter.Error(contains: "the master refused to register it as system:node:node-a: no credential presented").ExpectOne(() =>
            agent.Tell(new NodeRegistrationRefused("node-a", "no credential presented"), _gateway.Ref));
        _gateway.ExpectMsg<RegisterNode>(TimeSpan.FromSeconds(2));
    }

    [Fact]
    public void A_restarted_node_keeps_its_key_and_certificate()
    {
        string issued;
        string request;
        using (var first = new NodeClientIdentity("node-a", _directory))
        {
            request = first.Credential("a", DateTime.UtcNow).SigningRequest;
            issued = _ca.Issue(request, "node-a");
            Assert.Null(first.Accept(issued));
        }
        using var second = new NodeClientIdentity("node-a", _directory);
        var credential = second.Credential("a", DateTime.UtcNow);
        Assert.Equal(issued, credential.Certificate);
        // the same key: its request names the key the certificate is for
        using var key = CertificateRequest.LoadSigningRequestPem(credential.SigningRequest, System.Security.Cryptography.HashAlgorithmName.SHA256)
            .PublicKey.GetECDsaPublicKey()!;
        using var certificate = X509Certificate2.CreateFromPem(issued);
        Assert.True(NodeCredentials.IsFor(certificate, key));
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_directory, NodeClientIdentity.KeyFile("node-a"))));
    }

    [Fact]
    public void A_certificate_for_another_key_is_not_taken()
    {
        using var identity = new NodeClientIdentity("node-a", null);
        using var other = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var foreign = _ca.Issue(NodeCredentials.SigningRequest(other, "node-a"), "node-a");

        Assert.Equal("the certificate is not for this node's key", identity.Accept(foreign));
        Assert.False(identity.HasCertificate);
    }

    void IDisposable.Dispose()
    {
        if (Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
        base.Dispose();
    }
}
