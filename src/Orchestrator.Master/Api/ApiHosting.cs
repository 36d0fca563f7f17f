using Orchestrator.Shared.Api;
using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using Akka.Hosting;
using Orchestrator.Master.Api.Audit;
using Orchestrator.Master.Api.Authorization;
using Orchestrator.Master.Api.FlowControl;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Api.Security;
using Orchestrator.Master.Diagnostics;
using Orchestrator.Master.Identity;
using Orchestrator.Master.Api.Storage;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Api;

/// <summary>Options of the master's API endpoint, from the command line or configuration.</summary>
internal sealed record ApiServerOptions(string DataDirectory, string ApiAddress, int ApiPort,
    string ServiceAccountIssuer = ServiceAccountTokens.DefaultIssuer, string? ServiceAccountSigningKeyFile = null,
    IReadOnlyList<string>? ApiAudiences = null, IReadOnlyList<string>? TlsSans = null)
{
    public static ApiServerOptions From(IConfiguration configuration) => new(
        Path.GetFullPath(configuration["data-dir"] ?? "./.state/master"),
        configuration["api-address"] ?? "127.0.0.1",
        int.TryParse(configuration["api-port"], out var port) ? port : 6443,
        configuration["service-account-issuer"] is { Length: > 0 } issuer ? issuer : ServiceAccountTokens.DefaultIssuer,
        configuration["service-account-signing-key-file"] is { Length: > 0 } keyFile ? keyFile : null,
        configuration["api-audiences"] is { Length: > 0 } audiences
            ? audiences.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : null,
        (configuration["tls-san"] ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
    {
        RequestTimeout = configuration["request-timeout"] is { Length: > 0 } timeout
            ? ParseRequestTimeout(timeout) ?? throw new FormatException($"--request-timeout: {RequestTimeoutProblem(timeout)}")
            : RequestDeadline.DefaultMaximum,
        MaxRequestsInflight = NonNegative(configuration, "max-requests-inflight", FlowControlOptions.DefaultMaxRequestsInflight),
        MaxMutatingRequestsInflight = NonNegative(configuration, "max-mutating-requests-inflight", FlowControlOptions.DefaultMaxMutatingRequestsInflight),
    };

    /// <summary>kube-apiserver's --max-requests-inflight and --max-mutating-requests-inflight: with API Priority and
    /// Fairness their sum is the server's total concurrency, shared among the priority levels.</summary>
    public int MaxRequestsInflight { get; init; } = FlowControlOptions.DefaultMaxRequestsInflight;

    public int MaxMutatingRequestsInflight { get; init; } = FlowControlOptions.DefaultMaxMutatingRequestsInflight;

    public FlowControlOptions FlowControl => MaxRequestsInflight + MaxMutatingRequestsInflight is var total && total > 0
        ? new FlowControlOptions(total, RequestTimeout / 4)
        : throw new FormatException("--max-requests-inflight plus --max-mutating-requests-inflight must be positive");

    private static int NonNegative(IConfiguration configuration, string flag, int fallback) =>
        configuration[flag] is not { Length: > 0 } text ? fallback
        : NonNegativeProblem(text) is null ? int.Parse(text, System.Globalization.CultureInfo.InvariantCulture)
        : throw new FormatException($"--{flag}: {NonNegativeProblem(text)}");

    /// <summary>What is wrong with a count flag's value, or null.</summary>
    public static string? NonNegativeProblem(string text) =>
        int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _)
            ? null
            : "must be a non-negative integer";

    /// <summary>kube-apiserver's --request-timeout: the longest a request that is not long-running may take (a client's
    /// ?timeout= may only shorten it).</summary>
    public TimeSpan RequestTimeout { get; init; } = RequestDeadline.DefaultMaximum;

    /// <summary>The longest --request-timeout: what a cancellation timer takes (int.MaxValue ms, about 596 h).</summary>
    private static readonly TimeSpan LongestRequestTimeout = TimeSpan.FromMilliseconds(int.MaxValue);

    private static TimeSpan? ParseRequestTimeout(string text) =>
        GoDuration.TryParseTimeSpan(text, out _) is { } timeout && timeout > TimeSpan.Zero && timeout <= LongestRequestTimeout ? timeout : null;

    /// <summary>What is wrong with a --request-timeout value, or null.</summary>
    public static string? RequestTimeoutProblem(string text) => ParseRequestTimeout(text) is null
        ? "must be a positive Go duration up to 596h, such as 1m0s or 30s"
        : null;

    /// <summary>The ServiceAccount token issuer: the signing key (generated into the data directory at first start, or the
    /// flag's file), the issuer URL, and the API's audiences (the issuer unless --api-audiences).</summary>
    public ServiceAccountTokens CreateServiceAccountTokens() => new(
        ServiceAccountSigningKey.LoadOrCreate(DataDirectory, ServiceAccountSigningKeyFile, ServingCertificates.WritePrivate),
        ServiceAccountIssuer, ApiAudiences is { Count: > 0 } ? ApiAudiences : [ServiceAccountIssuer], TimeProvider.System);
}

/// <summary>How the host puts the API together: Kestrel on HTTPS with the generated certificate, the store client,
/// the bearer token check and the endpoints.</summary>
internal static class ApiHosting
{
    public static readonly TimeSpan StoreTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The API server; its store is the ObjectStore, or what <paramref name="resolveStore"/> names (on a master
    /// among several: the store where the control plane runs here, else this master's replica of it).</summary>
    public static WebApplicationBuilder AddKubernetesApiServer(this WebApplicationBuilder builder, ApiServerOptions options,
        ServiceAccountTokens? serviceAccountTokens = null, Func<IServiceProvider, CancellationToken, Task<IActorRef>>? resolveStore = null)
    {
        builder.Services.AddSingleton(serviceAccountTokens ?? options.CreateServiceAccountTokens());
        builder.Services.AddSingleton(new AdminToken(BearerToken.LoadOrCreate(options.DataDirectory)));
        builder.Services.AddSingleton(FrontProxyCertificates.LoadOrCreate(options.DataDirectory)); // the aggregator's identity
        var certificate = ServingCertificates.LoadOrCreate(options.DataDirectory, options.ApiAddress, options.TlsSans);
        var clientCa = ServingCertificates.LoadCaCertificate(options.DataDirectory);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            LimitRequests(kestrel.Limits);
            if (IPAddress.TryParse(options.ApiAddress, out var ip))
                kestrel.Listen(ip, options.ApiPort, listen => listen.UseHttps(Tls(certificate, clientCa)));
            else
                kestrel.ListenLocalhost(options.ApiPort, listen => listen.UseHttps(Tls(certificate, clientCa)));
        });
        builder.Services.AddSingleton(sp => new ObjectStoreClient(
            sp.GetRequiredService<ActorSystem>(),
            resolveStore is null ? ct => sp.GetRequiredService<IReadOnlyActorRegistry>().WhenRegisteredAsync<ObjectStore>(ct) : ct => resolveStore(sp, ct),
            StoreTimeout));
        builder.Services.AddSingleton(options.FlowControl); // before the API's services, which default it
        builder.Services.AddKubernetesApi();
        if (AuditOptions.From(builder.Configuration) is var (policy, log) && policy is not null && log is not null)
            builder.Services.AddSingleton(sp => new AuditConfiguration(policy,
                new AuditLogFile(log, sp.GetRequiredService<ILoggerFactory>().CreateLogger("Orchestrator.Master.Audit"))));
        // the kubelet CA is the composition root's (the NodeGateway issues the nodes' certificates from it)
        builder.Services.AddSingleton(sp => new Rest.KubeletCredentials(sp.GetRequiredService<Shared.Protocol.KubeletCertificateAuthority>()));
        return builder;
    }

    /// <summary>The API's TLS: the serving certificate; a client certificate is requested but not required, and is
    /// checked against the cluster CA by <see cref="RequestAuthentication"/> (a certificate it does not accept leaves
    /// the request to the bearer token, as kube-apiserver's union authenticator does). The certificate request names
    /// <paramref name="clientCa"/> as the acceptable issuer, as kube-apiserver's (Go's ClientCAs) names its
    /// --client-ca-file: clients holding several certificates choose by it, and test-cmd's check that client
    /// certificate authentication is on reads it ("Acceptable client certificate CA names" of openssl s_client).</summary>
    public static Microsoft.AspNetCore.Server.Kestrel.Https.HttpsConnectionAdapterOptions Tls(X509Certificate2 certificate,
        X509Certificate2 clientCa)
    {
        var context = SslStreamCertificateContext.Create(certificate, additionalCertificates: null, offline: true,
            trust: SslCertificateTrust.CreateForX509Collection(new X509Certificate2Collection(clientCa), sendTrustInHandshake: true));
        return new()
        {
            ServerCertificate = certificate,
            ClientCertificateMode = Microsoft.AspNetCore.Server.Kestrel.Https.ClientCertificateMode.AllowCertificate,
            ClientCertificateValidation = (_, _, _) => true,
            OnAuthenticate = (_, ssl) => ssl.ServerCertificateContext = context,
        };
    }

    /// <summary>Kestrel's part of the request bounds (<see cref="BodyLimits"/>): bodies trickling in under 240 bytes/s
    /// (after 5 s) end with 408 and headers must come within 30 s. The API refuses bodies over 3 MiB (413) itself;
    /// Kestrel's own limit is four times that, so that after the 413 it reads and drops the rest of a body the client is
    /// still sending, and the client gets to read the answer instead of a reset connection.</summary>
    public static void LimitRequests(Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerLimits limits)
    {
        limits.MaxRequestBodySize = 4 * BodyLimits.MaxBodyBytes;
        limits.MinRequestBodyDataRate = new(bytesPerSecond: 240, gracePeriod: TimeSpan.FromSeconds(5));
        limits.RequestHeadersTimeout = TimeSpan.FromSeconds(30);
        // kube-apiserver's MaxHeaderBytes (1 MiB, request line included): a long label or field selector is answered,
        // not cut off with a 414 (HTTP/1.1) or a reset stream (HTTP/2) at Kestrel's 8–32 KiB defaults
        limits.MaxRequestLineSize = MaxHeaderBytes;
        limits.MaxRequestHeadersTotalSize = MaxHeaderBytes;
        limits.MaxRequestBufferSize = Math.Max(limits.MaxRequestBufferSize ?? 0, MaxHeaderBytes);
        limits.Http2.MaxRequestHeaderFieldSize = MaxHeaderBytes;
    }

    private const int MaxHeaderBytes = 1 << 20;

    public static WebApplication UseKubernetesApiServer(this WebApplication app, ApiServerOptions options)
    {
        app.UseMiddleware<RawRequestPath>(); // first: everything after it sees the path as the client sent it
        app.UseRouting();                    // routes on that path, not on Kestrel's normalised one
        app.UseMiddleware<ApiRequestMetrics>();
        app.UseWebSockets(); // pods/exec
        app.UseMiddleware<WebSocketBearerProtocol>(); // browsers' WebSockets carry the token as a subprotocol
        app.UseMiddleware<AuditId>(); // every answer carries its Audit-Id
        // the deadline of requests that are not long-running (kube's ?timeout= and --request-timeout): outside
        // authentication as in kube's handler chain, so that it bounds all that follows
        app.UseMiddleware<RequestDeadline>(options.RequestTimeout);
        app.UseMiddleware<PrettyJsonResponses>(); // curl, wget, browsers and ?pretty=true get indented JSON (401s too)
        app.UseMiddleware<YamlResponses>(); // Accept: application/yaml gets YAML (after the above: YAML is never indented JSON)
        app.UseMiddleware<RequestAuthentication>(BearerToken.LoadOrCreate(options.DataDirectory),
            ServingCertificates.LoadCaCertificate(options.DataDirectory));
        if (app.Services.GetService<AuditConfiguration>() is { } audit)
            app.UseMiddleware<RequestAuditing>(audit); // before authorization: refusals are audited too
        app.UseMiddleware<RequestImpersonation>(); // the user a request acts as
        app.UseMiddleware<PriorityAndFairness>(); // the server's concurrency, shared by priority level
        app.UseMiddleware<RequestAuthorization>(); // RBAC (system:masters may do anything), after flow control as in kube
        app.MapKubernetesApi();
        app.MapMasterMetrics(); // behind the token, as kube-apiserver's /metrics
        return app;
    }
}
