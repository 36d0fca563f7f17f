using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Configuration;
using Orchestrator.Shared.Protocol;
using Orchestrator.Shared.Protocol.Serialization;

namespace Orchestrator.Node.Tests;

/// <summary>A stand-in master for the node's tests: an actor system with role "master" on 127.0.0.1, configured like
/// the real one (TLS with a cluster certificate, the same downing), and that certificate as a file for --cluster-cert.</summary>
internal static class TestCluster
{
    private static readonly Lazy<string> Certificate = new(() =>
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var certificate = new CertificateRequest("CN=orchestrator-cluster", key, HashAlgorithmName.SHA256)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddYears(1));
        var path = Path.Combine(Directory.CreateTempSubdirectory("node-tests-").FullName, "cluster.pfx");
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pkcs12));
        return path;
    });

    /// <summary>The cluster certificate (PKCS#12 with key) every test master and node of this test run uses.</summary>
    public static string CertificatePath => Certificate.Value;

    public static ActorSystem StartMaster(int port)
    {
        var config = ConfigurationFactory.ParseString($$"""
            akka.actor.provider = cluster
            akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = {{port}} }
            akka.cluster { roles = ["{{NodeProtocolNames.MasterRole}}"], seed-nodes = ["{{ClusterTls.Address($"127.0.0.1:{port}")}}"] }
            akka.loglevel = WARNING
            """)
            .WithFallback(ConfigurationFactory.ParseString(ClusterTls.Hocon))
            .WithFallback(ConfigurationFactory.ParseString(ClusterMembership.Hocon))
            .WithFallback(ConfigurationFactory.ParseString(ProtocolSerializer.Hocon));
        var setup = ActorSystemSetup.Create(BootstrapSetup.Create().WithConfig(config)).And(ClusterTls.Setup(ClusterTls.Load(CertificatePath)));
        return ActorSystem.Create(NodeProtocolNames.ActorSystemName, setup);
    }
}
