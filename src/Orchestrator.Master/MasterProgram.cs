using System.Runtime.InteropServices;
using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Hosting;
using Akka.Remote.Hosting;
using Orchestrator.Master.Api;
using Orchestrator.Master.Api.Authorization;
using Orchestrator.Master.Api.Security;
using Orchestrator.Master.Api.Storage;
using Orchestrator.Master.Controllers;
using Orchestrator.Master.Diagnostics;
using Orchestrator.Master.Leadership;
using Orchestrator.Master.Nodes;
using Orchestrator.Master.Registry;
using Orchestrator.Master.Registry.CustomResources;
using Orchestrator.Master.Scheduling;
using Orchestrator.Master.Store;
using Orchestrator.Master.Ui;
using Orchestrator.Shared.Hosting;
using Orchestrator.Shared.Protocol.Serialization;

namespace Orchestrator.Master;

/// <summary>
/// The master: the Kubernetes API (HTTPS, bearer token) in front of the ObjectStore actor, the control plane, and Akka
/// cluster role "master" (its own seed node) that the nodes join.
/// Flags (command line, ORCHESTRATOR_MASTER_* variables, --config file): MasterFlags; `orchestrator-master --help` lists them.
/// Cluster traffic is TLS with the cluster certificate {data-dir}/cluster.pfx (made at first start; nodes need a copy).
/// </summary>
internal static class MasterProgram
{
    public static Task<int> Main(string[] args) => RunAsync(args, embedding: null);

    /// <summary>The master until it stops: 0 after SIGTERM/SIGINT (or <see cref="Embedding.Stop"/>), 2 after a bad
    /// flag or setting, 1 when its store cannot be used; each error is one line on stderr. With an
    /// <paramref name="embedding"/> it runs inside orchestrator-all-in-one beside a node.</summary>
    public static async Task<int> RunAsync(string[] args, Embedding? embedding)
    {
        var flags = MasterFlags.Definition.Resolve(args);
        if (flags.Exit is { } exit) return exit;
        // The process's signals end it between incarnations too, when no host (and so no console lifetime) listens; while
        // a host runs, its console lifetime stops it as before. Embedded, the signals are the embedding's (its Stop).
        using var signalled = new CancellationTokenSource();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(signalled.Token, embedding?.Stop ?? CancellationToken.None);
        var signals = embedding is not null ? [] : new[] { PosixSignal.SIGTERM, PosixSignal.SIGINT, PosixSignal.SIGQUIT }
            .Select(signal => PosixSignalRegistration.Create(signal, context =>
            {
                context.Cancel = true;
                signalled.Cancel();
            })).ToList();
        ILoggerFactory? loggers = null;
        try
        {
            return await MasterIncarnations.RunAsync(_ => RunIncarnationAsync(flags, embedding, stop.Token), line =>
            {
                // no host between incarnations: the line goes out in the master's log format on a factory of its own
                loggers ??= LoggerFactory.Create(logging =>
                {
                    logging.UseLogFormat(flags["log-format"]);
                    if (embedding is not null) logging.PrefixCategories(embedding.LogPrefix);
                });
                loggers.CreateLogger(typeof(MasterIncarnations).FullName!).LogWarning("{Line}", line);
            }, stop.Token);
        }
        finally
        {
            foreach (var signal in signals) signal.Dispose();
            loggers?.Dispose();
        }
    }

