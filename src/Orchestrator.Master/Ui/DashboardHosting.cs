using Microsoft.Net.Http.Headers;

namespace Orchestrator.Master.Ui;

/// <summary>
/// The web dashboard: its static files at <c>/ui/</c> (served to anyone, like a login page: they hold no data; every
/// request the page makes carries the user's own token to the API; the node proxy subresource its topology view reads is
/// the API's, Api/Rest/NodeProxy). <c>UseDashboard</c> goes before the API's authentication so the page loads without a token.
/// </summary>
internal static class DashboardHosting
{
    public const string PathBase = "/ui";

    private const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; " +
        "font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

    public static IServiceCollection AddDashboard(this IServiceCollection services)
    {
        services.AddSingleton<DashboardAssets>();
        return services;
    }

    public static WebApplication UseDashboard(this WebApplication app)
    {
        var assets = app.Services.GetRequiredService<DashboardAssets>();
        app.Use((context, next) => context.Request.Path.StartsWithSegments(PathBase, out var rest)
            ? ServeAsync(context, assets, rest.Value ?? "")
            : next(context));
        return app;
    }

    internal static Task ServeAsync(HttpContext context, DashboardAssets assets, string rest)
    {
        var request = context.Request;
        var response = context.Response;
        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method))
        {
            response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            response.Headers.Allow = "GET, HEAD";
            return Task.CompletedTask;
        }
        if (rest.Length == 0)
        {
            response.Redirect(PathBase + "/" + request.QueryString, permanent: true);
            return Task.CompletedTask;
        }
        if (!assets.Built)
            return Text(context, StatusCodes.Status503ServiceUnavailable,
                "The dashboard is not built into this master: build it with deploy/lib/build.sh (it needs Node.js 18+ and npm).\n");
        var asset = assets.Find(rest == "/" ? DashboardAsset.IndexPage : rest.TrimStart('/'));
        if (asset is null) return Text(context, StatusCodes.Status404NotFound, "404 page not found\n");

        var headers = response.Headers;
        headers.ETag = asset.ETag;
        headers.CacheControl = asset.Immutable ? "public, max-age=31536000, immutable" : "no-cache";
        headers.Vary = "Accept-Encoding";
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        if (!asset.Immutable)
        {
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            headers.XFrameOptions = "DENY";
        }
        if (request.Headers.IfNoneMatch.Any(v => v == asset.ETag))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return Task.CompletedTask;
        }
        var accepted = request.Headers.AcceptEncoding.ToString();
        var (body, encoding) = asset switch
        {
            { Brotli: { } br } when Accepts(accepted, "br") => (br, "br"),
            { Gzip: { } gz } when Accepts(accepted, "gzip") => (gz, "gzip"),
            _ => (asset.Content, null),
        };
        if (encoding is not null) headers.ContentEncoding = encoding;
        response.ContentType = asset.ContentType;
        response.ContentLength = body.Length;
        return HttpMethods.IsHead(request.Method) ? Task.CompletedTask : response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }

    private static bool Accepts(string acceptEncoding, string coding) =>
        StringWithQualityHeaderValue.TryParseList(acceptEncoding.Split(','), out var values) &&
        values.Any(v => string.Equals(v.Value.Value, coding, StringComparison.OrdinalIgnoreCase) && (v.Quality ?? 1) > 0);

    private static Task Text(HttpContext context, int status, string text)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(text, context.RequestAborted);
    }
}
