using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Threading.Channels;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Configuration;
using Akka.Remote.Transport.DotNetty;
using Orchestrator.Shared.Protocol;
using Orchestrator.Shared.Protocol.Serialization;

namespace Orchestrator.Shared.Tests.Protocol.Serialization;

/// <summary>Real actor systems over real TLS on loopback addresses, configured the way master and node configure theirs.</summary>
internal static class ClusterTestSystems
{
    /// <summary>A self-signed certificate with its key, written to and read back from a PKCS#12 file like the master's.</summary>
    public static string WriteCertificate(string directory, string fileName, string subject = "CN=orchestrator-cluster")
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddYears(1));
        var path = Path.Combine(directory, fileName);
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pkcs12));
        return path;
    }

    public static int FreePort(IPAddress address)
    {
        using var probe = new TcpListener(address, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    /// <summary>An actor system named like ours, with the given role, seed and certificate (null: plain TCP, as an outsider might try).
    /// <paramref name="guardHocon"/> adds a <see cref="ClusterGuard"/> as the master or a node configures it.
    /// <paramref name="trustAnyPeer"/> makes it an outsider that accepts any certificate the master presents, so that only
    /// the master's own check can keep it out.</summary>
    public static ActorSystem Start(string host, int port, string role, string seedHostAndPort, X509Certificate2? certificate,
        string membershipHocon, bool trustAnyPeer = false, string guardHocon = "")
    {
        var seed = certificate is null ? $"akka.tcp://{NodeProtocolNames.ActorSystemName}@{seedHostAndPort}" : ClusterTls.Address(seedHostAndPort);
        var config = ConfigurationFactory.ParseString($$"""
            akka.actor.provider = cluster
            akka.remote.dot-netty.tcp { hostname = "{{host}}", port = {{port}} }
            akka.cluster { roles = ["{{role}}"], seed-nodes = ["{{seed}}"] }
            akka.loglevel = WARNING
            akka.coordinated-shutdown.run-by-clr-shutdown-hook = off
            """)
            .WithFallback(ConfigurationFactory.ParseString(certificate is null ? "" : ClusterTls.Hocon))
            .WithFallback(ConfigurationFactory.ParseString(guardHocon))
            .WithFallback(ConfigurationFactory.ParseString(membershipHocon))
            .WithFallback(ConfigurationFactory.ParseString(ProtocolSerializer.Hocon));
        var setup = ActorSystemSetup.Create(BootstrapSetup.Create().WithConfig(config));
        if (certificate is not null)
            setup = setup.And(trustAnyPeer
                ? new DotNettySslSetup(certificate, suppressValidation: true, requireMutualAuthentication: true)
                : ClusterTls.Setup(certificate));
        return ActorSystem.Create(NodeProtocolNames.ActorSystemName, setup);
    }

    /// <summary>Writes every message it receives to the channel (the master's "node-gateway" in these tests).</summary>
    public sealed class Recorder : ReceiveActor
    {
        public Recorder(ChannelWriter<object> received) => ReceiveAny(message => received.TryWrite(message));
    }

    public static async Task<bool> Eventually(Func<bool> condition, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (DateTime.UtcNow < deadline)
        {
            if (condition()) return true;
            await Task.Delay(100);
        }
        return condition();
    }
}
