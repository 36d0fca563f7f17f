using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Akka.Actor;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orchestrator.Master.Api;
using Orchestrator.Master.Api.Security;
using Orchestrator.Master.Api.Storage;
using Orchestrator.Master.Registry;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Store;
using Orchestrator.Master.Store.Persistence;

using Orchestrator.Shared.Protocol;

namespace Orchestrator.Master.Tests.Api;

/// <summary>
/// The API wired to the real ObjectStore on Akka's in-memory journal: in memory (TestServer, for HTTP-level tests) or on
/// a real loopback HTTPS port with the generated CA and token (for kubectl).
/// </summary>
internal sealed class ApiTestServer : IAsyncDisposable
{
    private const string InMemoryJournal = """
        akka.persistence.journal.plugin = "akka.persistence.journal.inmem"
        akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.inmem"
        akka.loglevel = WARNING

        """;

    private ApiTestServer(ActorSystem system, IActorRef store, WebApplication app, HttpClient client, string dataDirectory,
        ResourceCatalog catalog, StoreHealth health)
    {
        Catalog = catalog;
        Health = health;
        System = system;
        Store = store;
        App = app;
        Client = client;
        DataDirectory = dataDirectory;
    }

    public ActorSystem System { get; }

    /// <summary>The resources served (the store and the API share it).</summary>
    public ResourceCatalog Catalog { get; }
    public IActorRef Store { get; }
    /// <summary>What the store reports to /readyz.</summary>
    public StoreHealth Health { get; }
    public WebApplication App { get; }
    public HttpClient Client { get; }
    public string DataDirectory { get; }
    public string Token => BearerToken.LoadOrCreate(DataDirectory);
    /// <summary>The kubelet CA of every test server: the relays (logs, exec, port-forward) present its client certificate
    /// and accept only node certificates it issued.</summary>
    public static readonly KubeletCertificateAuthority KubeletCa = new(KubeletCertificateAuthority.CreateCertificate());

    /// <summary>A node's serving certificate with its key, as the master's NodeGateway issues it at registration (from
    /// <see cref="KubeletCa"/> unless another CA is given): what a stand-in kubelet presents.</summary>
    public static X509Certificate2 IssueKubeletServing(string node, IPAddress address,
        KubeletCertificateAuthority? ca = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var pem = (ca ?? KubeletCa).IssueServing(KubeletTls.SigningRequest(key, node, address), node, address);
        using var withKey = KubeletTls.WithKey(pem, key)!;
        return X509CertificateLoader.LoadPkcs12(
            withKey.Export(X509ContentType.Pkcs12), null);
    }
    public Uri? Address { get; private set; }

    /// <param name="beforeApi">services and middleware of a layer above the API (the dashboard), added before it</param>
    public static async Task<ApiTestServer> StartAsync(bool https = false, ObjectStoreSettings? settings = null,
        (Action<IServiceCollection> Services, Action<WebApplication> App)? beforeApi = null,
        Orchestrator.Master.Api.Rest.KubeletTimeouts? kubeletTimeouts = null,
        Orchestrator.Master.Admission.PodSecurity.PodSecurityOptions? podSecurity = null, TimeSpan? requestTimeout = null,
        Orchestrator.Master.Api.Authorization.AuthorizationSettings? authorization = null,
        Func<IResourceCatalog, IReadOnlyList<IAdmissionPlugin>>? admissions = null)
    {
        var dataDirectory = Directory.CreateTempSubdirectory("api-test-").FullName;
        var system = ActorSystem.Create("api-test-" + Guid.NewGuid().ToString("N")[..8], InMemoryJournal + StoreRecordSerializer.Hocon);
        var catalog = RegistryHosting.BuiltInCatalog();
        var health = new StoreHealth();
        var store = system.ActorOf(ObjectStore.Props(catalog, settings, health, admissions?.Invoke(catalog) ??
            [new Orchestrator.Master.Admission.LimitRanges.LimitRanger(), new Orchestrator.Master.Admission.PodSecurity.PodSecurityAdmission(podSecurity ?? new()),
                new Orchestrator.Master.Admission.Storage.PersistentVolumeClaimResize(), new Orchestrator.Master.Admission.Ingress.IngressAnnotationWarnings(),
                new Orchestrator.Master.Admission.Policies.ValidatingAdmissionPolicyAdmission(catalog),
                new Orchestrator.Master.Admission.ResourceQuotas.ResourceQuotaAdmission(catalog)]), ObjectStore.ActorName);
        RegistryHosting.StartCustomResources(system, store, catalog);

        var builder = WebApplication.CreateBuilder();
        builder.Logging.ClearProviders();
        if (https)
        {
            var certificate = ServingCertificates.LoadOrCreate(dataDirectory, "127.0.0.1");
            builder.WebHost.ConfigureKestrel(k =>
            {
                ApiHosting.LimitRequests(k.Limits);
                k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(ApiHosting.Tls(certificate, ServingCertificates.LoadCaCertificate(dataDirectory))));
            });
        }
        else
        {
            builder.WebHost.UseTestServer();
        }
        builder.Services.AddSingleton(catalog);
        builder.Services.AddSingleton(new ObjectStoreClient(system, _ => Task.FromResult(store), TimeSpan.FromSeconds(5)));
        builder.Services.AddSingleton(health);
        if (kubeletTimeouts is not null) builder.Services.AddSingleton(kubeletTimeouts);
        if (authorization is not null) builder.Services.AddSingleton(authorization);
        builder.Services.AddKubernetesApi();
        builder.Services.AddSingleton(new ApiServerOptions(dataDirectory, "127.0.0.1", 0).CreateServiceAccountTokens());
        builder.Services.AddSingleton(new AdminToken(BearerToken.LoadOrCreate(dataDirectory)));
        builder.Services.AddSingleton(FrontProxyCertificates.LoadOrCreate(dataDirectory));
        builder.Services.AddSingleton(new Orchestrator.Master.Api.Rest.KubeletCredentials(KubeletCa));
        beforeApi?.Services(builder.Services);
        var app = builder.Build();
        beforeApi?.App(app);
        app.UseKubernetesApiServer(new ApiServerOptions(dataDirectory, "127.0.0.1", 0)
        {
            RequestTimeout = requestTimeout ?? Orchestrator.Master.Api.Http.RequestDeadline.DefaultMaximum,
        });
        await app.StartAsync();

