using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Orchestrator.Master.Tests.Api.CustomResources;

/// <summary>
/// A real HTTPS CRD conversion webhook on a loopback port (self-signed for 127.0.0.1, its PEM the caBundle) converting
/// Foos between conv.example.com/v1 (<c>spec.color</c>) and v2 (<c>spec.colour</c>). Its paths answer wrongly on purpose:
/// /rename changes the name, /stay keeps the apiVersion, /lose returns no object, /refuse answers Failure; /label sets a label
/// (which kube keeps) and the generation (which kube restores).
/// </summary>
internal sealed class ConversionWebhookServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    public ConcurrentQueue<JsonObject> Requests { get; } = new();
    public string CaBundlePem { get; }
    public Uri Address { get; }

    private ConversionWebhookServer(WebApplication app, string pem, Uri address) => (_app, CaBundlePem, Address) = (app, pem, address);

    public static async Task<ConversionWebhookServer> StartAsync(string? dnsName = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=conversion-webhook-test", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        if (dnsName is not null) san.AddDnsName(dnsName);
        request.CertificateExtensions.Add(san.Build());
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        var certificate = X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pfx), null);

        var builder = WebApplication.CreateBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(certificate)));
        var app = builder.Build();
        ConversionWebhookServer? server = null;
        app.MapPost("/{**path}", async (HttpContext context, string path) =>
        {
            var review = (await JsonNode.ParseAsync(context.Request.Body))!.AsObject();
            server!.Requests.Enqueue(review);
            return Results.Json(Answer("/" + path, review));
        });
        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        server = new ConversionWebhookServer(app, created.ExportCertificatePem(), address);
        return server;
    }

    /// <summary>The objects converted as the path says, in a v1 ConversionReview echoing the uid.</summary>
    public static JsonObject Answer(string path, JsonObject review)
    {
        var request = review["request"]!;
        var desired = request["desiredAPIVersion"]!.GetValue<string>();
        var converted = new JsonArray();
        foreach (var item in request["objects"]!.AsArray())
        {
            var obj = item!.DeepClone().AsObject();
            if (path != "/stay") obj["apiVersion"] = desired;
            if (obj["spec"] is JsonObject spec)
            {
                var (from, to) = desired.EndsWith("/v2") ? ("color", "colour") : ("colour", "color");
                if (spec[from] is { } value)
                {
                    spec.Remove(from);
                    spec[to] = value.DeepClone();
                }
            }
            if (path == "/rename") obj["metadata"]!["name"] = "someone-else";
            if (path == "/label")
            {
                obj["metadata"]!["labels"] = new JsonObject { ["converted"] = "yes" };
                obj["metadata"]!["generation"] = 99;
            }
            converted.Add(obj);
        }
        var response = new JsonObject
        {
            ["uid"] = request["uid"]!.GetValue<string>(),
            ["result"] = path == "/refuse"
                ? new JsonObject { ["status"] = "Failure", ["message"] = "colours are not convertible today" }
                : new JsonObject { ["status"] = "Success" },
            ["convertedObjects"] = path == "/lose" ? new JsonArray() : converted,
        };
        return new JsonObject { ["apiVersion"] = "apiextensions.k8s.io/v1", ["kind"] = "ConversionReview", ["response"] = response };
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
