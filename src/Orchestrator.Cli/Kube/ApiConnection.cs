using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using Orchestrator.Cli.Parsing;

namespace Orchestrator.Cli.Kube;

/// <summary>
/// The API as orchctl sees it: the official KubernetesClient built from the kubeconfig (as kubectl reads it), its typed
/// operations, and raw requests through the same HttpClient and credentials for what the library has no model for
/// (server-side Tables, watches as tables, any kind from a manifest).
/// </summary>
internal sealed class ApiConnection : IDisposable
{
    public const string TableAccept = "application/json;as=Table;v=v1;g=meta.k8s.io, application/json";

    public Kubernetes Client { get; }
    public string Server { get; }
    public string Namespace { get; }
    /// <summary>The kubeconfig user's bearer token, when it has one (the dashboard signs in with it).</summary>
    public string? AccessToken { get; }

    private ApiConnection(Kubernetes client, string server, string ns, string? accessToken)
    {
        Client = client;
        Server = server;
        Namespace = ns;
        AccessToken = accessToken;
    }

    public static ApiConnection Open(ParsedArgs args, Func<string, string?>? env = null)
    {
        env ??= Environment.GetEnvironmentVariable;
        var path = args.Get("kubeconfig") ?? FirstExisting(env("KUBECONFIG"))
                   ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".kube", "config");
        if (!File.Exists(path)) throw new CliException($"error: no kubeconfig at {path}: start the cluster with deploy/up.sh (or orchctl up)");
        KubernetesClientConfiguration config;
        try
        {
            var file = KubernetesClientConfiguration.LoadKubeConfig(path);
            var wanted = args.Get("context");
            if (wanted is null)
            {
                var preferred = env("ORCH_CONTEXT") ?? "orchestrator";
                wanted = file.Contexts.Any(c => c.Name == preferred) ? preferred : file.CurrentContext;
            }
            if (wanted is null || file.Contexts.All(c => c.Name != wanted))
                throw new CliException($"error: context \"{wanted}\" does not exist in {path}: start the cluster with deploy/up.sh (or orchctl up)");
            config = KubernetesClientConfiguration.BuildConfigFromConfigObject(file, wanted);
        }
        catch (Exception e) when (e is k8s.Exceptions.KubeConfigException or IOException)
        {
            throw new CliException($"error: cannot read kubeconfig {path}: {e.Message}");
        }
        var ns = args.Get("namespace") ?? config.Namespace ?? "default";
        return new ApiConnection(new Kubernetes(config), config.Host.TrimEnd('/'), ns, string.IsNullOrEmpty(config.AccessToken) ? null : config.AccessToken);
    }

    private static string? FirstExisting(string? kubeconfigVar) =>
        kubeconfigVar?.Split(':', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault(File.Exists);

    /// <summary>Runs a call and turns transport failures and Status answers into one-line errors.</summary>
    public async Task<T> Call<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (HttpOperationException e)
        {
            throw new CliException(ErrorFromServer((int)e.Response.StatusCode, e.Response.Content));
        }
        catch (HttpRequestException e) when (e.StatusCode is null)
        {
            throw Unreachable(e);
        }
        catch (TaskCanceledException e)
        {
            throw Unreachable(e);
        }
    }

    public Task Call(Func<Task> call) => Call<bool>(async () => { await call(); return true; });

    public CliException Unreachable(Exception e) =>
        new($"error: cannot reach the cluster at {Server}: is it running? start it with deploy/up.sh ({Innermost(e)})");

    private static string Innermost(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        return e is SocketException s ? s.SocketErrorCode.ToString() : e.Message;
    }

    /// <summary>kubectl's wording: "Error from server (NotFound): deployments.apps "x" not found".</summary>
    public static string ErrorFromServer(int code, string? body)
    {
        try
        {
            var status = JsonNode.Parse(body ?? "");
            var reason = status?["reason"]?.GetValue<string>();
            var message = status?["message"]?.GetValue<string>();
            if (message is not null) return $"Error from server{(string.IsNullOrEmpty(reason) ? "" : $" ({reason})")}: {message}";
        }
        catch (JsonException)
        {
        }
        return $"Error from server: the server answered {code} {(HttpStatusCode)code}";
    }

    /// <summary>A raw request through the library's HttpClient and credentials; returns the answer body.</summary>
    public async Task<string> Send(HttpMethod method, string pathAndQuery, string? json = null, string accept = "application/json",
        string contentType = "application/json")
    {
        using var response = await SendForStream(method, pathAndQuery, json, accept, contentType, HttpCompletionOption.ResponseContentRead);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>The response itself (its body not yet read): for watches.</summary>
    public async Task<HttpResponseMessage> SendForStream(HttpMethod method, string pathAndQuery, string? json, string accept,
        string contentType = "application/json", HttpCompletionOption completion = HttpCompletionOption.ResponseHeadersRead)
    {
        var request = new HttpRequestMessage(method, Server + pathAndQuery);
        request.Headers.Accept.ParseAdd(accept);
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, new MediaTypeHeaderValue(contentType));
        HttpResponseMessage response;
        try
        {
            if (Client.Credentials is not null) await Client.Credentials.ProcessHttpRequestAsync(request, CancellationToken.None);
            response = await Client.HttpClient.SendAsync(request, completion);
        }
        catch (HttpRequestException e)
        {
            throw Unreachable(e);
        }
        catch (TaskCanceledException e)
        {
            throw Unreachable(e);
        }
        if (!response.IsSuccessStatusCode)
        {
            var body = await response.Content.ReadAsStringAsync();
            response.Dispose();
            throw new ServerError((int)response.StatusCode, ErrorFromServer((int)response.StatusCode, body));
        }
        return response;
    }

    public void Dispose() => Client.Dispose();
}

/// <summary>A Status answer from the server, with its code (so apply can tell AlreadyExists, logs can tell 501).</summary>
internal sealed class ServerError(int code, string message) : Exception(message)
{
    public int Code { get; } = code;
}
