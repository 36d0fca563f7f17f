using System.Globalization;
using Docker.DotNet;
using Docker.DotNet.Models;
using k8s.Models;

namespace Orchestrator.Node.Runtime;

/// <summary>The pod sandbox on Docker: the pause container that holds the pod's network namespace, on the pod network
/// with an address this node picked itself (<see cref="PodIpAllocator"/>), and the network identity (hostname, ports,
/// DNS) it carries for the pod.</summary>
internal sealed partial class DockerRuntime
{
    /// <summary>An address taken between our look at the network and the start (someone else on the engine) costs a retry.</summary>
    private const int SandboxStartAttempts = 3;

    /// <summary>Addresses reserved for sandboxes made but not yet started, by container id.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> _reservedIps = new();

    /// <summary>The network's addresses in use, read once for the allocations waiting together.</summary>
    private readonly SharedNetworkRead _networkRead = new();

    public async Task<PodSandbox> RunSandboxAsync(SandboxRequest request, CancellationToken ct = default)
    {
        for (var attempt = 1; ; attempt++)
        {
            var created = await CreateSandboxAsync(request, ct);
            try
            {
                return await StartSandboxAsync(created, ct);
            }
            catch (SandboxAddressTakenException) when (attempt < SandboxStartAttempts) { }
        }
    }

    public async Task<PodSandbox> CreateSandboxAsync(SandboxRequest request, CancellationToken ct = default)
    {
        var hostNetwork = request.Pod.Spec.HostNetwork == true;
        var ip = hostNetwork ? null : await AllocateIpAsync(ct);
        try
        {
            var id = await CreateReplacingAsync(BuildSandboxParameters(request, ip), ct);
            // reserved until the start ends: from then on the address is the container's on the network
            if (ip is not null) _reservedIps[id] = ip;
            return new PodSandbox(id, hostNetwork ? request.HostAddress : ip);
        }
        catch
        {
            if (ip is not null) await ReleaseIpAsync(ip);
            throw;
        }
    }

    public async Task<PodSandbox> StartSandboxAsync(PodSandbox created, CancellationToken ct = default)
    {
        var reserved = _reservedIps.TryGetValue(created.Id, out var held) ? held : null;
        try
        {
            await _client.Containers.StartContainerAsync(created.Id, new ContainerStartParameters(), ct);
            // Docker assigns the address only where we did not pick one
            return created.Ip is not null ? created : created with { Ip = (await InspectContainerAsync(created.Id, ct))?.IpAddress };
        }
        catch (DockerApiException e) when (reserved is not null && e.ResponseBody.Contains("Address already in use"))
        {
            _log.LogWarning("Pod IP {Ip} was taken while sandbox {Id} started; trying another", reserved, created.Id[..Math.Min(12, created.Id.Length)]);
            using var cleanup = CleanupDeadline();
            await RemoveContainerAsync(created.Id, cleanup.Token);
            throw new SandboxAddressTakenException(reserved, e.Message);
        }
        catch
        {
            using var cleanup = CleanupDeadline();
            await RemoveContainerAsync(created.Id, cleanup.Token);
            throw;
        }
        finally
        {
            await ReleaseReservedIpAsync(created.Id);
        }
    }

    /// <summary>A sandbox that is started, or removed before its start, gives its reservation back.</summary>
    private async Task ReleaseReservedIpAsync(string containerId)
    {
        if (_reservedIps.TryRemove(containerId, out var ip)) await ReleaseIpAsync(ip);
    }

    /// <summary>A free address of the node's pod range, reserved until <see cref="ReleaseIpAsync"/>; null where Docker
    /// assigns addresses (a network without the pod subnet, in runtime tests).</summary>
    private async Task<string?> AllocateIpAsync(CancellationToken ct)
    {
        if (_ips is null) return null;
        var ticket = _networkRead.Ask();
        await _allocating.WaitAsync(ct);
        try
        {
            // every container on the network, whichever node (or tool) made it; one read serves the allocations that
            // waited for it together
            var used = await _networkRead.GetAsync(ticket, async () =>
            {
                var network = await _client.Networks.InspectNetworkAsync(_options.NetworkName, ct);
                return network.Containers?.Values.Select(e => e.IPv4Address ?? "").ToList() ?? [];
            });
            return _ips.Allocate(used) ?? throw new InvalidOperationException($"no free pod IP left in {_options.Pods!.IpRange}");
        }
        finally { _allocating.Release(); }
    }

    /// <summary>Under the same lock as allocation: an allocation that read the network before this sandbox joined it
    /// must still see the address as reserved.</summary>
    private async Task ReleaseIpAsync(string ip)
    {
        // without a deadline: the allocations that hold the lock are bounded by theirs
        await _allocating.WaitAsync();
        try
        {
            _ips!.Release(ip);
            _networkRead.Released();
        }
        finally { _allocating.Release(); }
    }

