using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using k8s.Models;
using Orchestrator.Master.Controllers;
using Orchestrator.Master.Controllers.Certificates;
using Orchestrator.Master.Tests.Registry.Kinds;
using Xunit;

namespace Orchestrator.Master.Tests.Controllers.Certificates;

public class KubernetesSignersTests
{
    private static readonly X509Certificate2 Ca = CreateCa();
    private static readonly CertificateSigningSettings Settings = new(Ca, CertificateSigningSettings.DefaultDuration);

    private static X509Certificate2 CreateCa()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=test-ca", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddYears(5));
    }

    private static X509Certificate2 Issued(SigningOutcome? outcome) =>
        X509Certificate2.CreateFromPem(Encoding.ASCII.GetString(Assert.IsType<SigningOutcome.Issued>(outcome).Certificate));

    [Fact]
    public void The_client_signer_issues_the_requested_subject_for_client_auth_chained_to_the_ca()
    {
        var now = DateTime.UtcNow;
        var certificate = Issued(KubernetesSigners.Sign(CertificateSigningRequestStrategyTests.Csr(), Settings, now));

        Assert.Equal("CN=jane, O=devs", certificate.Subject);
        Assert.Equal(Ca.Subject, certificate.Issuer);
        Assert.Equal(["1.3.6.1.5.5.7.3.2"], certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().Single()
            .EnhancedKeyUsages.Cast<System.Security.Cryptography.Oid>().Select(o => o.Value));
        Assert.False(certificate.Extensions.OfType<X509BasicConstraintsExtension>().Single().CertificateAuthority);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(Ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        Assert.True(chain.Build(certificate));
        // a year, backdated five minutes at both ends
        Assert.Equal(now.AddMinutes(-5), certificate.NotBefore.ToUniversalTime(), TimeSpan.FromSeconds(2));
        Assert.Equal(now.AddDays(365).AddMinutes(-5), certificate.NotAfter.ToUniversalTime(), TimeSpan.FromSeconds(2));
    }

    [Fact]
    public void An_rsa_request_is_signed_by_the_ecdsa_ca()
    {
        using var key = RSA.Create(2048);
        var pem = Encoding.ASCII.GetBytes(new CertificateRequest("CN=rsa-user", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            .CreateSigningRequestPem());

        var certificate = Issued(KubernetesSigners.Sign(CertificateSigningRequestStrategyTests.Csr(request: pem), Settings, DateTime.UtcNow));

        Assert.Equal("CN=rsa-user", certificate.Subject);
        Assert.NotNull(certificate.GetRSAPublicKey());
    }

    [Fact]
    public void The_duration_is_the_shorter_of_the_request_and_the_signing_duration()
    {
        var now = DateTime.UtcNow;
        var csr = CertificateSigningRequestStrategyTests.Csr();
        csr.Spec.ExpirationSeconds = 3600;
        Assert.Equal(now.AddHours(1), Issued(KubernetesSigners.Sign(csr, Settings, now)).NotAfter.ToUniversalTime(), TimeSpan.FromSeconds(2));

        csr.Spec.ExpirationSeconds = 10 * 365 * 86400;
        Assert.Equal(now.AddDays(30).AddMinutes(-5),
            Issued(KubernetesSigners.Sign(csr, Settings with { Duration = TimeSpan.FromDays(30) }, now)).NotAfter.ToUniversalTime(),
            TimeSpan.FromSeconds(2));
    }

    [Theory]
    [InlineData("server auth", "invalid usage for client certificate: server auth")]
    [InlineData("digital signature", "missing required usage for client certificate: client auth")]
    public void The_client_signer_refuses_usages_a_client_certificate_may_not_have(string usage, string message)
    {
        var csr = CertificateSigningRequestStrategyTests.Csr(usages: [usage]);

        Assert.Equal(message, Assert.IsType<SigningOutcome.Refused>(KubernetesSigners.Sign(csr, Settings, DateTime.UtcNow)).Message);
    }

    [Fact]
    public void The_kubelet_client_signer_wants_a_node_name_in_system_nodes_without_alternative_names()
    {
        string? Problem(string subject, Action<CertificateRequest>? configure = null)
        {
            var csr = CertificateSigningRequestStrategyTests.Csr(signer: KubernetesSigners.KubeApiServerClientKubelet,
                usages: ["digital signature", "client auth"], request: CertificateSigningRequestStrategyTests.RequestPem(subject, configure));
            return (KubernetesSigners.Sign(csr, Settings, DateTime.UtcNow) as SigningOutcome.Refused)?.Message;
        }

        Assert.Null(Problem("CN=system:node:n1, O=system:nodes"));
        Assert.Equal("subject organization is not system:nodes", Problem("CN=system:node:n1, O=devs"));
        Assert.Equal("subject common name does not begin with system:node:", Problem("CN=n1, O=system:nodes"));
        Assert.Equal("DNS subjectAltNames are not allowed", Problem("CN=system:node:n1, O=system:nodes", r =>
        {
            var names = new SubjectAlternativeNameBuilder();
            names.AddDnsName("n1.example");
            r.CertificateExtensions.Add(names.Build());
        }));
    }

    [Fact]
    public void Other_signers_are_not_ours()
    {
        Assert.Null(KubernetesSigners.Sign(CertificateSigningRequestStrategyTests.Csr(signer: "example.com/signer"), Settings, DateTime.UtcNow));
    }

    [Fact]
    public void Only_approved_requests_without_a_denial_failure_or_certificate_await_one()
    {
        V1CertificateSigningRequest With(params string[] types)
        {
            var csr = CertificateSigningRequestStrategyTests.Csr();
            csr.Status = new V1CertificateSigningRequestStatus { Conditions = types.Select(t => new V1CertificateSigningRequestCondition { Type = t, Status = "True" }).ToList() };
            return csr;
        }

        Assert.True(CertificateSigningController.AwaitsCertificate(With("Approved")));
        Assert.False(CertificateSigningController.AwaitsCertificate(With()));
        Assert.False(CertificateSigningController.AwaitsCertificate(With("Approved", "Failed")));
        Assert.False(CertificateSigningController.AwaitsCertificate(With("Denied")));
        var issued = With("Approved");
        issued.Status.Certificate = [1];
        Assert.False(CertificateSigningController.AwaitsCertificate(issued));
    }

    [Fact]
    public void The_cleaner_deletes_decided_requests_after_an_hour_and_pending_ones_after_a_day()
    {
        var created = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        var pending = CertificateSigningRequestStrategyTests.Csr();
        pending.Metadata.CreationTimestamp = created;
        Assert.Equal(created.AddHours(24), CertificateSigningRequestCleaner.DeadlineOf(pending));

        var denied = CertificateSigningRequestStrategyTests.Csr();
        denied.Metadata.CreationTimestamp = created;
        denied.Status = new V1CertificateSigningRequestStatus
        {
            Conditions = [new V1CertificateSigningRequestCondition { Type = "Denied", Status = "True", LastUpdateTime = created.AddMinutes(10) }],
        };
        Assert.Equal(created.AddMinutes(70), CertificateSigningRequestCleaner.DeadlineOf(denied));

        var expired = CertificateSigningRequestStrategyTests.Csr();
        expired.Metadata.CreationTimestamp = DateTime.UtcNow;
        expired.Status = new V1CertificateSigningRequestStatus
        {
            Conditions = [new V1CertificateSigningRequestCondition { Type = "Approved", Status = "True", LastUpdateTime = DateTime.UtcNow }],
            Certificate = Encoding.ASCII.GetBytes(Ca.ExportCertificatePem()),
        };
        Assert.Equal(DateTime.UtcNow.AddHours(1), CertificateSigningRequestCleaner.DeadlineOf(expired), TimeSpan.FromSeconds(5));
    }
}
