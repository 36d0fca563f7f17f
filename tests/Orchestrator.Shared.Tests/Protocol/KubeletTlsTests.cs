using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Orchestrator.Shared.Protocol;
using Xunit;

namespace Orchestrator.Shared.Tests.Protocol;

/// <summary>The kubelet link's certificates: what the master issues a node, and what each end accepts.</summary>
public sealed class KubeletTlsTests : IDisposable
{
    private readonly KubeletCertificateAuthority _ca = new(KubeletCertificateAuthority.CreateCertificate());
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public void Dispose() => _key.Dispose();

    private X509Certificate2 Serving(string node, string address, KubeletCertificateAuthority? ca = null) =>
        KubeletTls.WithKey((ca ?? _ca).IssueServing(KubeletTls.SigningRequest(_key, node, IPAddress.Parse(address)), node, IPAddress.Parse(address)), _key)!;

    [Fact]
    public void A_serving_certificate_is_accepted_only_for_its_node_and_address_from_the_kubelet_ca()
    {
        using var serving = Serving("node-a", "10.0.0.11");

        Assert.Equal("CN=system:node:node-a, O=system:nodes", serving.Subject);
        Assert.Null(KubeletTls.CheckServing(serving, _ca.Certificate, "node-a", "10.0.0.11"));
        Assert.Contains("not \"system:node:node-b\"", KubeletTls.CheckServing(serving, _ca.Certificate, "node-b", "10.0.0.11"));
        Assert.Contains("not valid for 10.0.0.12", KubeletTls.CheckServing(serving, _ca.Certificate, "node-a", "10.0.0.12"));
        var other = new KubeletCertificateAuthority(KubeletCertificateAuthority.CreateCertificate());
        Assert.Contains("kubelet CA", KubeletTls.CheckServing(serving, other.Certificate, "node-a", "10.0.0.11"));
        Assert.Equal("no certificate presented", KubeletTls.CheckServing(null, _ca.Certificate, "node-a", "10.0.0.11"));
    }

    [Fact]
    public void The_masters_client_certificate_is_no_serving_certificate_and_a_serving_certificate_no_client()
    {
        var client = _ca.ClientCertificate();
        using var serving = Serving("node-a", "10.0.0.11");

        Assert.Null(KubeletTls.CheckMasterClient(client, _ca.Certificate));
        Assert.NotNull(KubeletTls.CheckMasterClient(serving, _ca.Certificate)); // serverAuth only
        Assert.NotNull(KubeletTls.CheckServing(client, _ca.Certificate, "node-a", "10.0.0.11")); // clientAuth only
        var other = new KubeletCertificateAuthority(KubeletCertificateAuthority.CreateCertificate());
        Assert.NotNull(KubeletTls.CheckMasterClient(other.ClientCertificate(), _ca.Certificate));
        Assert.Same(client, _ca.ClientCertificate()); // made once, reused until near its end
    }

    [Fact]
    public void A_certificate_joins_only_the_key_it_was_issued_for()
    {
        using var otherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var pem = _ca.IssueServing(KubeletTls.SigningRequest(_key, "node-a", IPAddress.Loopback), "node-a", IPAddress.Loopback);

        Assert.Null(KubeletTls.WithKey(pem, otherKey));
        using var joined = KubeletTls.WithKey(pem, _key);
        Assert.True(joined!.HasPrivateKey);
    }
}
