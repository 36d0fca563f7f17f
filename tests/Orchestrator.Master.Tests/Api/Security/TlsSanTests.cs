using System.Net;
using System.Security.Cryptography.X509Certificates;
using Orchestrator.Master.Api.Security;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Security;

/// <summary>--tls-san: the names clients dial through a load balancer are on the serving certificate.</summary>
public sealed class TlsSanTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "orch-san-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private static X509SubjectAlternativeNameExtension Names(X509Certificate2 certificate) =>
        certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();

    [Fact]
    public void Extra_names_and_addresses_are_on_the_certificate_beside_the_usual_ones()
    {
        using var certificate = ServingCertificates.LoadOrCreate(_dir, "10.0.0.1", ["10.0.0.100", "api.example.com"]);

        var names = Names(certificate);
        Assert.Contains(IPAddress.Parse("10.0.0.100"), names.EnumerateIPAddresses());
        Assert.Contains(IPAddress.Parse("10.0.0.1"), names.EnumerateIPAddresses());
        Assert.Contains(IPAddress.Loopback, names.EnumerateIPAddresses());
        Assert.Contains("api.example.com", names.EnumerateDnsNames());
        Assert.Contains("kubernetes.default.svc", names.EnumerateDnsNames());
    }

    [Fact]
    public void A_certificate_without_a_new_name_is_issued_again_and_one_with_all_is_kept()
    {
        using var first = ServingCertificates.LoadOrCreate(_dir, "10.0.0.1");
        using var again = ServingCertificates.LoadOrCreate(_dir, "10.0.0.1", []);
        Assert.Equal(first.Thumbprint, again.Thumbprint);

        using var reissued = ServingCertificates.LoadOrCreate(_dir, "10.0.0.1", ["10.0.0.100"]);
        Assert.NotEqual(first.Thumbprint, reissued.Thumbprint);
        Assert.Contains(IPAddress.Parse("10.0.0.100"), Names(reissued).EnumerateIPAddresses());
    }

    [Theory]
    [InlineData("10.0.0.100,api.example.com", null)]
    [InlineData("::1", null)]
    [InlineData("bad name!", "\"bad name!\" is neither an IP address nor a DNS name")]
    public void Each_entry_must_be_an_address_or_a_dns_name(string value, string? problem) =>
        Assert.Equal(problem, ServingCertificates.SubjectAlternativeNamesProblem(value));
}
