using System.Globalization;
using k8s.Models;
using Orchestrator.Shared.Api;

namespace Orchestrator.Node.Proxy.Ingress;

/// <summary>What an Ingress's annotations ask of its routes (see <see cref="IngressRoutes.Annotations"/>).</summary>
internal sealed record IngressOptions(string? RewriteTarget = null, TimeSpan? ReadTimeout = null, long? MaxBodySize = null, bool SslRedirect = true)
{
    public static IngressOptions Default { get; } = new();

    /// <summary>Session affinity by cookie (affinity: cookie): the cookie's name, path and max-age.</summary>
    public AffinityCookie? Affinity { get; init; }

    /// <summary>backend-protocol: HTTP (default), HTTPS (TLS to the pod), GRPC (HTTP/2 in clear text, h2c, as gRPC
    /// servers expect) or GRPCS (HTTP/2 over TLS).</summary>
    public string Protocol { get; init; } = "HTTP";

    /// <summary>The backend speaks gRPC: HTTP/2 only.</summary>
    public bool Grpc => Protocol is "GRPC" or "GRPCS";

    /// <summary>The backend is reached over TLS (its certificate is not verified, as ingress-nginx's default
    /// proxy-ssl-verify off: pods' certificates are usually self-signed).</summary>
    public bool BackendTls => Protocol is "HTTPS" or "GRPCS";

    /// <summary>use-regex "true" (or a rewrite-target with captures): ImplementationSpecific paths of the host are regexes.</summary>
    public bool UseRegex { get; init; }

    /// <summary>canary: "true" — the Ingress's rules are a canary of another Ingress's same host and path.</summary>
    public CanaryOptions? Canary { get; init; }

    /// <summary>Whether a route with these options needs a cluster of its own (a copy of the service port's one).</summary>
    public bool NeedsOwnCluster => ReadTimeout is not null || Affinity is not null || Protocol != "HTTP";

    /// <summary>The id of that cluster: the service port's cluster id with what differs, stable for the same options.</summary>
    public string ClusterIdFor(string serviceCluster)
    {
        if (!NeedsOwnCluster) return serviceCluster;
        var id = serviceCluster;
        if (ReadTimeout is { } timeout) id += $"@read-timeout={timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)}s";
        if (Affinity is { } cookie) id += $"@affinity={cookie.Name};{cookie.Path};{cookie.MaxAge?.TotalSeconds.ToString(CultureInfo.InvariantCulture)}";
        if (Protocol != "HTTP") id += "@" + Protocol.ToLowerInvariant();
        return id;
    }
}

internal sealed record AffinityCookie(string Name, string Path, TimeSpan? MaxAge);

/// <summary>A canary Ingress's share: <see cref="Weight"/> percent of the requests (0–100), or by a request header, then
/// by a cookie (value "always": the canary, "never": the main backend, anything else: the next rule decides), as
/// ingress-nginx orders canary-by-header, canary-by-cookie, canary-weight.</summary>
internal sealed record CanaryOptions(int Weight, string? Header, string? Cookie = null);

/// <summary>The canary backend attached to a route: its service port's cluster and how requests are shared.</summary>
internal sealed record IngressCanary(string Ingress, string? ClusterId, CanaryOptions Options);

/// <summary>Where a request goes: the YARP cluster of the backend's service port (null with <see cref="Problem"/> when
/// the backend cannot be served: 503), the matched path (for rewrite-target), whether TLS is configured for the host.</summary>
internal sealed record IngressRoute(string Ingress, string Host, string Path, string PathType, string? ClusterId, string? Problem,
    IngressOptions Options, bool Tls, DateTime? Created = null)
{
    /// <summary>A canary Ingress of the same host and path, when there is one.</summary>
    public IngressCanary? Canary { get; init; }

    /// <summary>The path was written as ImplementationSpecific (matched as Prefix unless its host uses regexes).</summary>
    public bool ImplementationSpecific { get; init; }

    /// <summary>The path as a regular expression, when its host uses regexes (see <see cref="IngressPathRegex"/>).</summary>
    public System.Text.RegularExpressions.Regex? Pattern { get; init; }
}

