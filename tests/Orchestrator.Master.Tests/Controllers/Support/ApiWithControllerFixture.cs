using Akka.Actor;
using k8s;
using Orchestrator.Master.Tests.Api;
using Xunit;

namespace Orchestrator.Master.Tests.Controllers.Support;

/// <summary>The store, the HTTPS API and one controller, nothing else; a client of the official library against it.</summary>
public abstract class ApiWithControllerFixture : IAsyncLifetime
{
    internal ApiTestServer Server { get; private set; } = null!;
    public Kubernetes Client { get; private set; } = null!;

    /// <summary>The controller's props and actor name, given the started server.</summary>
    private protected abstract (Props Props, string Name) Controller(ApiTestServer server);

    public async Task InitializeAsync()
    {
        Server = await ApiTestServer.StartAsync(https: true);
        Client = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(Server.WriteKubeconfig()));
        var (props, name) = Controller(Server);
        Server.System.ActorOf(props, name);
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Server.DisposeAsync();
    }

    /// <summary>Reads until <paramref name="done"/> holds (30 s at most), for what a controller does after a request.</summary>
    public static async Task<T> EventuallyAsync<T>(Func<Task<T>> read, Func<T, bool> done)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            var value = await read();
            if (done(value)) return value;
            await Task.Delay(50, cts.Token);
        }
    }
}
