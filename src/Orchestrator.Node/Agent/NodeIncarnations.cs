using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Configuration;
using Orchestrator.Node.Runtime;
using Orchestrator.Node.Services;
using Orchestrator.Shared.Protocol;
using Orchestrator.Shared.Protocol.Serialization;

namespace Orchestrator.Node.Agent;

/// <summary>Where and how the node's actor system joins the master's cluster.</summary>
/// <param name="JoinAfter">The first actor system is made (and joins) only once this completes: in orchestrator-all-in-one
/// the node's host starts beside its master's, and joins once that master is Up. Null: at once.</param>
internal sealed record NodeClusterOptions(string Address, int Port, string Master, X509Certificate2 Certificate, NodeAgentSettings Agent,
    Task? JoinAfter = null);

/// <summary>
/// Runs the node's actor system with its NodeAgent, and a fresh one whenever it ends: a member the cluster has
/// removed (downed after a partition, or left behind by a restarted master) can never rejoin with the same actor
/// system, so each incarnation is new and its agent adopts the running containers by their labels. Only the actor
/// system is replaced: the web host around it — the service proxy's listeners, cluster DNS, the kubelet endpoint —
/// keeps serving with what it last knew, so Service traffic does not pause while the node rejoins.
/// </summary>
internal sealed class NodeIncarnations(NodeClusterOptions options, IContainerRuntime runtime, ServiceDirectory services,
    Kubelet.KubeletIdentity identity, ILoggerFactory loggers, ILogger<NodeIncarnations> log, Config.ConfigDirectory? configs = null,
    Stats.NodeResourceUsage? usage = null, NetworkPolicyDirectory? policies = null, NodeClientIdentity? credentials = null) : BackgroundService
{
    public static readonly TimeSpan RestartDelay = TimeSpan.FromSeconds(2);

    /// <summary>The current incarnation (tests look at it).</summary>
    public ActorSystem? Current { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        if (options.JoinAfter is { } joinable)
        {
            // a join sent before the master is Up would be answered only by the join retry (seed-node-timeout)
            try { await joinable.WaitAsync(stopping); }
            catch (OperationCanceledException) { return; }
        }
        while (!stopping.IsCancellationRequested)
        {
            var system = ActorSystem.Create(NodeProtocolNames.ActorSystemName, Setup());
            Current = system;
            system.ActorOf(NodeAgent.Props(options.Agent, runtime, services, identity, configs, usage, policies, credentials), NodeProtocolNames.AgentActorName);
            var stopRequested = new TaskCompletionSource();
            await using (stopping.Register(() => stopRequested.TrySetResult()))
                await Task.WhenAny(system.WhenTerminated, stopRequested.Task);
            if (stopping.IsCancellationRequested)
            {
                // leave the cluster politely, so the master sees the node go at once rather than after a timeout
                await CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClrExitReason.Instance);
                return;
            }
            // SIGTERM: Akka's own signal hook ran the coordinated shutdown (the node left the cluster) before the host's
            // handler stops the host; this process is ending, no new incarnation
            if (CoordinatedShutdown.Get(system).ShutdownReason is CoordinatedShutdown.ClrExitReason) return;
            log.LogWarning("The actor system ended (this node was removed from the cluster, or the master restarted); " +
                           "a new incarnation joins in {Delay} s", RestartDelay.TotalSeconds);
            try { await Task.Delay(RestartDelay, stopping); }
            catch (OperationCanceledException) { return; }
        }
    }

    /// <summary>How often the node asks the masters to let it in (InitJoin) until one answers; Akka's default is 5 s
    /// (seed-node-timeout: its join process resends only on that timeout). Issue 19: in one start on a loaded machine
    /// the master received the node's first InitJoin only with the resend 4.8 s later; a node waiting for a restarted
    /// master should also join soon after it listens. Only the node's side: a node is never a seed, so this is its join
    /// retry alone; the masters' seed-node-timeout also times the forming of a new cluster and stays Akka's.</summary>
    private const string JoinHocon = "akka.cluster.seed-node-timeout = 1s";

    /// <summary>--master: one master's cluster address, or several (comma-separated) of a multi-master cluster.</summary>
    private string[] Masters => options.Master.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private ActorSystemSetup Setup()
    {
        var config = ConfigurationFactory.ParseString($$"""
            akka.actor.provider = cluster
            akka.loglevel = INFO
            akka.loggers = ["{{Orchestrator.Shared.Hosting.AkkaLogForwarder.TypeName}}"]
            akka.remote.dot-netty.tcp { hostname = "{{options.Address}}", port = {{options.Port}} }
            akka.cluster { roles = ["{{NodeProtocolNames.NodeRole}}"], seed-nodes = [{{string.Join(", ", Masters.Select(m => $"\"{ClusterTls.Address(m)}\""))}}] }
            {{JoinHocon}}
            """)
            .WithFallback(ConfigurationFactory.ParseString(ClusterTls.Hocon))
            .WithFallback(ConfigurationFactory.ParseString(ClusterGuard.NodeHocon(options.Master)))
            .WithFallback(ConfigurationFactory.ParseString(ClusterMembership.ForMasters(Masters.Length)))
            .WithFallback(ConfigurationFactory.ParseString(ProtocolSerializer.Hocon));
        return ActorSystemSetup.Create(BootstrapSetup.Create().WithConfig(config))
            .And(ClusterTls.Setup(options.Certificate))
            .And(new Akka.Hosting.Logging.LoggerFactorySetup(loggers));
    }
}