/// <summary>
/// The node's ingress routes, an immutable snapshot built from the Ingresses the master sends (all of class
/// <c>orchestrator</c>) and the Services their backends name. Matching follows the Ingress API: the host is matched
/// exactly first, then by a <c>*.</c> wildcard that covers exactly one DNS label, then by rules without a host; among
/// the paths of that host (merged over all Ingresses) the longest matching path wins, Exact before Prefix on a tie,
/// then the oldest Ingress. Prefix matches element-wise on '/'-separated elements (/foo matches /foo, /foo/ and
/// /foo/bar, not /foobar), ignoring a trailing '/'; ImplementationSpecific is treated as Prefix, or as a regular
/// expression when an Ingress of its host uses regexes. Without a matching
/// path the oldest Ingress's defaultBackend serves; without one, nothing matches (the proxy answers 404). Pure.
/// </summary>
internal sealed class IngressRoutes
{
    private readonly Dictionary<string, List<IngressRoute>> _exact;
    private readonly Dictionary<string, List<IngressRoute>> _wildcard; // by the suffix after "*."
    private readonly List<IngressRoute> _anyHost;
    private readonly IngressRoute? _default;

    private IngressRoutes(Dictionary<string, List<IngressRoute>> exact, Dictionary<string, List<IngressRoute>> wildcard,
        List<IngressRoute> anyHost, IngressRoute? @default, IReadOnlyList<(string Host, string Secret)> certificates, IReadOnlyList<string> skipped)
    {
        _exact = exact;
        _wildcard = wildcard;
        _anyHost = anyHost;
        _default = @default;
        Certificates = certificates;
        Skipped = skipped;
    }

    public static IngressRoutes Empty { get; } = Build([], []);

    /// <summary>The TLS hosts (exact or <c>*.</c> wildcard) and the namespace/name of the Secret serving each, oldest Ingress first.</summary>
    public IReadOnlyList<(string Host, string Secret)> Certificates { get; }

    /// <summary>What could not be served, for the log.</summary>
    public IReadOnlyList<string> Skipped { get; }

    /// <summary>Every route, for the clusters they need (a read timeout makes a cluster of its own).</summary>
    public IEnumerable<IngressRoute> All =>
        _exact.Values.Concat(_wildcard.Values).SelectMany(r => r).Concat(_anyHost).Concat(_default is null ? [] : [_default]);

