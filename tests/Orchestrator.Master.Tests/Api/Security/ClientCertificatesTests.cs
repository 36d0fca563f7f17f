using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Orchestrator.Master.Api.Security;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Security;

/// <summary>The x509 authenticator's answer for a connection's certificate is kept per certificate object and by its
/// bytes (a new connection of the same client), and a kept answer is the one the chain would give: not past the
/// chain's validity, not for another CA, not for other bytes.</summary>
public sealed class ClientCertificatesTests
{
    private static readonly DateTime Now = DateTime.UtcNow;

    private static X509Certificate2 Ca(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        return request.CreateSelfSigned(Now.AddDays(-1), Now.AddYears(1));
    }

    private static X509Certificate2 Client(X509Certificate2 ca, DateTime notAfter)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=alice, O=dev", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        return request.Create(ca, Now.AddHours(-1), notAfter, [1, 2, 3, 4]);
    }

    [Fact]
    public void An_accepted_certificate_is_the_same_user_again_and_refused_once_its_chain_has_expired()
    {
        using var ca = Ca("cluster-ca");
        using var client = Client(ca, Now.AddDays(1));
        var first = ClientCertificates.UserOfConnection(client, ca, Now);
        Assert.NotNull(first);
        Assert.Equal("alice", first!.Name);
        Assert.Contains("dev", first.Groups);
        Assert.Same(first, ClientCertificates.UserOfConnection(client, ca, Now.AddHours(1)));
        Assert.Null(ClientCertificates.UserOfConnection(client, ca, Now.AddDays(2)));
        Assert.Null(ClientCertificates.UserOf(client, ca, Now.AddDays(2)));
    }

    [Fact]
    public void An_accepted_certificate_is_not_accepted_against_another_CA()
    {
        using var ca = Ca("cluster-ca");
        using var other = Ca("other-ca");
        using var client = Client(ca, Now.AddDays(1));
        Assert.NotNull(ClientCertificates.UserOfConnection(client, ca, Now));
        Assert.Null(ClientCertificates.UserOfConnection(client, other, Now));
    }

    [Fact]
    public void A_certificate_of_another_CA_is_refused_every_time()
    {
        using var ca = Ca("cluster-ca");
        using var other = Ca("other-ca");
        using var client = Client(other, Now.AddDays(1));
        Assert.Null(ClientCertificates.UserOfConnection(client, ca, Now));
        Assert.Null(ClientCertificates.UserOfConnection(client, ca, Now));
    }

    [Fact]
    public void The_same_certificate_on_a_new_connection_is_the_kept_user_while_its_chain_is_valid()
    {
        using var ca = Ca("cluster-ca");
        using var other = Ca("other-ca");
        using var client = Client(ca, Now.AddDays(1));
        var first = ClientCertificates.UserOfConnection(client, ca, Now);
        Assert.NotNull(first);
        using var again = X509CertificateLoader.LoadCertificate(client.RawData); // another connection's object, same bytes
        Assert.Same(first, ClientCertificates.UserOfConnection(again, ca, Now.AddHours(1)));
        using var later = X509CertificateLoader.LoadCertificate(client.RawData);
        Assert.Null(ClientCertificates.UserOfConnection(later, ca, Now.AddDays(2)));
        using var elsewhere = X509CertificateLoader.LoadCertificate(client.RawData);
        Assert.Null(ClientCertificates.UserOfConnection(elsewhere, other, Now));

        // another certificate of the same subject is its own chain's answer, not the kept one
        using var renewed = Client(ca, Now.AddDays(3));
        var user = ClientCertificates.UserOfConnection(renewed, ca, Now);
        Assert.NotNull(user);
        Assert.NotSame(first, user);
    }
}
