using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Orchestrator.Master.Api.Security;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Security;

/// <summary>The API's TLS handshake as a client sees it.</summary>
public sealed class ApiTlsTests
{
    [Fact]
    public async Task The_certificate_request_names_the_cluster_CA_as_the_acceptable_issuer()
    {
        await using var server = await ApiTestServer.StartAsync(https: true);
        using var ca = ServingCertificates.LoadCaCertificate(server.DataDirectory);
        string[]? offered = null;
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(server.Address!.Host, server.Address.Port);
        await using var tls = new SslStream(tcp.GetStream(), false, (_, _, _, _) => true, (_, _, _, _, issuers) =>
        {
            offered = issuers;
            return null!; // no certificate: the handshake goes on, the request is then the bearer token's
        });
        await tls.AuthenticateAsClientAsync("127.0.0.1");

        Assert.NotNull(offered);
        Assert.Equal([ca.Subject], offered);
    }
}