    public static IngressRoutes Build(IReadOnlyList<V1Ingress> ingresses, IReadOnlyList<V1Service> services)
    {
        var exact = new Dictionary<string, List<IngressRoute>>(StringComparer.OrdinalIgnoreCase);
        var wildcard = new Dictionary<string, List<IngressRoute>>(StringComparer.OrdinalIgnoreCase);
        var anyHost = new List<IngressRoute>();
        var certificates = new List<(string, string)>();
        var skipped = new List<string>();
        IngressRoute? @default = null;
        var byService = services.ToDictionary(s => $"{s.Metadata.NamespaceProperty ?? "default"}/{s.Metadata.Name}", StringComparer.Ordinal);
        var canaries = new List<(V1Ingress Ingress, IngressOptions Options)>();

        foreach (var ingress in ingresses.OrderBy(i => i.Metadata.CreationTimestamp ?? DateTime.MaxValue)
                     .ThenBy(i => i.Metadata.NamespaceProperty, StringComparer.Ordinal).ThenBy(i => i.Metadata.Name, StringComparer.Ordinal))
        {
            var ns = ingress.Metadata.NamespaceProperty ?? "default";
            var name = $"{ns}/{ingress.Metadata.Name}";
            var options = Annotations(ingress.Metadata.Annotations, name, skipped);
            if (options.Canary is not null)
            {
                canaries.Add((ingress, options)); // attached to the main routes once they are all known
                continue;
            }
            var tlsHosts = (ingress.Spec?.Tls ?? []).SelectMany(t => t.Hosts ?? []).ToHashSet(StringComparer.OrdinalIgnoreCase);
            foreach (var tls in ingress.Spec?.Tls ?? [])
            {
                if (string.IsNullOrEmpty(tls.SecretName)) continue;
                foreach (var host in tls.Hosts ?? []) certificates.Add((host.ToLowerInvariant(), $"{ns}/{tls.SecretName}"));
            }
            if (ingress.Spec?.DefaultBackend is { } backend && @default is null)
            {
                var (cluster, problem) = Resolve(backend, ns, byService);
                @default = new IngressRoute(name, "", "/", "Prefix", cluster, problem, options, false, ingress.Metadata.CreationTimestamp);
                if (problem is not null) skipped.Add($"ingress {name} defaultBackend: {problem}");
            }
            foreach (var rule in ingress.Spec?.Rules ?? [])
            {
                var host = (rule.Host ?? "").ToLowerInvariant();
                var list = host.Length == 0 ? anyHost
                    : host.StartsWith("*.", StringComparison.Ordinal) ? Bucket(wildcard, host[2..])
                    : Bucket(exact, host);
                foreach (var path in rule.Http?.Paths ?? [])
                {
                    var (cluster, problem) = Resolve(path.Backend, ns, byService);
                    if (problem is not null) skipped.Add($"ingress {name} host '{host}' path '{path.Path}': {problem}");
                    var type = path.PathType == "Exact" ? "Exact" : "Prefix"; // ImplementationSpecific: Prefix, or a regex
                    var value = string.IsNullOrEmpty(path.Path) ? "/" : path.Path;
                    list.Add(new IngressRoute(name, host, value, type, cluster, problem, options, host.Length > 0 && Covered(tlsHosts, host),
                        ingress.Metadata.CreationTimestamp) { ImplementationSpecific = path.PathType == "ImplementationSpecific" });
                }
            }
        }
        foreach (var (ingress, options) in canaries) AttachCanary(ingress, options.Canary!, byService, exact, wildcard, anyHost, skipped);
        foreach (var list in exact.Values.Concat(wildcard.Values).Append(anyHost)) Regexes(list, skipped);
        return new IngressRoutes(exact, wildcard, anyHost, @default, certificates, skipped);

        static List<IngressRoute> Bucket(Dictionary<string, List<IngressRoute>> map, string key) =>
            map.TryGetValue(key, out var list) ? list : map[key] = [];
    }

    /// <summary>As ingress-nginx: when one Ingress of a host uses regexes, the host's ImplementationSpecific paths of
    /// every Ingress are regexes (nginx's locations of a server are all regex ones then). A path that does not compile
    /// is reported and not served.</summary>
    private static void Regexes(List<IngressRoute> routes, List<string> skipped)
    {
        if (!routes.Any(r => r.Options.UseRegex)) return;
        for (var i = routes.Count - 1; i >= 0; i--)
        {
            var route = routes[i];
            if (!route.ImplementationSpecific) continue;
            var (regex, problem) = IngressPathRegex.Compile(route.Path);
            if (regex is null)
            {
                skipped.Add($"ingress {route.Ingress} host '{route.Host}': {problem}");
                routes.RemoveAt(i);
                continue;
            }
            routes[i] = route with { Pattern = regex };
        }
    }