    /// <summary>One incarnation: the web host with its actor system, from the flags to its stop.</summary>
    private static async Task<IncarnationEnd> RunIncarnationAsync(ResolvedFlags flags, Embedding? embedding, CancellationToken stop)
    {
        static IncarnationEnd Exit(int code) => new(code, Rejoin: false, "");
        AkkaAppConfigWarmup.Begin(); // beside the host build: the actor system's first step (issue 19)
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = HostBuilderOptions.Args });
        builder.Configuration.AddInMemoryCollection(flags.Values!);
        if (builder.Configuration["service-cidr"] is { Length: > 0 } serviceCidr) ClusterIpRange.Use(serviceCidr);
        var api = ApiServerOptions.From(builder.Configuration);
        var controlPlane = ControlPlaneOptions.From(builder.Configuration);
        var catalog = builder.Services.AddResourceRegistry();
        StoreOptions store;
        AdmissionPlugins plugins;
        AuthorizationSettings authorization;
        try
        {
            plugins = AdmissionPlugins.Parse(builder.Configuration[AdmissionPlugins.EnableFlag],
                builder.Configuration[AdmissionPlugins.DisableFlag]);
            authorization = new AuthorizationSettings(AuthorizationSettings.ParseModes(
                builder.Configuration[AuthorizationSettings.Flag] ?? AuthorizationSettings.DefaultModes),
                NodeRestriction: plugins.IsOn("NodeRestriction"));
            store = StoreOptions.From(builder.Configuration, api.DataDirectory) with
            {
                Admissions = plugins.StoreChain(builder.Configuration, catalog),
            };
        }
        catch (FormatException e)
        {
            Console.Error.WriteLine($"orchestrator-master: {e.Message}");
            return Exit(2);
        }
        // Before anything is written to the data directory: it becomes private, and a damaged journal stops us here.
        if (ObjectStoreHosting.PrepareStore(store, catalog, warning => Console.Error.WriteLine($"orchestrator-master: warning: {warning}")) is { } unusable)
        {
            Console.Error.WriteLine($"orchestrator-master: {unusable}");
            return Exit(1);
        }
        Orchestrator.Master.Identity.ServiceAccountTokens serviceAccountTokens;
        try
        {
            serviceAccountTokens = api.CreateServiceAccountTokens();
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"orchestrator-master: --service-account-signing-key-file: {e.Message}");
            return Exit(2);
        }
        var clusterAddress = builder.Configuration["cluster-address"] ?? "127.0.0.1";
        var clusterPort = int.TryParse(builder.Configuration["cluster-port"], out var port) ? port : 4050;
        MasterPeers peers;
        try
        {
            peers = MasterPeers.Parse(builder.Configuration["peers"], $"{clusterAddress}:{clusterPort}");
        }
        catch (FormatException e)
        {
            Console.Error.WriteLine($"orchestrator-master: {e.Message}");
            return Exit(2);
        }
        if (peers.StoreProblem(store.Postgres is not null) is { } notShared)
        {
            Console.Error.WriteLine($"orchestrator-master: {notShared}");
            return Exit(2);
        }
        var leadership = new MasterLeadership();
        var leaderLoss = new LeaderLoss(); // with several masters: requests forwarded to a leader that is lost are ended
        var replicaHealth = new ReplicaHealth();
        var clusterCertificate = ClusterCertificate.LoadOrCreate(api.DataDirectory);
        var kubeletCa = KubeletCaFiles.LoadOrCreate(api.DataDirectory);
        // the client signers sign with the cluster CA, the one client certificates are authenticated against
        var clusterCa = ServingCertificates.LoadCaWithKey(api.DataDirectory);
        controlPlane = controlPlane with
        {
            Signing = new(clusterCa, StoreOptions.ParseEventTtl(builder.Configuration["cluster-signing-duration"] ?? "8760h")),
        };
        // and the nodes' client certificates too (as kube-apiserver-client-kubelet): a node's key and certificate are its API credential
        var nodeClientCa = new Orchestrator.Shared.Protocol.NodeClientCertificateAuthority(clusterCa);
        builder.Services.AddSingleton(kubeletCa);
        builder.Services.AddSingleton(authorization);
        // the nodes' newest usage: the NodeGateway keeps it, the metrics API and the autoscaler read it
        var resourceUsage = new Orchestrator.Master.ResourceMetrics.ResourceUsageCache();
        builder.Services.AddSingleton(resourceUsage);
        var membership = ClusterMembership.Build(
            ClusterMembership.Seconds(builder.Configuration["cluster-stable-after"],
                peers.Several ? ClusterMembership.MultiMasterStableAfter : ClusterMembership.DefaultStableAfter, "cluster-stable-after"),
            ClusterMembership.Seconds(builder.Configuration["cluster-heartbeat-pause"],
                peers.Several ? ClusterMembership.MultiMasterHeartbeatPause : ClusterMembership.DefaultHeartbeatPause, "cluster-heartbeat-pause"),
            peers.Several);

        builder.Logging.UseLogFormat(flags["log-format"]).AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        embedding?.Apply(builder.Services, builder.Logging);
        try
        {
            // with several masters, the API reads from this master's replica of the store unless the control plane runs here
            builder.AddKubernetesApiServer(api, serviceAccountTokens, peers.Several
                ? (sp, ct) => leadership.HostsControlPlane
                    ? sp.GetRequiredService<IReadOnlyActorRegistry>().WhenRegisteredAsync<ObjectStore>(ct)
                    : sp.GetRequiredService<IReadOnlyActorRegistry>().WhenRegisteredAsync<StoreReplica>(ct)
                : null);
        }
        catch (FormatException e)
        {
            Console.Error.WriteLine($"orchestrator-master: {e.Message}");
            return Exit(2);
        }
        // the CA of the API's serving certificate (made by AddKubernetesApiServer), published to pods as kube-root-ca.crt
        var rootCaPem = File.ReadAllText(Path.Combine(api.DataDirectory, ServingCertificates.CaCertificateFile));
        builder.Services.AddSingleton(store.Health);
        builder.Services.AddDashboard();
        if (embedding is null or { TrimsMemory: true })
            builder.Services.AddHostedService<IdleMemoryTrim>(); // idle footprint (issue 19)
        builder.Services.AddHostedService<Orchestrator.Master.Api.Discovery.OpenApiWarmup>(); // kubectl's first apply (issue 19)
        builder.Services.AddAkka("orchestrator", (akka, services) => akka
            .WithHostLogging(services)
            .AddHocon(ProtocolSerializer.Hocon, HoconAddMode.Prepend)
            .AddHocon(membership, HoconAddMode.Prepend)
            .AddHocon(peers.Several ? ClusterGuard.MultiMasterHocon(peers.Addresses) : ClusterGuard.MasterHocon, HoconAddMode.Prepend)
            .AddHocon(ReplicationSerializer.Hocon, HoconAddMode.Prepend)
            .WithRemoting(ClusterTls.Remoting(clusterAddress, clusterPort, clusterCertificate))
            .WithClustering(new ClusterOptions
            {
                // with several masters each announces where its API is, so the others forward to the leader's
                Roles = peers.Several ? ["master", MasterLeadership.ApiRole(api.ApiAddress, api.ApiPort, clusterAddress)] : ["master"],
                SeedNodes = [.. peers.Addresses.Select(ClusterTls.Address)],
            })
            .WithObjectStorePersistence(store)
            // every master of several keeps a replica of the store, fed by the leader's, and serves reads from it
            .WithActors((system, registry) =>
            {
                if (!peers.Several) return;
                system.ActorOf(LeaderLossWatcher.Props(leaderLoss), "leader-loss");
                var replica = system.ActorOf(StoreReplica.Props(catalog, () => LeaderStore(system), store.Settings, replicaHealth), StoreReplica.ActorName);
                registry.Register<StoreReplica>(replica);
                // and describes the custom resources from it, so that it serves them too (the leader's controller describes there)
                registry.Register<CustomResourceDescriptionMirror>(system.ActorOf(
                    CustomResourceDescriptionMirror.Props(replica, catalog, () => !leadership.HostsControlPlane), CustomResourceDescriptionMirror.ActorName));
            })
            // the store, controllers, scheduler and NodeGateway: at once on a single master, on the oldest of several (a cluster singleton)
            .WithControlPlane(peers, leadership, (system, registry) =>
            {
                var objectStore = ObjectStoreHosting.StartObjectStore(system, registry, store, catalog);
                RegistryHosting.StartCustomResources(system, objectStore, catalog);
                // the controllers write through the admission webhooks, as kube-controller-manager writes through kube-apiserver
                var admission = ControlPlaneHosting.StartAdmission(system, objectStore, catalog,
                    services.GetRequiredService<Orchestrator.Master.Api.Webhooks.WebhookDispatcher>());
                ControllersHosting.Start(system, admission, controlPlane.Resync, controlPlane.NodeLifecycle, catalog, controlPlane.Signing, rootCaPem, resourceUsage,
                    controlPlane.AutoscalerSyncPeriod, controlPlane.LoadBalancerPool, (api.ApiAddress, api.ApiPort), peers.Several,
                    ControlPlaneHosting.LegacyTokens(serviceAccountTokens), new Orchestrator.Master.Api.Discovery.OpenApiPolicySchemas(catalog));
                SchedulerHosting.Start(system, objectStore, controlPlane.Resync);
                registry.Register<NodeGateway>(NodeGatewayHosting.Start(system, objectStore, controlPlane.NodeGateway with
                {
                    KubeletCa = kubeletCa, NodeClientCa = nodeClientCa, RequireNodeCredentials = true, Tokens = serviceAccountTokens, ResourceUsage = resourceUsage,
                }, controlPlane.Resync));
            })
            // orchestrator-all-in-one lets its node join once this master is a member of its own cluster: the node's join is
            // then answered at once (a join refused before it would wait out the seed-node timeout)
            .AddStartup((system, _) =>
            {
                if (embedding?.Started is { } started) Akka.Cluster.Cluster.Get(system).RegisterOnMemberUp(started);
            }));
        builder.Services.AddSingleton(leadership);
        builder.Services.AddSingleton<Orchestrator.Master.Api.Rest.IResourceView, ComponentStatuses>(); // kubectl get componentstatuses
        if (peers.Several)
        {
            builder.Services.AddHttpForwarder();
            builder.Services.AddSingleton(replicaHealth);
            builder.Services.AddSingleton<ReplicaReads>();
            builder.Services.AddSingleton(leaderLoss);
        }

        var app = builder.Build();
        if (peers.Several) // first: a master without the control plane sends the whole request to the one with it
        {
            app.UseMiddleware<Orchestrator.Master.Api.Http.RequestDeadline>(api.RequestTimeout); // a forwarded request has the same deadline
            app.UseMiddleware<LeaderForwarding>(BearerToken.LoadOrCreate(api.DataDirectory), clusterCa);
        }
        app.UseDashboard(); // /ui/ before the API's authentication: the page itself holds no data
        app.UseKubernetesApiServer(api);
        await app.StartAsync(stop);
        // A journal record that passed the start-up check but cannot be applied ends the process, with that one line.
        if (await Task.WhenAny(store.Health.Fatal, app.WaitForShutdownAsync(stop)) == store.Health.Fatal)
        {
            Console.Error.WriteLine($"orchestrator-master: {store.Health.Fatal.Result}");
            embedding?.Failed?.Invoke(store.Health.Fatal.Result);
            await app.StopAsync();
            return Exit(1);
        }
        // Akka.Hosting stops the host when the actor system ends; why it ended decides whether another incarnation follows
        var reason = CoordinatedShutdown.Get(app.Services.GetRequiredService<ActorSystem>()).ShutdownReason;
        if (!peers.Several || stop.IsCancellationRequested || !MasterIncarnations.EndedForCluster(reason)) return Exit(0);
        // the next incarnation listens on the same ports: this host's listeners (and its services) go first
        await app.DisposeAsync();
        return new IncarnationEnd(0, Rejoin: true, MasterIncarnations.Describe(reason));
    }

    // The leader's store, where this master's replica asks for its change stream; null while no master is up.
    private static ActorSelection? LeaderStore(ActorSystem system)
    {
        var cluster = Akka.Cluster.Cluster.Get(system);
        return MasterLeadership.Find(cluster.State, cluster.SelfMember).Address is { } leader
            ? system.ActorSelection(new RootActorPath(leader) / "user" / ObjectStore.ActorName)
            : null;
    }
}
