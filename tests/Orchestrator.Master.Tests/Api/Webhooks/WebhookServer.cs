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

namespace Orchestrator.Master.Tests.Api.Webhooks;

/// <summary>A real HTTPS admission webhook on a loopback port, with a self-signed certificate for 127.0.0.1 (its PEM is
/// the caBundle): each path answers the AdmissionReview's request with what the test's function returns as the response.</summary>
internal sealed class WebhookServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    public ConcurrentQueue<JsonObject> Requests { get; } = new();
    public string CaBundlePem { get; }
    public Uri Address { get; }

    private WebhookServer(WebApplication app, string pem, Uri address) => (_app, CaBundlePem, Address) = (app, pem, address);

    /// <param name="dnsName">a name the certificate carries besides 127.0.0.1 (a service's NAME.NAMESPACE.svc)</param>
    public static Task<WebhookServer> StartAsync(Func<string, JsonObject, JsonObject> answer, string? dnsName = null) =>
        StartReviewAsync((path, review) =>
        {
            var response = answer(path, (JsonObject)review["request"]!);
            response["uid"] = review["request"]!["uid"]!.GetValue<string>();
            return new JsonObject { ["apiVersion"] = "admission.k8s.io/v1", ["kind"] = "AdmissionReview", ["response"] = response };
        }, dnsName);

    /// <summary>A webhook that answers each posted review (an AdmissionReview, a ConversionReview) with what
    /// <paramref name="answer"/> makes of the path and the whole review.</summary>
    public static async Task<WebhookServer> StartReviewAsync(Func<string, JsonObject, JsonObject> answer, string? dnsName = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=webhook-test", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        if (dnsName is not null) san.AddDnsName(dnsName);
        request.CertificateExtensions.Add(san.Build());
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        var certificate = X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pfx), null);
        var pem = created.ExportCertificatePem();

        var builder = WebApplication.CreateBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(certificate)));
        var app = builder.Build();
        WebhookServer? server = null;
        app.MapPost("/{**path}", async (HttpContext context, string path) =>
        {
            var review = (await JsonNode.ParseAsync(context.Request.Body))!.AsObject();
            server!.Requests.Enqueue(review);
            return Results.Json(answer("/" + path, review));
        });
        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        server = new WebhookServer(app, pem, address);
        return server;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