    /// <summary>As ingress-nginx: a canary Ingress's paths join the main Ingress's routes of the same host, path and
    /// path type (one canary per route: the oldest); a canary path with no such route is reported and not served.</summary>
    private static void AttachCanary(V1Ingress ingress, CanaryOptions canary, Dictionary<string, V1Service> services,
        Dictionary<string, List<IngressRoute>> exact, Dictionary<string, List<IngressRoute>> wildcard, List<IngressRoute> anyHost, List<string> skipped)
    {
        var ns = ingress.Metadata.NamespaceProperty ?? "default";
        var name = $"{ns}/{ingress.Metadata.Name}";
        foreach (var rule in ingress.Spec?.Rules ?? [])
        {
            var host = (rule.Host ?? "").ToLowerInvariant();
            var list = host.Length == 0 ? anyHost
                : host.StartsWith("*.", StringComparison.Ordinal) ? wildcard.GetValueOrDefault(host[2..])
                : exact.GetValueOrDefault(host);
            foreach (var path in rule.Http?.Paths ?? [])
            {
                var type = path.PathType == "Exact" ? "Exact" : "Prefix";
                var value = string.IsNullOrEmpty(path.Path) ? "/" : path.Path;
                var index = list?.FindIndex(r => r.Canary is null && r.Path == value && r.PathType == type
                    && r.Ingress.StartsWith(ns + "/", StringComparison.Ordinal)) ?? -1;
                if (index < 0)
                {
                    skipped.Add($"ingress {name} (canary) host '{host}' path '{value}': no other Ingress of the namespace serves this host and path");
                    continue;
                }
                var (cluster, problem) = Resolve(path.Backend, ns, services);
                if (problem is not null) skipped.Add($"ingress {name} (canary) host '{host}' path '{value}': {problem}");
                list![index] = list[index] with { Canary = new IngressCanary(name, cluster, canary) };
            }
        }
    }

    /// <summary>The service port's cluster a request of this route goes to: the canary's when the canary takes it
    /// (by its header, else by its cookie, else by weight with <paramref name="roll"/> in [0, 100)), otherwise the
    /// route's own.</summary>
    public static string? ClusterFor(IngressRoute route, Func<string, string?> header, Func<string, string?> cookie, int roll)
    {
        if (route.Canary is not { ClusterId: { } canary } c) return route.ClusterId;
        foreach (var value in new[] { c.Options.Header is { } h ? header(h) : null, c.Options.Cookie is { } k ? cookie(k) : null })
        {
            if (value == "always") return canary;
            if (value == "never") return route.ClusterId;
        }
        return roll < c.Options.Weight ? canary : route.ClusterId;
    }

    private static bool Covered(HashSet<string> tlsHosts, string host) =>
        tlsHosts.Contains(host) || tlsHosts.Any(t => t.StartsWith("*.", StringComparison.Ordinal) && HostMatchesWildcard(host, t[2..]));

    /// <summary>The route for a request: host (without port) and path; null when nothing matches.</summary>
    public IngressRoute? Match(string host, string path)
    {
        host = host.ToLowerInvariant();
        if (_exact.TryGetValue(host, out var exact)) return Best(exact, path) ?? _default;
        var dot = host.IndexOf('.');
        if (dot > 0 && _wildcard.TryGetValue(host[(dot + 1)..], out var wild)) return Best(wild, path) ?? _default;
        return Best(_anyHost, path) ?? _default;
    }

    /// <summary>The Secret (namespace/name) for a TLS server name: exact host first, then a wildcard; null when none.</summary>
    public string? CertificateFor(string? serverName)
    {
        if (string.IsNullOrEmpty(serverName)) return null;
        var host = serverName.ToLowerInvariant();
        foreach (var (h, secret) in Certificates) if (h == host) return secret;
        foreach (var (h, secret) in Certificates)
            if (h.StartsWith("*.", StringComparison.Ordinal) && HostMatchesWildcard(host, h[2..])) return secret;
        return null;
    }

    internal static bool HostMatchesWildcard(string host, string suffix)
    {
        var dot = host.IndexOf('.');
        return dot > 0 && string.Equals(host[(dot + 1)..], suffix, StringComparison.OrdinalIgnoreCase);
    }

