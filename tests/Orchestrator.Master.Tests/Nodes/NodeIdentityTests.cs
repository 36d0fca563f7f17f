using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using Akka.TestKit;
using k8s.Models;
using Orchestrator.Master.Nodes;
using Orchestrator.Master.Tests.Controllers.Support;
using Orchestrator.Shared.Protocol;
using Xunit;
using Xunit.Abstractions;

namespace Orchestrator.Master.Tests.Nodes;

/// <summary>Nodes authenticate as system:node:NAME when they register (the gateway's side of <see cref="NodeCredentials"/>).</summary>
public sealed class NodeIdentityTests(ITestOutputHelper output) : ControllerTestKit(output)
{
    private static readonly X509Certificate2 CaCertificate = KubeletCertificateAuthority.CreateCertificate();
    private readonly NodeClientCertificateAuthority _ca = new(CaCertificate);
    private static readonly X509Certificate2 KubeletCaCertificate = KubeletCertificateAuthority.CreateCertificate();
    private readonly KubeletCertificateAuthority _kubeletCa = new(KubeletCaCertificate);

    private static V1Node Reported(string name) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Status = new V1NodeStatus
        {
            Conditions = [new V1NodeCondition { Type = "Ready", Status = "True", Reason = "KubeletReady" }],
            Addresses = [new V1NodeAddress { Type = "InternalIP", Address = "127.0.0.1" }],
        },
    };

    private IActorRef Gateway() =>
        Sys.ActorOf(NodeGateway.Props(Store, NodeGatewaySettings.Default with { NodeClientCa = _ca, KubeletCa = _kubeletCa, RequireNodeCredentials = true }));

    /// <summary>A Node whose name already has a certificate: registering as it needs that certificate.</summary>
    private void Claimed(string name) => Seed(new V1Node
    {
        ApiVersion = "v1", Kind = "Node",
        Metadata = new V1ObjectMeta { Name = name, Annotations = new Dictionary<string, string> { [NodeIdentityCheck.CertificateIssuedAnnotation] = "2026-01-01T00:00:00Z" } },
    });

    private static ECDsa NewKey() => ECDsa.Create(ECCurve.NamedCurves.nistP256);

    private static RegisterNode Register(string name, ECDsa key, TestProbe agent, string? certificate, DateTime? at = null) =>
        new(Reported(name), null, NodeCredentials.Sign(key, name, agent.Ref.Path.ToString(), at ?? DateTime.UtcNow, certificate,
            NodeCredentials.SigningRequest(key, name)));

    /// <summary>The registration's answer carries a certificate of the cluster CA for <paramref name="key"/> and the name.</summary>
    private void AssertIssuedFor(NodeRegistered registered, ECDsa key, string name)
    {
        using var issued = X509Certificate2.CreateFromPem(registered.NodeCertificate!);
        Assert.True(NodeCredentials.IsFor(issued, key));
        Assert.Null(NodeCredentials.CheckCertificate(issued, _ca.Certificate, name, DateTime.UtcNow));
    }

    private static string Certificate(X509Certificate2 ca, ECDsa key, string name, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        var request = new CertificateRequest($"CN=system:node:{name}, O=system:nodes", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        using var issued = request.Create(ca, notBefore, notAfter, RandomNumberGenerator.GetBytes(8));
        return issued.ExportCertificatePem();
    }

    [Fact]
    public void A_node_whose_name_has_no_certificate_is_given_one_for_its_key_and_its_name_is_claimed()
    {
        var gateway = Gateway();
        var agent = CreateTestProbe("agent");
        using var key = NewKey();

        gateway.Tell(Register("node1", key, agent, certificate: null), agent.Ref);

        var registered = agent.ExpectMsg<NodeRegistered>();
        using var issued = X509Certificate2.CreateFromPem(registered.NodeCertificate!);
        Assert.True(NodeCredentials.IsFor(issued, key));
        Assert.Null(NodeCredentials.CheckCertificate(issued, _ca.Certificate, "node1", DateTime.UtcNow));
        Assert.Equal("CN=system:node:node1, O=system:nodes", issued.Subject);
        AwaitAssert(() => Assert.True(Find<V1Node>("node1")?.Metadata.Annotations?.ContainsKey(NodeIdentityCheck.CertificateIssuedAnnotation)));
    }

    [Fact]
    public void The_nodes_own_certificate_is_accepted()
    {
        Claimed("node1");
        var gateway = Gateway();
        var agent = CreateTestProbe("agent");
        using var key = NewKey();
        var certificate = _ca.Issue(NodeCredentials.SigningRequest(key, "node1"), "node1");

        gateway.Tell(Register("node1", key, agent, certificate), agent.Ref);

        var registered = agent.ExpectMsg<NodeRegistered>();
        Assert.Equal("node1", registered.NodeName);
        Assert.Null(registered.NodeCertificate); // far from expiry: it keeps the one it has
    }

    [Fact]
    public void A_certificate_the_kubelet_CA_signed_before_is_accepted_and_replaced_by_one_of_the_cluster_CA()
    {
        Claimed("node1");
        var gateway = Gateway();
        var agent = CreateTestProbe("agent");
        using var key = NewKey();
        var former = new NodeClientCertificateAuthority(KubeletCaCertificate).Issue(NodeCredentials.SigningRequest(key, "node1"), "node1");

        gateway.Tell(Register("node1", key, agent, former), agent.Ref);

        AssertIssuedFor(agent.ExpectMsg<NodeRegistered>(), key, "node1");
    }

    [Fact]
    public void The_kubelet_CAs_certificates_of_other_kinds_are_refused()
    {
        Claimed("node1");
        var gateway = Gateway();
        var agent = CreateTestProbe("agent");
        using var key = NewKey();
        // the node's serving certificate has its name too, but it is for serverAuth only
        var serving = _kubeletCa.IssueServing(KubeletTls.SigningRequest(key, "node1", System.Net.IPAddress.Loopback), "node1", System.Net.IPAddress.Loopback);

        gateway.Tell(Register("node1", key, agent, serving), agent.Ref);

        Assert.Contains("not valid for the cluster's CA", agent.ExpectMsg<NodeRegistrationRefused>().Reason);
    }

    [Fact]
    public void Another_nodes_certificate_is_refused()
    {
        Claimed("node1");
        var gateway = Gateway();
        var agent = CreateTestProbe("agent");
        using var key = NewKey();
        var node2 = _ca.Issue(NodeCredentials.SigningRequest(key, "node2"), "node2");

        gateway.Tell(Register("node1", key, agent, node2), agent.Ref);

        var refused = agent.ExpectMsg<NodeRegistrationRefused>();
        Assert.Equal("node1", refused.NodeName);
        Assert.Contains("the certificate is for \"system:node:node2\", not \"system:node:node1\"", refused.Reason);
        agent.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public void A_claimed_name_without_a_certificate_is_refused()
    {
        Claimed("node1");
        var gateway = Gateway();
        var agent = CreateTestProbe("agent");
        using var key = NewKey();

        gateway.Tell(Register("node1", key, agent, certificate: null), agent.Ref);

        Assert.Contains("registering as it needs that certificate: none presented", agent.ExpectMsg<NodeRegistrationRefused>().Reason);
    }

    [Fact]
    public void A_registration_without_any_credential_is_refused()
    {
        var gateway = Gateway();
        var agent = CreateTestProbe("agent");

        gateway.Tell(new RegisterNode(Reported("node1")), agent.Ref);

        Assert.StartsWith("no credential presented", agent.ExpectMsg<NodeRegistrationRefused>().Reason);
        AwaitAssert(() => Assert.Null(Find<V1Node>("node1")));
    }

    [Fact]
    public void An_expired_certificate_is_refused()
    {
        Claimed("node1");
        var gateway = Gateway();
        var agent = CreateTestProbe("agent");
        using var key = NewKey();
        var expired = Certificate(CaCertificate, key, "node1", DateTimeOffset.UtcNow.AddMinutes(-4), DateTimeOffset.UtcNow.AddMinutes(-1));

        gateway.Tell(Register("node1", key, agent, expired), agent.Ref);

        Assert.Contains("not valid for the cluster's CA", agent.ExpectMsg<NodeRegistrationRefused>().Reason);
    }

    [Fact]
    public void A_certificate_of_another_CA_is_refused()
    {
        Claimed("node1");
        var gateway = Gateway();
        var agent = CreateTestProbe("agent");
        using var key = NewKey();
        using var foreignCa = KubeletCertificateAuthority.CreateCertificate();
        var foreign = Certificate(foreignCa, key, "node1", DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddDays(30));

        gateway.Tell(Register("node1", key, agent, foreign), agent.Ref);

        Assert.Contains("not valid for the cluster's CA", agent.ExpectMsg<NodeRegistrationRefused>().Reason);
    }

    [Fact]
    public void A_proof_signed_for_another_agent_is_refused()
    {
        Claimed("node1");
        var gateway = Gateway();
        var node = CreateTestProbe("agent");
        var thief = CreateTestProbe("thief");
        using var key = NewKey();
        var certificate = _ca.Issue(NodeCredentials.SigningRequest(key, "node1"), "node1");
        var seen = Register("node1", key, node, certificate);

        gateway.Tell(seen, thief.Ref); // what the node sent, replayed by another member

        Assert.Contains("signed for agent", thief.ExpectMsg<NodeRegistrationRefused>().Reason);
    }

    [Fact]
    public void A_stale_proof_is_refused()
    {
        Claimed("node1");
        var gateway = Gateway();
        var agent = CreateTestProbe("agent");
        using var key = NewKey();
        var certificate = _ca.Issue(NodeCredentials.SigningRequest(key, "node1"), "node1");

        gateway.Tell(Register("node1", key, agent, certificate, DateTime.UtcNow.AddMinutes(-10)), agent.Ref);

        Assert.Contains("from the master's clock", agent.ExpectMsg<NodeRegistrationRefused>().Reason);
    }

    [Fact]
    public void A_second_agent_without_the_certificate_is_told_it_is_refused_while_the_node_runs()
    {
        var gateway = Gateway();
        var node = CreateTestProbe("agent");
        using var key = NewKey();
        gateway.Tell(Register("node1", key, node, certificate: null), node.Ref);
        node.ExpectMsg<NodeRegistered>();

        var impostor = CreateTestProbe("impostor");
        using var other = NewKey();
        gateway.Tell(Register("node1", other, impostor, certificate: null), impostor.Ref);

        Assert.Contains("node \"node1\" has a node certificate", impostor.ExpectMsg<NodeRegistrationRefused>().Reason);
    }

    [Fact]
    public void A_registration_repeated_before_the_certificate_arrived_is_answered_with_a_certificate_for_the_same_key()
    {
        var gateway = Gateway();
        var node = CreateTestProbe("agent");
        using var key = NewKey();

        // the node's first start: a second registration left before the answer to the first arrived, so it carries no
        // certificate either (sent after the first answer here: a gateway still syncing keeps only a node's newest one);
        // each answer is followed by the node's pod set, Services and policies, skipped
        gateway.Tell(Register("node1", key, node, certificate: null), node.Ref);
        var first = node.FishForMessage<NodeRegistered>(_ => true);
        gateway.Tell(Register("node1", key, node, certificate: null), node.Ref);
        var second = node.FishForMessage<NodeRegistered>(_ => true);

        AssertIssuedFor(first, key, "node1");
        AssertIssuedFor(second, key, "node1");
    }

    [Fact]
    public void After_its_certificate_was_issued_a_name_is_refused_to_another_key_of_the_same_agent()
    {
        var gateway = Gateway();
        var node = CreateTestProbe("agent");
        using var key = NewKey();
        gateway.Tell(Register("node1", key, node, certificate: null), node.Ref);
        node.ExpectMsg<NodeRegistered>();

        using var other = NewKey();
        gateway.Tell(Register("node1", other, node, certificate: null), node.Ref);

        Assert.Contains("node \"node1\" has a node certificate", node.FishForMessage<NodeRegistrationRefused>(_ => true).Reason);
    }

    [Fact]
    public void A_second_agent_with_the_certified_key_is_refused_while_the_first_holds_the_name()
    {
        var gateway = Gateway();
        var node = CreateTestProbe("agent");
        using var key = NewKey();
        gateway.Tell(Register("node1", key, node, certificate: null), node.Ref);
        node.ExpectMsg<NodeRegistered>();

        var second = CreateTestProbe("second");
        gateway.Tell(Register("node1", key, second, certificate: null), second.Ref);

        // a name held by a live agent is refused without an answer (the second retries until the first is gone): the
        // second agent's next registration, for a free name, is the first it hears back about
        using var key2 = NewKey();
        gateway.Tell(Register("node2", key2, second, certificate: null), second.Ref);
        Assert.Equal("node2", second.ExpectMsg<NodeRegistered>().NodeName);
    }

    [Fact]
    public void A_registration_without_a_signing_request_is_refused_and_the_gateway_goes_on()
    {
        var gateway = Gateway();
        var agent = CreateTestProbe("agent");
        using var key = NewKey();
        var register = Register("node1", key, agent, certificate: null);

        gateway.Tell(register with { Credential = register.Credential! with { SigningRequest = null! } }, agent.Ref);
        Assert.Contains("the signing request cannot be used", agent.ExpectMsg<NodeRegistrationRefused>().Reason);

        gateway.Tell(register, agent.Ref);
        AssertIssuedFor(agent.FishForMessage<NodeRegistered>(_ => true), key, "node1");
    }

    [Fact]
    public void A_heartbeat_from_an_agent_that_did_not_register_is_refused()
    {
        var gateway = Gateway();
        var agent = CreateTestProbe("agent");

        gateway.Tell(new NodeHeartbeat("node1", Reported("node1").Status), agent.Ref);

        Assert.Contains("must register", agent.ExpectMsg<NodeRegistrationRefused>().Reason);
        AwaitAssert(() => Assert.Null(Find<V1Node>("node1")));
    }
}
