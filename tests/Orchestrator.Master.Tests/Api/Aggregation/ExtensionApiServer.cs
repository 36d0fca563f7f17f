using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Orchestrator.Master.Tests.Api.Aggregation;

/// <summary>
/// A real HTTPS extension API server of group wardle.example.com/v1alpha1 on a loopback port, as sample-apiserver
/// authenticates the aggregator: a client certificate is required and must chain to the requestheader CA the master
/// publishes (kube-system/extension-apiserver-authentication) with an allowed common name; the user comes from the
/// X-Remote-* headers (each line kept). Its certificate names ext.default.svc (its PEM is the caBundle). It serves
/// discovery, a list, one flunder, create (echoed) and a watch whose second event waits for <see cref="ReleaseWatch"/>.
/// </summary>
internal sealed class ExtensionApiServer : IAsyncDisposable
{
    public const string Group = "wardle.example.com";
    public const string Version = "v1alpha1";
    private readonly WebApplication _app;
    private readonly TaskCompletionSource _watchGate = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Each request the server accepted: method, path and query, and its headers (all values of each).</summary>
    public ConcurrentQueue<(string Method, string Target, Dictionary<string, string[]> Headers)> Requests { get; } = new();
    public string CaBundlePem { get; }
    public int Port { get; }
    /// <summary>When set, every answer is this status (a broken server).</summary>
    public int? FailWith { get; set; }

    private ExtensionApiServer(WebApplication app, string pem, int port) => (_app, CaBundlePem, Port) = (app, pem, port);

    public void ReleaseWatch() => _watchGate.TrySetResult();

    public static async Task<ExtensionApiServer> StartAsync(string requestHeaderCaPem, IReadOnlyList<string> allowedNames)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=ext", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("ext.default.svc");
        request.CertificateExtensions.Add(san.Build());
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        var certificate = X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pfx), null);
        var trusted = new X509Certificate2Collection();
        trusted.ImportFromPem(requestHeaderCaPem);

        var builder = WebApplication.CreateBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(new HttpsConnectionAdapterOptions
        {
            ServerCertificate = certificate,
            ClientCertificateMode = ClientCertificateMode.RequireCertificate,
            ClientCertificateValidation = (client, _, _) =>
            {
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.AddRange(trusted);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(client) && allowedNames.Contains(client.GetNameInfo(X509NameType.SimpleName, false));
            },
        })));
        var app = builder.Build();
        ExtensionApiServer? server = null;
        app.Run(context => server!.HandleAsync(context));
        await app.StartAsync();
        var port = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;
        server = new ExtensionApiServer(app, created.ExportCertificatePem(), port);
        return server;
    }

    private async Task HandleAsync(HttpContext context)
    {
        var target = context.Request.Path.Value + context.Request.QueryString.Value;
        Requests.Enqueue((context.Request.Method, target,
            context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.Select(v => v ?? "").ToArray(), StringComparer.OrdinalIgnoreCase)));
        if (FailWith is { } status)
        {
            context.Response.StatusCode = status;
            return;
        }
        var root = $"/apis/{Group}/{Version}";
        var path = context.Request.Path.Value ?? "";
        var user = context.Request.Headers["X-Remote-User"].ToString();
        if (path == root)
        {
            await Json(context, 200, new JsonObject
            {
                ["kind"] = "APIResourceList", ["apiVersion"] = "v1", ["groupVersion"] = $"{Group}/{Version}",
                ["resources"] = new JsonArray(
                    new JsonObject { ["name"] = "flunders", ["singularName"] = "flunder", ["namespaced"] = true, ["kind"] = "Flunder",
                        ["verbs"] = new JsonArray("create", "get", "list", "watch"), ["shortNames"] = new JsonArray("fl") },
                    new JsonObject { ["name"] = "flunders/status", ["singularName"] = "", ["namespaced"] = true, ["kind"] = "Flunder",
                        ["verbs"] = new JsonArray("get") }),
            });
            return;
        }
        var collection = $"{root}/namespaces/default/flunders";
        if (path == collection && context.Request.Method == "GET" && context.Request.Query["watch"] == "true")
        {
            context.Response.ContentType = "application/json;stream=watch";
            await context.Response.WriteAsync("""{"type":"ADDED","object":{"apiVersion":"wardle.example.com/v1alpha1","kind":"Flunder","metadata":{"name":"first"}}}""" + "\n");
            await context.Response.Body.FlushAsync();
            await _watchGate.Task.WaitAsync(TimeSpan.FromSeconds(20));
            await context.Response.WriteAsync("""{"type":"ADDED","object":{"apiVersion":"wardle.example.com/v1alpha1","kind":"Flunder","metadata":{"name":"second"}}}""" + "\n");
            return;
        }
        if (path == collection && context.Request.Method == "GET")
        {
            await Json(context, 200, new JsonObject
            {
                ["apiVersion"] = $"{Group}/{Version}", ["kind"] = "FlunderList", ["metadata"] = new JsonObject(),
                ["items"] = new JsonArray(Flunder("one", user)),
            });
            return;
        }
        if (path == collection && context.Request.Method == "POST")
        {
            var body = (await JsonNode.ParseAsync(context.Request.Body))!.AsObject();
            body["metadata"]!["annotations"] = new JsonObject { ["created-by"] = user };
            await Json(context, 201, body);
            return;
        }
        if (path == collection + "/one" && context.Request.Method == "GET")
        {
            await Json(context, 200, Flunder("one", user));
            return;
        }
        await Json(context, 404, new JsonObject { ["kind"] = "Status", ["apiVersion"] = "v1", ["status"] = "Failure", ["reason"] = "NotFound", ["code"] = 404 });
    }

    private static JsonObject Flunder(string name, string user) => new()
    {
        ["apiVersion"] = $"{Group}/{Version}", ["kind"] = "Flunder",
        ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = "default", ["annotations"] = new JsonObject { ["seen-as"] = user } },
    };

    private static async Task Json(HttpContext context, int status, JsonNode body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString(), Encoding.UTF8);
    }

    public async ValueTask DisposeAsync()
    {
        ReleaseWatch();
        await _app.DisposeAsync();
    }
}