        HttpClient client;
        Uri? address = null;
        if (https)
        {
            address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
            client = new HttpClient(new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true })
                { BaseAddress = address };
        }
        else
        {
            client = app.GetTestClient();
        }
        var server = new ApiTestServer(system, store, app, client, dataDirectory, catalog, health) { Address = address };
        // ready as /readyz says: the store recovered and the API's informers (RBAC above all) synced
        var informers = app.Services.GetRequiredService<ObjectStoreClient>().Informers;
        for (var waited = 0; (!health.Ready || informers.Pending.Count > 0) && waited < 20_000; waited += 20) await Task.Delay(20);
        client.DefaultRequestHeaders.Authorization = new("Bearer", server.Token);
        return server;
    }

    /// <summary>One request with the test token; the answer's status and, when it is a JSON object, its body.</summary>
    public async Task<(HttpStatusCode Status, JsonNode? Body)> SendAsync(HttpMethod method, string path, string? body = null,
        string contentType = "application/json", string? accept = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, MediaTypeHeaderValue.Parse(contentType));
        if (accept is not null) request.Headers.TryAddWithoutValidation("Accept", accept);
        using var response = await Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length > 0 && text.TrimStart().StartsWith('{') ? JsonNode.Parse(text) : null);
    }

    /// <summary>One request with a binary body (protobuf) and the test token, as <see cref="SendAsync(HttpMethod, string, string?, string, string?)"/>.</summary>
    public async Task<(HttpStatusCode Status, JsonNode? Body)> SendBytesAsync(HttpMethod method, string path, byte[] body, string contentType)
    {
        using var request = new HttpRequestMessage(method, path) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        using var response = await Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length > 0 && text.TrimStart().StartsWith('{') ? JsonNode.Parse(text) : null);
    }

    /// <summary>A kubeconfig for this server, written next to its data.</summary>
    public string WriteKubeconfig()
    {
        var ca = Convert.ToBase64String(File.ReadAllBytes(Path.Combine(DataDirectory, ServingCertificates.CaCertificateFile)));
        var path = Path.Combine(DataDirectory, "kubeconfig");
        File.WriteAllText(path, $"""
            apiVersion: v1
            kind: Config
            clusters:
            - cluster: {"{"}certificate-authority-data: {ca}, server: "https://127.0.0.1:{Address!.Port}"{"}"}
              name: test
            users:
            - name: test
              user: {"{"}token: {Token}{"}"}
            contexts:
            - context: {"{"}cluster: test, user: test, namespace: default{"}"}
              name: test
            current-context: test
            """);
        return path;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        await System.Terminate();
        try { Directory.Delete(DataDirectory, recursive: true); } catch (IOException) { }
    }
}
