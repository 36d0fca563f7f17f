using Docker.DotNet;
using Docker.DotNet.Models;

namespace Orchestrator.Node.Runtime;

/// <summary>The pod sandbox on Docker: the pause container that holds the pod's network namespace, on the pod network
/// with an address this node picked itself (<see cref="PodIpAllocator"/>).</summary>
public sealed partial class DockerRuntime
{
    /// <summary>An address taken between our look at the network and the start (someone else on the engine) costs a retry.</summary>
    private const int SandboxStartAttempts = 3;

    public async Task<PodSandbox> RunSandboxAsync(SandboxRequest request, CancellationToken ct = default)
    {
        for (var attempt = 1; ; attempt++)
        {
            var ip = await AllocateIpAsync(ct);
            string? id = null;
            try
            {
                id = await CreateReplacingAsync(BuildSandboxParameters(request, ip), ct);
                await _client.Containers.StartContainerAsync(id, new ContainerStartParameters(), ct);
                var observed = await InspectContainerAsync(id, ct);
                return new PodSandbox(id, observed?.IpAddress ?? ip);
            }
            catch (DockerApiException e) when (ip is not null && attempt < SandboxStartAttempts && e.ResponseBody.Contains("Address already in use"))
            {
                _log.LogWarning("Pod IP {Ip} was taken while the sandbox of {Pod} started; trying another", ip, request.Pod.Metadata.Name);
                await RemoveContainerAsync(id!, CancellationToken.None);
            }
            catch
            {
                if (id is not null) await RemoveContainerAsync(id, CancellationToken.None);
                throw;
            }
            finally
            {
                if (ip is not null) await ReleaseIpAsync(ip);
            }
        }
    }

    /// <summary>A free address of the node's pod range, reserved until <see cref="ReleaseIpAsync"/>; null where Docker
    /// assigns addresses (a network without the pod subnet, in runtime tests).</summary>
    private async Task<string?> AllocateIpAsync(CancellationToken ct)
    {
        if (_ips is null) return null;
        await _allocating.WaitAsync(ct);
        try
        {
            // every container on the network, whichever node (or tool) made it
            var network = await _client.Networks.InspectNetworkAsync(_options.NetworkName, ct);
            var used = network.Containers?.Values.Select(e => e.IPv4Address ?? "").ToList() ?? [];
            return _ips.Allocate(used) ?? throw new InvalidOperationException($"no free pod IP left in {_options.Pods!.IpRange}");
        }
        finally { _allocating.Release(); }
    }

    /// <summary>Under the same lock as allocation: an allocation that read the network before this sandbox joined it
    /// must still see the address as reserved.</summary>
    private async Task ReleaseIpAsync(string ip)
    {
        await _allocating.WaitAsync();
        try { _ips!.Release(ip); }
        finally { _allocating.Release(); }
    }

    /// <summary>The sandbox: the pause image on the pod network with the pod's IP, hostname, DNS settings and the
    /// ports of all its containers.</summary>
    internal CreateContainerParameters BuildSandboxParameters(SandboxRequest r, string? ip)
    {
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
        ApplyNetworkIdentity(r.Pod, r.Pod.Spec?.Containers ?? [], r.HostAddress, parameters);
        return parameters;
    }
}
