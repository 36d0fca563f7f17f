using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Akka.Actor.Setup;
using Akka.Remote.Hosting;
using Akka.Remote.Transport.DotNetty;

namespace Orchestrator.Shared.Protocol.Serialization;

/// <summary>
/// Mutually authenticated TLS for the cluster transport (Akka.Remote over DotNetty). Master and nodes hold the same
/// cluster certificate (the master makes it at first start, <c>{data-dir}/cluster.pfx</c>; nodes get it with
/// <c>--cluster-cert</c>). Every connection presents it in both directions and each end accepts only a peer whose
/// certificate has exactly its thumbprint: an actor system without that certificate's private key can neither join
/// nor deliver a message. Chain and host name are not checked: the certificate is self-signed and pinned, and nodes
/// are addressed by IP.
/// </summary>
public static class ClusterTls
{
    /// <summary>The Akka address scheme of a TLS transport; every cluster address (seed nodes, actor paths) uses it.</summary>
    public const string Scheme = "akka.ssl.tcp";

    /// <summary>The address of the actor system at <paramref name="hostAndPort"/> ("127.0.0.1:4050").</summary>
    public static string Address(string hostAndPort) => $"{Scheme}://{NodeProtocolNames.ActorSystemName}@{hostAndPort}";

    /// <summary>Loads the cluster certificate (PKCS#12 with its private key, no password). Failures are one readable line.</summary>
    public static X509Certificate2 Load(string pfxPath)
    {
        if (!File.Exists(pfxPath)) throw new ClusterCertificateException($"cluster certificate '{pfxPath}' does not exist");
        X509Certificate2 certificate;
        try
        {
            certificate = X509CertificateLoader.LoadPkcs12FromFile(pfxPath, null, X509KeyStorageFlags.Exportable);
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new ClusterCertificateException($"cluster certificate '{pfxPath}' cannot be read: {e.Message.Trim()}");
        }
        if (!certificate.HasPrivateKey)
            throw new ClusterCertificateException($"cluster certificate '{pfxPath}' has no private key (a PKCS#12 file with its key is needed)");
        return certificate;
    }

    /// <summary>Accepts a peer only if it presents the pinned certificate itself (same thumbprint).</summary>
    public static CertificateValidationCallback PinnedTo(X509Certificate2 certificate) =>
        CertificateValidation.PinnedCertificate(certificate.Thumbprint);

    /// <summary>Remoting for Akka.Hosting: TLS on <paramref name="host"/>:<paramref name="port"/> with the cluster certificate.</summary>
    public static RemoteOptions Remoting(string host, int port, X509Certificate2 certificate) => new()
    {
        HostName = host,
        Port = port,
        EnableSsl = true,
        Ssl = new SslOptions
        {
            X509Certificate = certificate,
            SuppressValidation = false,
            RequireMutualAuthentication = true,
            ValidateCertificateHostname = false,
            CustomValidator = PinnedTo(certificate),
        },
    };

    /// <summary>The same for an actor system made without Akka.Hosting: add it to the <c>ActorSystemSetup</c> and
    /// <see cref="Hocon"/> to its configuration.</summary>
    public static Setup Setup(X509Certificate2 certificate) =>
        new DotNettySslSetup(certificate, suppressValidation: false, requireMutualAuthentication: true,
            validateCertificateHostname: false, customValidator: PinnedTo(certificate));

    /// <summary>Switches the DotNetty transport to TLS (the certificate comes from <see cref="Setup"/>).</summary>
    public const string Hocon = "akka.remote.dot-netty.tcp.enable-ssl = true";
}

/// <summary>The cluster certificate is missing, unreadable or without its private key.</summary>
public sealed class ClusterCertificateException(string message) : Exception(message);
