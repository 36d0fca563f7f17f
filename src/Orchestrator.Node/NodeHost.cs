using System.Net;
using Orchestrator.Node.Agent;
using Orchestrator.Node.Agent.Kubelet;
using Orchestrator.Node.Diagnostics;
using Orchestrator.Node.Dns;
using Orchestrator.Node.Host;
using Orchestrator.Node.Policy;
using Orchestrator.Node.Proxy;
using Orchestrator.Node.Runtime;
using Orchestrator.Node.Services;
using Orchestrator.Shared.Hosting;
using Orchestrator.Shared.Protocol.Serialization;

namespace Orchestrator.Node;

/// <summary>Builds the node: web host (service proxy, kubelet endpoint, status endpoint), cluster DNS, Docker runtime
/// and <see cref="NodeIncarnations"/>, which runs the actor system that joins the master's cluster (a new one each
/// time the cluster removes this node) while everything else keeps running.</summary>
internal static class NodeHost
{
    /// <summary>Whether an address is one of this machine's (a LoadBalancer address the proxy can bind; a client of an
    /// externalTrafficPolicy Local port that is the machine itself). The proxy asks per such connection, so the
    /// interfaces' addresses are read at most once a second.</summary>
    private static bool IsMachineAddress(IPAddress address)
    {
        var (read, addresses) = _machineAddresses;
        if (Environment.TickCount64 - read > 1000 || addresses is null)
        {
            addresses = System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
                .SelectMany(i => i.GetIPProperties().UnicastAddresses).Select(a => a.Address).ToHashSet();
            _machineAddresses = (Environment.TickCount64, addresses);
        }
        return addresses.Contains(address);
    }

    private static (long Read, HashSet<IPAddress>? Addresses) _machineAddresses;

