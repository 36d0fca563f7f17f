using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Orchestrator.Master.Api.Audit;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Api.Security;
using Orchestrator.Master.Diagnostics;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Http;

/// <summary>The per-request layers' work done once or without waiting (2026-12-05, issue 19) answers as before: audit ids,
/// the path's parse, the request metrics' series, and authentication's paths without an await.</summary>
public sealed class RequestPathTests
{
    private static readonly Regex UuidV4 = new("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");

    [Fact]
    public async Task Audit_ids_are_distinct_version_4_uuids_on_every_thread_and_a_clients_own_id_is_kept()
    {
        var ids = new System.Collections.Concurrent.ConcurrentBag<string>();
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 1_000; i++) ids.Add(AuditId.NewId());
        })));
        Assert.Equal(4_000, ids.Distinct().Count());
        Assert.All(ids, id => Assert.Matches(UuidV4, id));

        var middleware = new AuditId(_ => Task.CompletedTask);
        string Answered(string? sent)
        {
            var context = new DefaultHttpContext();
            if (sent is not null) context.Request.Headers[AuditId.Header] = sent;
            middleware.InvokeAsync(context).GetAwaiter().GetResult();
            return context.Response.Headers[AuditId.Header].ToString();
        }
        Assert.Equal("the-clients-id", Answered("the-clients-id"));
        Assert.Matches(UuidV4, Answered(null));
        Assert.Matches(UuidV4, Answered(new string('x', 129))); // too long: a new one, as before
        Assert.NotEqual(Answered(null), Answered(null));
    }

    [Fact]
    public void The_path_is_parsed_once_per_request_and_again_when_it_changes()
    {
        var context = new DefaultHttpContext();
        context.Request.Path = "/api/v1/namespaces/ns/configmaps/one";
        var first = RequestInfo.Of(context);
        Assert.Equal(RequestInfo.Parse("/api/v1/namespaces/ns/configmaps/one"), first);
        Assert.Same(first, RequestInfo.Of(context));

        context.Request.Path = "/apis/apps/v1/deployments";
        var second = RequestInfo.Of(context);
        Assert.Equal(new RequestInfo("apps", "v1", null, "deployments", null, null), second);
        context.Request.Path = "/version";
        Assert.Null(RequestInfo.Of(context));
        Assert.Null(RequestInfo.Of(context));
    }

    [Fact]
    public async Task Each_request_counts_once_in_its_series_and_watches_are_not_timed()
    {
        var resource = "series" + Guid.NewGuid().ToString("N")[..8];
        MasterMetrics.ApiRequest("GET", "g.io", "v1", resource, "", 200, TimeSpan.FromMilliseconds(3));
        MasterMetrics.ApiRequest("GET", "g.io", "v1", resource, "", 200, TimeSpan.FromMilliseconds(30));
        MasterMetrics.ApiRequest("GET", "g.io", "v1", resource, "", 404, TimeSpan.FromMilliseconds(1));
        MasterMetrics.ApiRequest("WATCH", "g.io", "v1", resource, "", 200, TimeSpan.FromSeconds(100));
        using var exported = new MemoryStream();
        await Prometheus.Metrics.DefaultRegistry.CollectAndExportAsTextAsync(exported);
        var lines = System.Text.Encoding.UTF8.GetString(exported.ToArray()).Split('\n').Where(l => l.Contains(resource)).ToList();
        var labels = $"group=\"g.io\",version=\"v1\",resource=\"{resource}\",subresource=\"\"";
        Assert.Contains($"apiserver_request_total{{verb=\"GET\",{labels},code=\"200\"}} 2", lines);
        Assert.Contains($"apiserver_request_total{{verb=\"GET\",{labels},code=\"404\"}} 1", lines);
        Assert.Contains($"apiserver_request_total{{verb=\"WATCH\",{labels},code=\"200\"}} 1", lines);
        Assert.Contains($"apiserver_request_duration_seconds_count{{verb=\"GET\",{labels}}} 3", lines);
        Assert.Contains($"apiserver_request_duration_seconds_bucket{{verb=\"GET\",{labels},le=\"0.005\"}} 2", lines);
        Assert.DoesNotContain(lines, l => l.StartsWith("apiserver_request_duration_seconds", StringComparison.Ordinal) && l.Contains("WATCH"));
    }

    private static X509Certificate2 Ca()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=cluster-ca", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
    }

    /// <summary>The request's outcome: the user the next layer saw (null: not called) and the status code.</summary>
    private static async Task<(UserInfo? User, bool Next, int Code)> Authenticate(DefaultHttpContext context, X509Certificate2 ca)
    {
        var called = false;
        UserInfo? user = null;
        var middleware = new RequestAuthentication(c =>
        {
            called = true;
            user = RequestUser.Get(c);
            return Task.CompletedTask;
        }, "the-token", ca, []);
        await middleware.InvokeAsync(context);
        return (user, called, context.Response.StatusCode);
    }

    [Fact]
    public async Task Authentication_without_an_await_and_the_full_path_answer_as_before()
    {
        using var ca = Ca();
        DefaultHttpContext Request(string path, string? authorization, bool https = true)
        {
            var context = new DefaultHttpContext();
            context.Request.Scheme = https ? "https" : "http";
            context.Request.Path = path;
            if (authorization is not null) context.Request.Headers.Authorization = authorization;
            return context;
        }
        // the admin token, over HTTPS without a client certificate and over plain HTTP: the admin
        Assert.Same(UserInfo.Admin, (await Authenticate(Request("/api/v1/pods", "Bearer the-token"), ca)).User);
        Assert.Same(UserInfo.Admin, (await Authenticate(Request("/api/v1/pods", "Bearer the-token", https: false), ca)).User);
        // a token nobody accepts: 401, the next layer not called
        var wrong = await Authenticate(Request("/api/v1/pods", "Bearer another"), ca);
        Assert.False(wrong.Next);
        Assert.Equal(401, wrong.Code);
        // no credentials: health checks pass without a user, the API is refused
        var health = await Authenticate(Request("/healthz", null), ca);
        Assert.True(health.Next);
        Assert.Null(health.User);
        var anonymous = await Authenticate(Request("/api/v1/pods", null), ca);
        Assert.False(anonymous.Next);
        Assert.Equal(401, anonymous.Code);
        // a forwarded certificate header is never taken on the quick path: without a certificate that the CA accepts it is a 401
        var forwarded = Request("/api/v1/pods", "Bearer the-token");
        forwarded.Request.Headers[RequestAuthentication.ForwardedClientCertificateHeader] = "bm90IGEgY2VydGlmaWNhdGU=";
        var forwardedAnswer = await Authenticate(forwarded, ca);
        Assert.False(forwardedAnswer.Next);
        Assert.Equal(401, forwardedAnswer.Code);
    }

    [Fact]
    public async Task A_client_certificate_still_to_come_is_awaited_before_the_token_decides()
    {
        using var ca = Ca();
        var context = new DefaultHttpContext();
        context.Request.Scheme = "https";
        context.Request.Path = "/api/v1/pods";
        context.Request.Headers.Authorization = "Bearer the-token";
        var pending = new TaskCompletionSource<X509Certificate2?>(TaskCreationOptions.RunContinuationsAsynchronously);
        context.Features.Set<ITlsConnectionFeature>(new PendingCertificate(pending.Task));
        var answer = Authenticate(context, ca);
        Assert.False(answer.IsCompleted);
        pending.SetResult(null);
        Assert.Same(UserInfo.Admin, (await answer).User);
    }

    private sealed class PendingCertificate(Task<X509Certificate2?> certificate) : ITlsConnectionFeature
    {
        public X509Certificate2? ClientCertificate { get; set; }
        public Task<X509Certificate2?> GetClientCertificateAsync(CancellationToken cancellationToken) => certificate;
    }
}
