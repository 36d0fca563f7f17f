using Akka.Cluster.Hosting;
using Akka.Hosting;
using Akka.Remote.Hosting;
using Orchestrator.Master.Api;
using Orchestrator.Master.Api.Security;
using Orchestrator.Master.Controllers;
using Orchestrator.Master.Store;
using Orchestrator.Master.Store.Admission;
using Orchestrator.Shared.Protocol.Serialization;

// The master: the Kubernetes API (HTTPS, bearer token) in front of the ObjectStore actor, the control plane,
// and Akka cluster role "master" (its own seed node) that the nodes join.
// Options: --data-dir (./.state/master) --api-address (127.0.0.1) --api-port (6443)
//          --cluster-address (127.0.0.1) --cluster-port (4050) --service-cidr (172.28.128.0/17)
//          --node-monitor-grace-period (40) --node-monitor-period (5) --pod-eviction-timeout (300) seconds
//          --cluster-stable-after (7) --cluster-heartbeat-pause (3) seconds (downing, see ClusterMembership)
//          --event-ttl (1h) --encryption-provider-config FILE --store-recovery none|skip-corrupt (see StoreOptions)
// Cluster traffic is TLS with the cluster certificate {data-dir}/cluster.pfx (made at first start; nodes need a copy).
var builder = WebApplication.CreateBuilder(args);
if (builder.Configuration["service-cidr"] is { Length: > 0 } serviceCidr) ClusterIpRange.Use(serviceCidr);
var api = ApiServerOptions.From(builder.Configuration);
StoreOptions store;
try
{
    store = StoreOptions.From(builder.Configuration, api.DataDirectory);
}
catch (FormatException e)
{
    Console.Error.WriteLine($"orchestrator-master: {e.Message}");
    return 2;
}
// Before anything is written to the data directory: it becomes private, and a damaged journal stops us here.
if (ObjectStoreHosting.PrepareStore(store, warning => Console.Error.WriteLine($"orchestrator-master: warning: {warning}")) is { } unusable)
{
    Console.Error.WriteLine($"orchestrator-master: {unusable}");
    return 1;
}
var clusterAddress = builder.Configuration["cluster-address"] ?? "127.0.0.1";
var clusterPort = int.TryParse(builder.Configuration["cluster-port"], out var port) ? port : 4050;
var clusterCertificate = ClusterCertificate.LoadOrCreate(api.DataDirectory);
var membership = ClusterMembership.Build(
    ClusterMembership.Seconds(builder.Configuration["cluster-stable-after"], ClusterMembership.DefaultStableAfter, "cluster-stable-after"),
    ClusterMembership.Seconds(builder.Configuration["cluster-heartbeat-pause"], ClusterMembership.DefaultHeartbeatPause, "cluster-heartbeat-pause"));

builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
builder.AddKubernetesApiServer(api);
builder.Services.AddSingleton(store.Health);
builder.Services.AddAkka("orchestrator", (akka, _) => akka
    .AddHocon(ProtocolSerializer.Hocon, HoconAddMode.Prepend)
    .AddHocon(membership, HoconAddMode.Prepend)
    .WithRemoting(ClusterTls.Remoting(clusterAddress, clusterPort, clusterCertificate))
    .WithClustering(new ClusterOptions
    {
        Roles = ["master"],
        SeedNodes = [ClusterTls.Address($"{clusterAddress}:{clusterPort}")],
    })
    .WithObjectStore(store)
    .WithControlPlane(ControlPlaneOptions.From(builder.Configuration)));

var app = builder.Build();
app.UseKubernetesApiServer(api);
await app.StartAsync();
// A journal record that passed the start-up check but cannot be applied ends the process, with that one line.
if (await Task.WhenAny(store.Health.Fatal, app.WaitForShutdownAsync()) == store.Health.Fatal)
{
    Console.Error.WriteLine($"orchestrator-master: {store.Health.Fatal.Result}");
    await app.StopAsync();
    return 1;
}
return 0;
