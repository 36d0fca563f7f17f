using System.Text.Json.Nodes;
using Orchestrator.Master.Identity;

namespace Orchestrator.Master.Api.Authentication;

/// <summary>
/// The ServiceAccount issuer's OIDC discovery documents, as kube-apiserver serves them (to the
/// system:service-account-issuer-discovery role): /.well-known/openid-configuration names the issuer, the JWKS URI
/// (the issuer's /openid/v1/jwks) and the signing algorithm; /openid/v1/jwks holds the public signing key. Both may be
/// cached for an hour.
/// </summary>
internal sealed class OidcDiscovery(ServiceAccountTokens tokens)
{
    public const string ConfigurationPath = "/.well-known/openid-configuration";
    public const string KeySetPath = "/openid/v1/jwks";

    public JsonObject Configuration() => new()
    {
        ["issuer"] = tokens.Issuer,
        ["jwks_uri"] = tokens.Issuer.TrimEnd('/') + KeySetPath,
        ["response_types_supported"] = new JsonArray("id_token"),
        ["subject_types_supported"] = new JsonArray("public"),
        ["id_token_signing_alg_values_supported"] = new JsonArray(tokens.Key.Algorithm),
    };

    public JsonObject KeySet() => new() { ["keys"] = new JsonArray(tokens.Key.PublicJwk()) };

    public Task ConfigurationAsync(HttpContext context) => WriteAsync(context, Configuration(), "application/json");

    public Task KeySetAsync(HttpContext context) => WriteAsync(context, KeySet(), "application/jwk-set+json");

    private static async Task WriteAsync(HttpContext context, JsonObject document, string contentType)
    {
        if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
            throw Http.ApiException.MethodNotAllowed(context.Request.Method);
        context.Response.StatusCode = 200;
        context.Response.ContentType = contentType;
        context.Response.Headers.CacheControl = "public, max-age=3600";
        await context.Response.WriteAsync(document.ToJsonString());
    }
}
