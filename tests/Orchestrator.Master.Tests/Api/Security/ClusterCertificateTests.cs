using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Threading.Channels;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Cluster.Hosting;
using Akka.Configuration;
using Akka.Hosting;
using Akka.Remote.Hosting;
using Akka.Remote.Transport.DotNetty;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orchestrator.Master.Api.Security;
using Orchestrator.Shared.Protocol;
using Orchestrator.Shared.Protocol.Serialization;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Security;

/// <summary>The master's cluster certificate file, and the master's remoting (configured through Akka.Hosting as
/// Program.cs does) admitting only actor systems that present it.</summary>
public sealed class ClusterCertificateTests : IDisposable
{
    private const string MasterHost = "127.0.0.41";
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("cluster-cert-").FullName;

    public void Dispose() => Directory.Delete(_dataDirectory, recursive: true);

    [Fact]
    public void Is_made_at_first_start_owner_readable_only_and_reused()
    {
        using var first = ClusterCertificate.LoadOrCreate(_dataDirectory);
        var path = Path.Combine(_dataDirectory, ClusterCertificate.FileName);

        Assert.True(first.HasPrivateKey);
        Assert.Equal(first.Subject, first.Issuer); // self-signed: pinned, not chained
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        var usages = first.Extensions.OfType<X509EnhancedKeyUsageExtension>().Single().EnhancedKeyUsages.Cast<Oid>().Select(o => o.Value);
        Assert.Equal(["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"], usages.Order());

        using var again = ClusterCertificate.LoadOrCreate(_dataDirectory);
        Assert.Equal(first.Thumbprint, again.Thumbprint);
    }

    [Fact]
    public async Task The_master_remoting_accepts_the_cluster_certificate_and_refuses_another()
    {
        var received = Channel.CreateUnbounded<object>();
        var port = FreePort();
        var certificate = ClusterCertificate.LoadOrCreate(_dataDirectory);
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddAkka(NodeProtocolNames.ActorSystemName, (akka, _) => akka
            .AddHocon("akka.loglevel = WARNING", HoconAddMode.Prepend)
            .AddHocon(ProtocolSerializer.Hocon, HoconAddMode.Prepend)
            .WithRemoting(ClusterTls.Remoting(MasterHost, port, certificate))
            .WithClustering(new ClusterOptions { Roles = [NodeProtocolNames.MasterRole], SeedNodes = [ClusterTls.Address($"{MasterHost}:{port}")] })
            .WithActors((system, _) => system.ActorOf(Props.Create(() => new Recorder(received.Writer)), NodeProtocolNames.GatewayActorName)));
        using var master = builder.Build();
        await master.StartAsync();
        var gateway = $"{ClusterTls.Address($"{MasterHost}:{port}")}/user/{NodeProtocolNames.GatewayActorName}";

        // the outsider accepts whatever the master presents: only the master's own check can keep it out
        var outsider = Client(new DotNettySslSetup(OtherCertificate(), suppressValidation: true, requireMutualAuthentication: true));
        var insider = Client(ClusterTls.Setup(ClusterTls.Load(Path.Combine(_dataDirectory, ClusterCertificate.FileName))));
        try
        {
            outsider.ActorSelection(gateway).Tell("from the outsider");
            insider.ActorSelection(gateway).Tell("from the insider");
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            Assert.Equal("from the insider", await received.Reader.ReadAsync(timeout.Token));

            // the outsider's message is not merely late: repeat it and give it time
            outsider.ActorSelection(gateway).Tell("from the outsider");
            using var quiet = new CancellationTokenSource(TimeSpan.FromSeconds(6));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await received.Reader.ReadAsync(quiet.Token));
        }
        finally
        {
            await Task.WhenAll(outsider.Terminate(), insider.Terminate());
            await master.StopAsync();
        }
    }

    /// <summary>A plain remoting actor system (no cluster) with the given TLS set-up.</summary>
    private static ActorSystem Client(Setup tls)
    {
        var config = ConfigurationFactory.ParseString("""
            akka.actor.provider = remote
            akka.remote.dot-netty.tcp { hostname = "127.0.0.42", port = 0 }
            akka.loglevel = WARNING
            """).WithFallback(ConfigurationFactory.ParseString(ClusterTls.Hocon)).WithFallback(ConfigurationFactory.ParseString(ProtocolSerializer.Hocon));
        return ActorSystem.Create("client", ActorSystemSetup.Create(BootstrapSetup.Create().WithConfig(config)).And(tls));
    }

    private static X509Certificate2 OtherCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var created = new CertificateRequest("CN=orchestrator-cluster", key, HashAlgorithmName.SHA256)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddYears(1));
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null);
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Parse(MasterHost), 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private sealed class Recorder : ReceiveActor
    {
        public Recorder(ChannelWriter<object> received) => ReceiveAny(message => received.TryWrite(message));
    }
}
