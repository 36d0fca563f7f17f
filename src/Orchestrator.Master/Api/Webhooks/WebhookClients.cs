using System.Collections.Concurrent;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using k8s.Models;

namespace Orchestrator.Master.Api.Webhooks;

/// <summary>
/// HTTP clients for webhooks, TLS verified against the configuration's caBundle (else the system roots) and the name the
/// URL gives. <c>clientConfig.url</c> is dialled directly. <c>clientConfig.service</c> is addressed as
/// <c>https://NAME.NAMESPACE.svc:PORT/PATH</c> (the name the certificate must carry, as kube's service resolver) and every
/// connection is a <see cref="PodTunnel"/> to one ready endpoint of the Service: the master may not reach another machine's
/// pod network, the node's kubelet endpoint it always reaches, and TLS runs end to end through the tunnel, so the kubelet
/// sees only ciphertext. One client per (caBundle, service): its pooled connections were verified for exactly that pair.
/// </summary>
internal sealed class WebhookClients(PodTunnel tunnel)
{
    private const int MaxClients = 256;
    private readonly ConcurrentDictionary<(string Ca, string? Service), HttpClient> _clients = new();

    /// <summary>The URL the webhook is posted to (kube adds the timeout as a query parameter).</summary>
    public static Uri Address(Admissionregistrationv1WebhookClientConfig config, int timeoutSeconds)
    {
        string baseUrl;
        if (config.Url is { } url) baseUrl = url;
        else
        {
            var s = config.Service!;
            var path = string.IsNullOrEmpty(s.Path) ? "/" : s.Path;
            baseUrl = $"https://{s.Name}.{s.NamespaceProperty}.svc:{s.Port ?? 443}{path}";
        }
        return new Uri(baseUrl + (baseUrl.Contains('?') ? "&" : "?") + $"timeout={timeoutSeconds}s");
    }

    /// <summary>A webhook's answer as text; past <paramref name="maxBytes"/> it is refused with <paramref name="tooLarge"/>.</summary>
    public static async Task<string> ReadBodyAsync(HttpResponseMessage response, int maxBytes, string tooLarge, CancellationToken ct)
    {
        await using var body = await response.Content.ReadAsStreamAsync(ct);
        var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int n;
        while ((n = await body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + n > maxBytes) throw new WebhookCallException(tooLarge);
            buffer.Write(chunk, 0, n);
        }
        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>The innermost message of a failed call that says something (the tunnel's own reason, a refused connection,
    /// a bad certificate).</summary>
    public static string Reason(Exception e)
    {
        for (var inner = e; inner is not null; inner = inner.InnerException)
            if (inner is WebhookCallException or AuthenticationException or SocketException) return inner.Message;
        return e.InnerException?.Message ?? e.Message;
    }

    public HttpClient For(Admissionregistrationv1WebhookClientConfig config)
    {
        var ca = config.CaBundle is { Length: > 0 } bundle ? Convert.ToBase64String(SHA256.HashData(bundle)) : "";
        var service = config.Service is { } s ? $"{s.NamespaceProperty}/{s.Name}:{s.Port ?? 443}" : null;
        var key = (ca, service);
        if (_clients.TryGetValue(key, out var client)) return client;
        var roots = Roots(config.CaBundle);
        if (_clients.Count >= MaxClients) _clients.Clear(); // configurations come and go; idle clients close their connections
        return _clients.GetOrAdd(key, _ =>
        {
            var handler = new SocketsHttpHandler
            {
                UseProxy = false,
                AllowAutoRedirect = false,
                ConnectTimeout = TimeSpan.FromSeconds(10),
                PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
                // a service's endpoints change: new connections find the current ones
                PooledConnectionLifetime = TimeSpan.FromMinutes(1),
                SslOptions = new SslClientAuthenticationOptions
                {
                    EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                    CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                    RemoteCertificateValidationCallback = roots is null ? null : (_, certificate, chain, errors) => Verify(roots, certificate, chain, errors),
                },
            };
            if (config.Service is { } svc)
            {
                var (ns, name, port) = (svc.NamespaceProperty, svc.Name, svc.Port ?? 443);
                handler.ConnectCallback = async (_, ct) => await tunnel.OpenAsync(ns, name, port, ct);
            }
            return new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        });
    }

    /// <summary>The caBundle's certificates; null without one (the system roots). A bundle without a certificate is
    /// kube's "unable to load root certificates".</summary>
    private static X509Certificate2Collection? Roots(byte[]? bundle)
    {
        if (bundle is not { Length: > 0 }) return null;
        var roots = new X509Certificate2Collection();
        try
        {
            roots.ImportFromPem(System.Text.Encoding.UTF8.GetString(bundle));
        }
        catch (CryptographicException e)
        {
            throw new WebhookCallException($"could not get REST client: unable to load root certificates: {e.Message}");
        }
        if (roots.Count == 0) throw new WebhookCallException("could not get REST client: unable to load root certificates: unable to parse bytes as PEM block");
        return roots;
    }

    /// <summary>The name must match (TLS already checked it against the URL's host); the chain must end at one of the
    /// bundle's certificates.</summary>
    internal static bool Verify(X509Certificate2Collection roots, X509Certificate? certificate, X509Chain? presented, SslPolicyErrors errors)
    {
        if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None) return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (presented is not null)
            foreach (var element in presented.ChainElements) chain.ChainPolicy.ExtraStore.Add(element.Certificate);
        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return chain.Build(leaf);
    }
}

/// <summary>Why a webhook could not be called (kube's ErrCallingWebhook reason): failurePolicy decides.</summary>
internal sealed class WebhookCallException(string message, Exception? inner = null) : Exception(message, inner);