    /// <param name="embedding">Set when orchestrator-all-in-one hosts this node beside its master (null: a process of its own).</param>
    public static WebApplication Build(NodeOptions options, Embedding? embedding = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = HostBuilderOptions.Args });
        builder.Logging.UseLogFormat(options.LogFormat);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.AspNetCore.Server.Kestrel", LogLevel.Information);
        builder.Logging.AddFilter("Yarp", LogLevel.Warning);
        embedding?.Apply(builder.Services, builder.Logging);

        var pods = options.PodNetwork;
        // this node's DNS: the first usable address of its pod range (the gateway for the default range)
        var dnsEndPoint = new IPEndPoint(IPAddress.Parse(pods.DnsAddress), options.ClusterDnsPort);
        builder.Services.AddSingleton<ServiceDirectory>();
        builder.Services.AddSingleton<Config.ConfigDirectory>();
        builder.Services.AddSingleton<NetworkPolicyDirectory>();
        builder.Services.AddSingleton<IConnectionPolicy>(sp => new ConnectionPolicy(sp.GetRequiredService<NetworkPolicyDirectory>()));
        builder.AddServiceProxy(options.Address, new IPEndPoint(IPAddress.Loopback, options.HealthzPort), pods.Bridge,
            new Proxy.Ingress.IngressSettings(options.IngressHttpPort, options.IngressHttpsPort, options.Name, IsMachineAddress));
        if (options.ApiServerProxy is { } apiServerProxy)
            builder.Services.AddApiServerLoadBalancer(apiServerProxy, options.ApiServers ?? [], learnFromServices: true);
        var kubelet = new KubeletEndpointOptions(new IPEndPoint(options.Address, KubeletPort(options)));
        var identity = new KubeletIdentity(options.Name, options.Address);
        builder.Services.AddSingleton(kubelet);
        builder.Services.AddSingleton(identity);
        // the node's own identity towards the master, kept under --root-dir so a restarted node is still itself
        builder.Services.AddSingleton(new NodeClientIdentity(options.Name, Path.Combine(options.RootDir, "pki")));
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenKubelet(kubelet.EndPoint, identity));
        var limits = RuntimeLimits.Default with { Request = TimeSpan.FromSeconds(options.RuntimeRequestTimeout) };
        builder.Services.AddSingleton(new DockerRuntimeOptions(options.Docker, options.Name, options.Network, options.Address.ToString(),
            pods, new PodDns(pods.DnsAddress, options.ClusterDomain)) { RequestTimeout = limits.Request });
        builder.Services.AddSingleton(new ClusterDnsOptions(dnsEndPoint, options.ClusterDomain, options.ResolvConf));
        builder.Services.AddSingleton<DockerRuntime>();
        // every call timed and counted, each with a deadline and a bounded queue (a hung Docker is a reported timeout)
        builder.Services.AddSingleton<IContainerRuntime>(sp => new MeasuredRuntime(new BoundedRuntime(sp.GetRequiredService<DockerRuntime>(), limits)));

        var clusterCertificate = ClusterTls.Load(options.ClusterCert
            ?? throw new ClusterCertificateException("--cluster-cert is required (a copy of the master's <data-dir>/cluster.pfx)"));
        builder.Services.AddSingleton(new NodeClusterOptions(options.Address.ToString(), options.ClusterPort, options.Master, clusterCertificate,
            NodeAgentSettings.Default(options.Name, options.Address.ToString(), options.Master) with
            {
                Pods = PodSupervisorSettings.Default(options.Name, options.Address.ToString()) with
                {
                    ImagePulls = new ImagePullSettings(options.SerializeImagePulls, options.RegistryMirror),
                    LocalPathRoot = options.LocalPathRoot,
                },
                KubeletPort = kubelet.EndPoint.Port,
                HeartbeatInterval = TimeSpan.FromSeconds(options.NodeStatusUpdateFrequency),
                PodCidr = pods.IpRange,
                LocalPathRoot = options.LocalPathRoot,
            }, embedding?.JoinAfter));
        // the kubelet's stats: sampled beside the actor system, served on the kubelet endpoint and reported by the agent
        builder.Services.AddSingleton(new Agent.Stats.NodeResourceUsage(options.Name));
        builder.Services.AddSingleton<IContainerStats>(sp => sp.GetRequiredService<DockerRuntime>());
        builder.Services.AddSingleton(new Agent.Stats.ResourceUsageSampling(TimeSpan.FromSeconds(options.HousekeepingInterval)));
        builder.Services.AddHostedService<Agent.Stats.ResourceUsageCollector>();
        builder.Services.AddSingleton<NodeIncarnations>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<NodeIncarnations>());
        if (embedding is null or { TrimsMemory: true })
            builder.Services.AddHostedService<IdleMemoryTrim>(); // one per process: it measures the whole process

        var app = builder.Build();
        app.UseKubeletApi();
        // cluster DNS listens on this node's DNS address on the bridge, which exists once the runtime made the network
        var dns = new ClusterDns(app.Services.GetRequiredService<ClusterDnsOptions>(), app.Services.GetRequiredService<ServiceDirectory>(),
            app.Services.GetRequiredService<ILogger<ClusterDns>>());
        var dnsAddress = new NodeDnsAddress(pods, app.Services.GetRequiredService<ILogger<NodeDnsAddress>>());
        var lifetimeForDns = app.Services.GetRequiredService<IHostApplicationLifetime>();
        lifetimeForDns.ApplicationStarted.Register(() => _ = StartDnsWhenNetworkExistsAsync(app.Services.GetRequiredService<IContainerRuntime>(), dnsAddress, dns, lifetimeForDns.ApplicationStopping));
        lifetimeForDns.ApplicationStopping.Register(() =>
        {
            dns.Dispose();
            dnsAddress.Remove();
        });
        // NetworkPolicies on the pod bridge: rules for this node's pods, removed when the node stops
        var enforcer = new IptablesEnforcer(new Iptables(app.Services.GetRequiredService<ILogger<Iptables>>()), options.Name, pods,
            app.Services.GetRequiredService<ILogger<IptablesEnforcer>>());
        lifetimeForDns.ApplicationStarted.Register(() => enforcer.Start(app.Services.GetRequiredService<NetworkPolicyDirectory>()));
        lifetimeForDns.ApplicationStopping.Register(enforcer.Stop);
        app.MapServiceProxy();
        return app;
    }

    /// <summary>0 means any free port on the node address (so several nodes and clusters share a machine); it is
    /// chosen here, before Kestrel starts, because the Node object publishes it when the agent registers.</summary>
    private static int KubeletPort(NodeOptions options)
    {
        if (options.KubeletPort != 0) return options.KubeletPort;
        using var probe = new System.Net.Sockets.TcpListener(options.Address, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private static async Task StartDnsWhenNetworkExistsAsync(IContainerRuntime runtime, NodeDnsAddress address, ClusterDns dns, CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await runtime.EnsureNetworkAsync(stopping);
                if (address.Ensure() && await dns.TryStartAsync()) return;
            }
            catch (Exception) when (!stopping.IsCancellationRequested) { }
            await Task.Delay(TimeSpan.FromSeconds(5), stopping).ContinueWith(_ => { });
        }
    }
}
