namespace Orchestrator.Master.Api.Http;

/// <summary>
/// kube-apiserver answers YAML to a client whose Accept prefers <c>application/yaml</c>
/// (<see cref="ContentNegotiation.Yaml"/>): every negotiated answer under /api and /apis — objects, lists, Tables,
/// PartialObjectMetadata, Statuses (errors too), discovery — is its JSON converted by sigs.k8s.io/yaml, which is what
/// this does (<see cref="JsonToYaml"/>): the JSON answer is collected whole and written as YAML with its
/// Content-Length and <c>application/yaml</c> (with the JSON type's parameters, as aggregated discovery names its
/// kind). A watch has no YAML form (the watch refuses it with 406, whose Status is converted here); bodies that are not
/// JSON (logs, proxied answers) and WebSockets pass untouched. Registered after <see cref="PrettyJsonResponses"/>,
/// which then sees YAML and leaves it, as kube's YAML serializer has no pretty form.
/// </summary>
internal sealed class YamlResponses(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context) =>
        !Wanted(context.Request) || context.WebSockets.IsWebSocketRequest ? next(context) : CollectAsync(context);

    internal static bool Wanted(HttpRequest request)
    {
        var path = request.Path.Value ?? "";
        return (path == "/api" || path.StartsWith("/api/", StringComparison.Ordinal) ||
                path == "/apis" || path.StartsWith("/apis/", StringComparison.Ordinal)) &&
               ContentNegotiation.Yaml(request.Headers.Accept);
    }

    private async Task CollectAsync(HttpContext context)
    {
        var response = context.Response;
        var body = await CollectedResponse.RunAsync(context, next,
            () => YamlType(response.ContentType) is not null && !PrettyJsonResponses.PassesThrough(context));
        if (body.Kept is not { Length: > 0 } json) return;
        var yaml = JsonToYaml.Convert(json.Span);
        if (yaml is not null && !response.HasStarted)
        {
            response.ContentType = YamlType(response.ContentType);
            response.ContentLength = yaml.Length;
        }
        await response.Body.WriteAsync(yaml ?? json.ToArray(), context.RequestAborted); // not JSON after all: as it was
    }

    /// <summary>The YAML type of a JSON answer's type (application/json with any parameters but a stream one), else null.</summary>
    internal static string? YamlType(string? contentType)
    {
        if (contentType is null) return null;
        var semicolon = contentType.IndexOf(';');
        var type = (semicolon < 0 ? contentType : contentType[..semicolon]).Trim();
        if (!type.Equals("application/json", StringComparison.OrdinalIgnoreCase)) return null;
        if (semicolon < 0) return ContentNegotiation.YamlMediaType;
        var parameters = contentType[semicolon..];
        return parameters.Contains("stream=", StringComparison.OrdinalIgnoreCase) ? null : ContentNegotiation.YamlMediaType + parameters;
    }
}
