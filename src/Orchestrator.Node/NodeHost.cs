using System.Net;
using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Hosting;
using Akka.Remote.Hosting;
using Orchestrator.Node.Agent;
using Orchestrator.Node.Proxy;
using Orchestrator.Node.Runtime;
using Orchestrator.Shared.Protocol;
using Orchestrator.Shared.Protocol.Serialization;

namespace Orchestrator.Node;

/// <summary>Builds one incarnation of the node: web host (service proxy + status endpoint), Docker runtime and the
/// actor system that joins the master's cluster with the "node-agent" actor.</summary>
public static class NodeHost
{
    public static WebApplication Build(NodeOptions options)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
            o.UseUtcTimestamp = true;
        });
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.AspNetCore.Server.Kestrel", LogLevel.Information);
        builder.Logging.AddFilter("Yarp", LogLevel.Warning);

        builder.AddServiceProxy(options.Address, new IPEndPoint(IPAddress.Loopback, options.HealthzPort));
        builder.Services.AddSingleton(new DockerRuntimeOptions(options.Docker, options.Name, options.Network, options.Address.ToString()));
        builder.Services.AddSingleton<DockerRuntime>();
        builder.Services.AddSingleton<IContainerRuntime>(sp => sp.GetRequiredService<DockerRuntime>());

        builder.Services.AddAkka(NodeProtocolNames.ActorSystemName, (akka, sp) => akka
            .AddHocon(ProtocolSerializer.Hocon, HoconAddMode.Prepend)
            .ConfigureLoggers(loggers =>
            {
                loggers.LogLevel = Akka.Event.LogLevel.InfoLevel;
                loggers.ClearLoggers();
                loggers.AddLoggerFactory();
            })
            .WithRemoting(options.Address.ToString(), options.ClusterPort)
            .WithClustering(new ClusterOptions
            {
                Roles = [NodeProtocolNames.NodeRole],
                SeedNodes = [$"akka.tcp://{NodeProtocolNames.ActorSystemName}@{options.Master}"],
            })
            .WithActors((system, registry) =>
            {
                var settings = NodeAgentSettings.Default(options.Name, options.Address.ToString(), options.Master);
                var agent = system.ActorOf(
                    NodeAgent.Props(settings, sp.GetRequiredService<IContainerRuntime>(), sp.GetRequiredService<IServiceProxy>()),
                    NodeProtocolNames.AgentActorName);
                registry.Register<NodeAgent>(agent);
            }));

        var app = builder.Build();
        app.MapServiceProxy();
        var lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();
        lifetime.ApplicationStarted.Register(() =>
        {
            // the actor system ends on its own when the cluster downs this node: end this incarnation too
            app.Services.GetRequiredService<ActorSystem>().WhenTerminated.ContinueWith(_ => lifetime.StopApplication());
        });
        return app;
    }
}