    /// <summary>The sandbox: the pause image on the pod network with the pod's IP, hostname, DNS settings and the
    /// ports of all its containers; for a hostNetwork pod, in the node's network (its address, hostname and ports).</summary>
    internal CreateContainerParameters BuildSandboxParameters(SandboxRequest r, string? ip)
    {
        if (r.Pod.Spec.HostNetwork == true) ip = null;
        var parameters = new CreateContainerParameters
        {
            Name = ContainerLabels.ContainerNameFor(r),
            Image = WithDefaultTag(_options.SandboxImage),
            Labels = ContainerLabels.For(r),
            HostConfig = new HostConfig
            {
                NetworkMode = _options.NetworkName,
                RestartPolicy = new RestartPolicy { Name = RestartPolicyKind.No },
            },
            NetworkingConfig = ip is null ? null : new NetworkingConfig
            {
                EndpointsConfig = new Dictionary<string, EndpointSettings>
                {
                    [_options.NetworkName] = new() { IPAMConfig = new EndpointIPAMConfig { IPv4Address = ip } },
                },
            },
        };
        ContainerSecurity.ApplyToSandbox(r.Pod, parameters.HostConfig);
        if (r.Pod.Spec.HostNetwork == true)
        {
            parameters.HostConfig.NetworkMode = "host";
            ApplyDns(r.Pod, parameters.HostConfig);
            return parameters;
        }
        ApplyNetworkIdentity(r.Pod, r.Pod.Spec?.Containers ?? [], r.HostAddress, parameters);
        return parameters;
    }

    /// <summary>Hostname, published ports and DNS: what the container holding the pod's network namespace carries.</summary>
    private void ApplyNetworkIdentity(V1Pod pod, IEnumerable<V1Container> containers, string hostAddress, CreateContainerParameters parameters)
    {
        var exposed = new Dictionary<string, EmptyStruct>();
        var bindings = new Dictionary<string, IList<PortBinding>>();
        foreach (var port in containers.SelectMany(c => c.Ports ?? []))
        {
            var key = $"{port.ContainerPort}/{(port.Protocol ?? "TCP").ToLowerInvariant()}";
            exposed[key] = default;
            // every declared port is published on the node address so proxies on any node can reach the pod;
            // "" lets Docker pick an ephemeral host port
            var hostPort = port.HostPort is > 0 ? port.HostPort.Value.ToString(CultureInfo.InvariantCulture) : "";
            if (!bindings.TryGetValue(key, out var list)) bindings[key] = list = new List<PortBinding>();
            if (!list.Any(b => b.HostPort == hostPort)) // two containers may declare the same port
                list.Add(new PortBinding { HostIP = hostAddress, HostPort = hostPort });
        }
        // the kubelet's hostname: spec.hostname, else the pod's name (cut to 63 characters); with spec.subdomain the
        // pod's fully qualified name is hostname.subdomain.namespace.svc.cluster.local
        var podName = pod.Spec?.Hostname is { Length: > 0 } hostname ? hostname : pod.Metadata.Name;
        parameters.Hostname = podName.Length > 63 ? podName[..63].TrimEnd('-', '.') : podName;
        if (pod.Spec?.Subdomain is { Length: > 0 } subdomain)
            parameters.Domainname = $"{subdomain}.{pod.Metadata.NamespaceProperty ?? "default"}.svc.cluster.local";
        parameters.ExposedPorts = exposed;
        parameters.HostConfig.PortBindings = bindings;
        ApplyDns(pod, parameters.HostConfig);
    }

    /// <summary>dnsPolicy ClusterFirst (the default): the node's cluster DNS with the kubelet's search path and
    /// ndots:5 — but for a hostNetwork pod only with ClusterFirstWithHostNet (ClusterFirst is then Default, as in
    /// Kubernetes); None: the pod's dnsConfig; Default: Docker's own resolver configuration (the host's).</summary>
    private void ApplyDns(V1Pod pod, HostConfig hostConfig)
    {
        var policy = pod.Spec?.DnsPolicy ?? "ClusterFirst";
        var config = pod.Spec?.DnsConfig;
        var clusterDns = pod.Spec?.HostNetwork == true ? policy == "ClusterFirstWithHostNet" : policy is "ClusterFirst" or "ClusterFirstWithHostNet";
        if (clusterDns && _options.Dns is { } dns)
        {
            var ns = pod.Metadata.NamespaceProperty ?? "default";
            hostConfig.DNS = [dns.Nameserver, .. config?.Nameservers ?? []];
            hostConfig.DNSSearch = [.. dns.SearchFor(ns), .. config?.Searches ?? []];
            hostConfig.DNSOptions = ["ndots:5", .. (config?.Options ?? []).Where(o => o.Name != "ndots").Select(DnsOption)];
        }
        else if (policy == "None" && config is not null)
        {
            hostConfig.DNS = config.Nameservers?.ToList() ?? [];
            hostConfig.DNSSearch = config.Searches?.ToList() ?? [];
            hostConfig.DNSOptions = config.Options?.Select(DnsOption).ToList() ?? [];
        }
    }

    private static string DnsOption(V1PodDNSConfigOption o) => string.IsNullOrEmpty(o.Value) ? o.Name : $"{o.Name}:{o.Value}";
}