    private static IngressRoute? Best(List<IngressRoute> routes, string path)
    {
        IngressRoute? best = null;
        var bestLength = -1;
        foreach (var route in routes)
        {
            if (!Matches(route, path)) continue;
            var length = route.Path.TrimEnd('/').Length;
            // longer wins; on a tie Exact beats Prefix; otherwise the first (oldest Ingress) stays
            if (length > bestLength || (length == bestLength && route.PathType == "Exact" && best!.PathType != "Exact"))
            {
                best = route;
                bestLength = length;
            }
        }
        return best;
    }

    internal static bool Matches(IngressRoute route, string path) =>
        route.Pattern is { } regex ? IngressPathRegex.MatchPath(regex, path) is not null
        : route.PathType == "Exact" ? path == route.Path : PrefixMatches(route.Path, path);

    /// <summary>Element-wise: every '/'-separated element of the prefix equals the request path's element at its place.</summary>
    internal static bool PrefixMatches(string prefix, string path)
    {
        var want = prefix.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var have = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (want.Length > have.Length) return false;
        for (var i = 0; i < want.Length; i++)
            if (!string.Equals(want[i], have[i], StringComparison.Ordinal)) return false;
        return true;
    }

    /// <summary>The path the backend gets with rewrite-target: the matched prefix replaced by the target; for a regex
    /// path (nginx's rewrite) the whole path becomes the target with $n replaced by the path's captures.</summary>
    public static string Rewrite(IngressRoute route, string path)
    {
        if (route.Options.RewriteTarget is not { } target) return path;
        if (route.Pattern is { } regex)
            return IngressPathRegex.MatchPath(regex, path) is { } match ? IngressPathRegex.Rewrite(target, match) : path;
        if (route.PathType == "Exact") return target;
        var skip = route.Path.Split('/', StringSplitOptions.RemoveEmptyEntries).Length;
        var rest = string.Join('/', path.Split('/', StringSplitOptions.RemoveEmptyEntries).Skip(skip));
        var trailing = path.EndsWith('/') && rest.Length > 0 ? "/" : "";
        var result = target.TrimEnd('/') + "/" + rest + trailing;
        return result;
    }

