using System.Globalization;
using System.Net;

namespace Orchestrator.Node;

/// <summary>The node process's command line: <c>--name --address --master --cluster-port --docker --network --bridge --healthz-port
/// --pod-network --pod-cidr --resolv-conf --cluster-domain --cluster-dns-port --node-status-update-frequency --housekeeping-interval --cluster-cert --log-format
/// --api-server-proxy --api-servers</c> (resolved from flags, environment and config file by <see cref="NodeFlags"/>). <c>--pod-network</c> is the machine's
/// shared Docker network (every node on the machine gives the same); <c>--pod-cidr</c> is this node's pod range inside its
/// lower half (the Node's spec.podCIDR; the whole lower half by default). <c>--cluster-cert</c> (a copy of the master's
/// <c>{data-dir}/cluster.pfx</c>) is required to run; Program checks it so that parsing alone needs no file.</summary>
internal sealed record NodeOptions(
    string Name,
    IPAddress Address,
    string Master,
    int ClusterPort,
    string Docker,
    string Network,
    int HealthzPort,
    int KubeletPort = 0,
    string PodNetworkCidr = Host.PodNetwork.DefaultNetwork,
    string PodCidr = Host.PodNetwork.DefaultPodCidr,
    string ResolvConf = "/etc/resolv.conf",
    string ClusterDomain = "cluster.local",
    int ClusterDnsPort = 53,
    int NodeStatusUpdateFrequency = 10,
    int HousekeepingInterval = 10,
    int RuntimeRequestTimeout = 120,
    string? ClusterCert = null,
    string LogFormat = "text",
    bool SerializeImagePulls = true,
    string? RegistryMirror = null,
    string RootDir = "/var/lib/orchestrator/node",
    int IngressHttpPort = 80,
    int IngressHttpsPort = 443,
    IPEndPoint? ApiServerProxy = null,
    IReadOnlyList<DnsEndPoint>? ApiServers = null,
    string Bridge = Host.PodNetwork.DefaultBridge)
{
    /// <summary>The directory of this node's local-path volumes (one directory per PersistentVolume).</summary>
    public string LocalPathRoot => Path.Combine(RootDir, "volumes");

    public Host.PodNetwork PodNetwork => Host.PodNetwork.Parse(PodNetworkCidr, PodCidr, Bridge);

    public static NodeOptions Parse(IReadOnlyList<string> args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"unexpected argument '{arg}'");
            var eq = arg.IndexOf('=');
            if (eq > 0) values[arg[2..eq]] = arg[(eq + 1)..];
            else if (i + 1 < args.Count) values[arg[2..]] = args[++i];
            else throw new ArgumentException($"option '{arg}' needs a value");
        }
        var known = new[]
        {
            "name", "address", "master", "cluster-port", "docker", "network", "bridge", "healthz-port", "kubelet-port",
            "pod-network", "pod-cidr", "resolv-conf", "cluster-domain", "cluster-dns-port", "node-status-update-frequency", "housekeeping-interval",
            "runtime-request-timeout", "cluster-cert", "log-format",
            "serialize-image-pulls", "registry-mirror", "root-dir", "ingress-http-port", "ingress-https-port", "api-server-proxy", "api-servers",
        };
        foreach (var key in values.Keys.Where(k => !known.Contains(k)))
            throw new ArgumentException($"unknown option '--{key}'");

        string Get(string key, string fallback) => values.TryGetValue(key, out var v) && v.Length > 0 ? v : fallback;
        int Port(string key, int fallback) => int.TryParse(Get(key, fallback.ToString(CultureInfo.InvariantCulture)), out var p) && p is >= 0 and <= 65535
            ? p
            : throw new ArgumentException($"--{key} must be a port number");

        var address = Get("address", "127.0.0.1");
        // the masters' addresses serve only the balancer: without it they would be accepted and do nothing
        if (Get("api-servers", "").Length > 0 && Get("api-server-proxy", "").Length == 0)
            throw new ArgumentException("--api-servers needs --api-server-proxy (the load balancer they are for)");
        // checked here so a wrong range stops the process with one line, before anything starts
        var podNetwork = Host.PodNetwork.Parse(Get("pod-network", Host.PodNetwork.DefaultNetwork), values.GetValueOrDefault("pod-cidr") is { Length: > 0 } range ? range : null);
        return new NodeOptions(
            Name: Get("name", Environment.MachineName).ToLowerInvariant(),
            Address: IPAddress.TryParse(address, out var ip) ? ip : throw new ArgumentException($"--address '{address}' is not an IP address"),
            Master: Get("master", "127.0.0.1:4050"),
            ClusterPort: Port("cluster-port", 0),
            Docker: Get("docker", "unix:///var/run/docker.sock"),
            Network: Get("network", "orchestrator"),
            HealthzPort: Port("healthz-port", 10248),
            KubeletPort: Port("kubelet-port", 0),
            PodNetworkCidr: podNetwork.Subnet,
            PodCidr: podNetwork.IpRange,
            ResolvConf: Get("resolv-conf", "/etc/resolv.conf"),
            ClusterDomain: Get("cluster-domain", "cluster.local"),
            ClusterDnsPort: Port("cluster-dns-port", 53),
            NodeStatusUpdateFrequency: int.TryParse(Get("node-status-update-frequency", "10"), out var every) && every is >= 1 and <= 300
                ? every
                : throw new ArgumentException("--node-status-update-frequency must be a number of seconds from 1 to 300"),
            HousekeepingInterval: int.TryParse(Get("housekeeping-interval", "10"), out var housekeeping) && housekeeping is >= 1 and <= 300
                ? housekeeping
                : throw new ArgumentException("--housekeeping-interval must be a number of seconds from 1 to 300"),
            RuntimeRequestTimeout: int.TryParse(Get("runtime-request-timeout", "120"), out var timeout) && timeout is >= 1 and <= 3600
                ? timeout
                : throw new ArgumentException("--runtime-request-timeout must be a number of seconds from 1 to 3600"),
            ClusterCert: values.TryGetValue("cluster-cert", out var clusterCert) && clusterCert.Length > 0 ? clusterCert : null,
            LogFormat: Get("log-format", "text") is var format && format is "text" or "json" ? format : throw new ArgumentException("--log-format must be text or json"),
            SerializeImagePulls: Get("serialize-image-pulls", "true") switch
            {
                "true" => true,
                "false" => false,
                _ => throw new ArgumentException("--serialize-image-pulls must be true or false"),
            },
            RegistryMirror: Get("registry-mirror", "") is { Length: > 0 } mirror ? MirrorHost(mirror) : null,
            RootDir: Get("root-dir", "/var/lib/orchestrator/node") is var root && Path.IsPathFullyQualified(root)
                ? Path.TrimEndingDirectorySeparator(root)
                : throw new ArgumentException("--root-dir must be an absolute path"),
            IngressHttpPort: Port("ingress-http-port", 80),
            IngressHttpsPort: Port("ingress-https-port", 443),
            ApiServerProxy: Get("api-server-proxy", "") is { Length: > 0 } listen ? ListenEndPoint(listen, "api-server-proxy") : null,
            ApiServers: ApiServerList(Get("api-servers", "")) is { Count: > 0 } apiServers ? apiServers : null,
            Bridge: Get("bridge", Host.PodNetwork.DefaultBridge) is var bridge && BridgeProblem(bridge) is { } problem
                ? throw new ArgumentException($"--bridge {problem}")
                : bridge);
    }

    /// <summary>Why NAME cannot be the pod bridge, or null: a Linux interface name whose address labels
    /// (&lt;name&gt;:svc, &lt;name&gt;:dns) fit the kernel's 15 characters too, so at most 11; no ':' (it would end the
    /// name inside a label), '/' or white space.</summary>
    internal static string? BridgeProblem(string name) =>
        name.Length is >= 1 and <= 11 && name is not "." and not ".." && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')
            ? null
            : $"'{name}' is not a bridge name (1 to 11 letters, digits, '-', '_' or '.', so that '{name}:svc' is an address label)";

    /// <summary>IP:port to listen on (an IPv6 address in brackets).</summary>
    internal static IPEndPoint ListenEndPoint(string value, string flag) =>
        Proxy.ApiServerLoadBalancer.ParseEndPoint(value, flag) is var e && IPAddress.TryParse(e.Host, out var ip)
            ? new IPEndPoint(ip, e.Port)
            : throw new ArgumentException($"--{flag}: '{value}' is not IP:port");

    internal static IReadOnlyList<DnsEndPoint> ApiServerList(string value) =>
        value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(v => Proxy.ApiServerLoadBalancer.ParseEndPoint(v, "api-servers")).Distinct().ToList();

    /// <summary>"https://mirror.example:5000/" → "mirror.example:5000": Docker pulls by host, the scheme is the engine's business.</summary>
    private static string MirrorHost(string mirror)
    {
        var host = mirror.Contains("://", StringComparison.Ordinal) ? mirror[(mirror.IndexOf("://", StringComparison.Ordinal) + 3)..] : mirror;
        host = host.TrimEnd('/');
        return host.Length > 0 && !host.Contains('/') && Uri.CheckHostName(host.Split(':')[0]) != UriHostNameType.Unknown
            ? host
            : throw new ArgumentException($"--registry-mirror '{mirror}' is not a registry host[:port]");
    }
}
