using Akka.Hosting;
using Orchestrator.Master.Api;
using Orchestrator.Master.Api.Security;
using Orchestrator.Master.Registry;
using Orchestrator.Master.Store;

namespace Orchestrator.Bench.Api;

/// <summary>The master's API and store hosted as Program.cs hosts them (HTTPS, token, SQLite journal in a fresh data
/// directory), without the control plane and the cluster: the API server alone is measured.</summary>
public sealed class InProcessMaster : IAsyncDisposable
{
    private readonly WebApplication _app;
    public string DataDirectory { get; }
    public Uri Address { get; }
    public string Token => BearerToken.LoadOrCreate(DataDirectory);

    private InProcessMaster(WebApplication app, string dataDirectory, Uri address)
    {
        _app = app;
        DataDirectory = dataDirectory;
        Address = address;
    }

    public static async Task<InProcessMaster> StartAsync(int port)
    {
        var dataDirectory = Directory.CreateTempSubdirectory("bench-api-").FullName;
        var options = new ApiServerOptions(dataDirectory, "127.0.0.1", port);
        var store = new StoreOptions(dataDirectory);
        var builder = WebApplication.CreateBuilder();
        builder.Logging.ClearProviders();
        var catalog = builder.Services.AddResourceRegistry();
        builder.AddKubernetesApiServer(options);
        // the kubelet CA is the composition root's, as MasterProgram's (the API's kubelet relays and webhook tunnels use it)
        builder.Services.AddSingleton(new Orchestrator.Shared.Protocol.KubeletCertificateAuthority(
            Orchestrator.Shared.Protocol.KubeletCertificateAuthority.CreateCertificate()));
        builder.Services.AddSingleton(store.Health);
        builder.Services.AddAkka("bench-api", (akka, _) => akka
            .AddHocon("akka.loglevel = WARNING", HoconAddMode.Prepend)
            .WithObjectStore(store, catalog)
            .WithCustomResources(catalog));
        var app = builder.Build();
        app.UseKubernetesApiServer(options);
        await app.StartAsync();
        return new InProcessMaster(app, dataDirectory, new Uri($"https://127.0.0.1:{port}"));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(DataDirectory, recursive: true); } catch (IOException) { }
    }
}
