using System.Text;
using System.Text.Json;
using k8s.Models;

namespace Orchestrator.Node.Runtime;

/// <summary>A user name and password for one registry, as Docker's pull API takes them.</summary>
internal sealed record RegistryAuth(string ServerAddress, string Username, string Password)
{
    /// <summary>Never the password.</summary>
    public override string ToString() => $"RegistryAuth {{ ServerAddress = {ServerAddress}, Username = {Username} }}";
}

/// <summary>
/// The credentials of a pod's imagePullSecrets (kubernetes.io/dockerconfigjson: <c>{"auths":{KEY:{…}}}</c>;
/// kubernetes.io/dockercfg: <c>{KEY:{…}}</c>) that match an image, most specific key first, as the kubelet's keyring
/// matches them: a key is a registry host (a "*." glob allowed, with its port) and an optional path prefix;
/// "index.docker.io" and "https://index.docker.io/v1/" mean Docker Hub.
/// </summary>
internal static class RegistryCredentials
{
    public const string DockerConfigJsonType = "kubernetes.io/dockerconfigjson";
    public const string DockerCfgType = "kubernetes.io/dockercfg";

    public static IReadOnlyList<RegistryAuth> For(ImageReference image, IEnumerable<V1Secret> secrets)
    {
        var found = new List<(string Key, RegistryAuth Auth)>();
        foreach (var secret in secrets)
            foreach (var (key, auth) in Entries(secret))
                if (Matches(key, image)) found.Add((key, auth));
        return found.OrderByDescending(f => f.Key.Length).Select(f => f.Auth).Distinct().ToList();
    }

    /// <summary>The entries of one pull secret; a secret of another type or with unreadable JSON has none.</summary>
    public static IEnumerable<(string Key, RegistryAuth Auth)> Entries(V1Secret secret)
    {
        JsonElement entries;
        try
        {
            if (secret.Type == DockerConfigJsonType && secret.Data?.TryGetValue(".dockerconfigjson", out var json) == true)
            {
                using var document = JsonDocument.Parse(json);
                if (!document.RootElement.TryGetProperty("auths", out var auths) || auths.ValueKind != JsonValueKind.Object) yield break;
                entries = auths.Clone();
            }
            else if (secret.Type == DockerCfgType && secret.Data?.TryGetValue(".dockercfg", out var cfg) == true)
            {
                using var document = JsonDocument.Parse(cfg);
                if (document.RootElement.ValueKind != JsonValueKind.Object) yield break;
                entries = document.RootElement.Clone();
            }
            else yield break;
        }
        catch (JsonException) { yield break; }

        foreach (var property in entries.EnumerateObject())
        {
            if (property.Value.ValueKind != JsonValueKind.Object) continue;
            var username = Text(property.Value, "username");
            var password = Text(property.Value, "password");
            if (Text(property.Value, "auth") is { Length: > 0 } encoded && TryDecode(encoded) is { } pair)
                (username, password) = pair;
            if (username is null && password is null) continue;
            yield return (property.Name, new RegistryAuth(ServerAddress(property.Name), username ?? "", password ?? ""));
        }
    }

    /// <summary>The key's host[:port] and path prefix must cover the image's registry and path.</summary>
    public static bool Matches(string key, ImageReference image)
    {
        var (host, path) = Split(key);
        var (imageHost, imagePort) = SplitPort(image.Domain);
        var (keyHost, keyPort) = SplitPort(host);
        if (keyPort != imagePort || !HostMatches(keyHost, imageHost)) return false;
        return path.Length == 0 || image.Path == path || image.Path.StartsWith(path + "/", StringComparison.Ordinal);
    }

    /// <summary>The registry host the credential is for, as Docker's auth config names it.</summary>
    private static string ServerAddress(string key) => Split(key).Host;

    private static (string Host, string Path) Split(string key)
    {
        var rest = key.Trim();
        var scheme = rest.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0) rest = rest[(scheme + 3)..];
        var slash = rest.IndexOf('/');
        var host = (slash < 0 ? rest : rest[..slash]).ToLowerInvariant();
        var path = slash < 0 ? "" : rest[(slash + 1)..].Trim('/');
        if (host is "index.docker.io" or "registry-1.docker.io" or "registry.hub.docker.com") host = ImageReference.DockerHub;
        if (host == ImageReference.DockerHub && path is "v1" or "v2") path = "";
        return (host, path);
    }

    private static (string Host, string Port) SplitPort(string host)
    {
        var colon = host.LastIndexOf(':');
        return colon < 0 ? (host, "") : (host[..colon], host[(colon + 1)..]);
    }

    /// <summary>Equal, or a "*." glob matching exactly one more label.</summary>
    private static bool HostMatches(string pattern, string host)
    {
        if (!pattern.StartsWith("*.", StringComparison.Ordinal)) return pattern == host;
        var dot = host.IndexOf('.');
        return dot > 0 && host[(dot + 1)..] == pattern[2..];
    }

    private static string? Text(JsonElement entry, string name) =>
        entry.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static (string, string)? TryDecode(string encoded)
    {
        try
        {
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(encoded));
            var colon = text.IndexOf(':');
            return colon < 0 ? null : (text[..colon], text[(colon + 1)..]);
        }
        catch (FormatException) { return null; }
    }
}