    /// <summary>The annotations this controller reads (orchestrator.dev/…), named and valued as ingress-nginx's:
    /// rewrite-target (a path), proxy-read-timeout (seconds), proxy-body-size (bytes with an optional k/m/g suffix;
    /// 0 = unlimited), ssl-redirect ("false" turns the HTTP→HTTPS redirect off), affinity ("cookie") with
    /// session-cookie-name/-path/-max-age, backend-protocol (HTTP, HTTPS, GRPC or GRPCS), canary ("true") with
    /// canary-weight (0–100), canary-by-header and canary-by-cookie, use-regex ("true"). Others of the prefix and bad values are reported and ignored (the master's admission
    /// warns about them when the Ingress is written).</summary>
    internal static IngressOptions Annotations(IDictionary<string, string>? annotations, string ingress, List<string> skipped)
    {
        var options = IngressOptions.Default;
        if (annotations is null) return options;
        foreach (var (key, value) in annotations.Where(a => a.Key.StartsWith(IngressAnnotations.AnnotationPrefix, StringComparison.Ordinal)))
        {
            if (IngressAnnotations.Problem(key, value) is { } problem)
            {
                skipped.Add($"ingress {ingress}: {problem}; ignored");
                continue;
            }
            switch (key)
            {
                case IngressAnnotations.RewriteTarget when value.StartsWith('/'):
                    options = options with { RewriteTarget = value };
                    break;
                case IngressAnnotations.ProxyReadTimeout when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds > 0:
                    options = options with { ReadTimeout = TimeSpan.FromSeconds(seconds) };
                    break;
                case IngressAnnotations.ProxyBodySize when IngressAnnotations.ParseSize(value) is { } size:
                    options = options with { MaxBodySize = size == 0 ? null : size };
                    break;
                case IngressAnnotations.SslRedirect:
                    options = options with { SslRedirect = value == "true" };
                    break;
                case IngressAnnotations.BackendProtocol:
                    options = options with { Protocol = value.ToUpperInvariant() };
                    break;
            }
        }
        if (annotations.TryGetValue(IngressAnnotations.Affinity, out var affinity) && affinity == "cookie")
        {
            var cookieName = annotations.TryGetValue(IngressAnnotations.SessionCookieName, out var n) && IngressAnnotations.Problem(IngressAnnotations.SessionCookieName, n) is null ? n : IngressAnnotations.DefaultCookieName;
            var cookiePath = annotations.TryGetValue(IngressAnnotations.SessionCookiePath, out var p) && IngressAnnotations.Problem(IngressAnnotations.SessionCookiePath, p) is null ? p : "/";
            TimeSpan? maxAge = annotations.TryGetValue(IngressAnnotations.SessionCookieMaxAge, out var a) && IngressAnnotations.Problem(IngressAnnotations.SessionCookieMaxAge, a) is null
                ? TimeSpan.FromSeconds(int.Parse(a, CultureInfo.InvariantCulture)) : null;
            options = options with { Affinity = new AffinityCookie(cookieName, cookiePath, maxAge) };
        }
        if (annotations.TryGetValue(IngressAnnotations.Canary, out var canary) && canary == "true")
        {
            var weight = annotations.TryGetValue(IngressAnnotations.CanaryWeight, out var w) && IngressAnnotations.Problem(IngressAnnotations.CanaryWeight, w) is null ? int.Parse(w, CultureInfo.InvariantCulture) : 0;
            var header = annotations.TryGetValue(IngressAnnotations.CanaryByHeader, out var h) && IngressAnnotations.Problem(IngressAnnotations.CanaryByHeader, h) is null ? h : null;
            var cookie = annotations.TryGetValue(IngressAnnotations.CanaryByCookie, out var k) && IngressAnnotations.Problem(IngressAnnotations.CanaryByCookie, k) is null ? k : null;
            options = options with { Canary = new CanaryOptions(weight, header, cookie) };
        }
        if (IngressPathRegex.Implied(annotations)) options = options with { UseRegex = true };
        return options;
    }

    /// <summary>The service port's cluster (as <see cref="YarpConfigFromEndpoints"/> names it) of a backend in the namespace.</summary>
    private static (string? Cluster, string? Problem) Resolve(V1IngressBackend? backend, string ns, Dictionary<string, V1Service> services)
    {
        if (backend?.Service is not { } target) return (null, "only service backends are supported");
        if (!services.TryGetValue($"{ns}/{target.Name}", out var service)) return (null, $"service \"{ns}/{target.Name}\" not found");
        if (service.Spec?.Type == "ExternalName") return (null, $"service \"{ns}/{target.Name}\" is an ExternalName service, not supported");
        var port = (service.Spec?.Ports ?? []).FirstOrDefault(p =>
            target.Port?.Name is { Length: > 0 } portName ? p.Name == portName : p.Port == target.Port?.Number);
        if (port is null)
            return (null, $"service \"{ns}/{target.Name}\" has no port {(target.Port?.Name is { Length: > 0 } n ? n : target.Port?.Number.ToString())}");
        return (YarpConfigFromEndpoints.ClusterIdOf($"{ns}/{target.Name}", port), null);
    }
}

/// <summary>The ingress listeners (on the node address; 0 turns one off), the node's name (for externalTrafficPolicy
/// Local) and which non-loopback addresses are this machine's (for LoadBalancer addresses).</summary>
internal sealed record IngressSettings(int HttpPort, int HttpsPort, string? NodeName = null, Func<System.Net.IPAddress, bool>? IsLocalAddress = null)
{
    public static IngressSettings Disabled { get; } = new(0, 0);
}
