using System.Globalization;
using System.Runtime.InteropServices;
using k8s.Models;

namespace Orchestrator.Node.Agent;

/// <summary>
/// The Node object this machine registers, and the status it posts on each heartbeat: capacity from the
/// machine, addresses from the node's options, kubelet-like nodeInfo. Reads /proc and /etc once.
/// </summary>
internal sealed class NodeDescription
{
    public const string KubeletVersion = "v1.32.0-orchestrator";

    private readonly string _name;
    private readonly string _address;
    private readonly DateTime _startedAt;
    private readonly Dictionary<string, ResourceQuantity> _capacity;
    private readonly V1NodeSystemInfo _info;
    private DateTime _readySince;
    private bool _ready;
    private string? _notReadyMessage;

    private readonly int _kubeletPort;
    private readonly string? _podCidr;

    /// <summary>What the node offers pods (its capacity: nothing is reserved): the limits of a container without any,
    /// for the downward API's resourceFieldRef.</summary>
    public IReadOnlyDictionary<string, ResourceQuantity> Allocatable => _capacity;

    private readonly string? _localPathRoot;

    /// <summary>Where the master's local-path provisioner reads this node's volume directory.</summary>
    public const string LocalPathRootAnnotation = "volumes.orchestrator.io/local-path-root";

    public NodeDescription(string name, string address, DateTime startedAt, int kubeletPort = 10250, string? podCidr = null,
        string? localPathRoot = null)
    {
        _kubeletPort = kubeletPort;
        _podCidr = podCidr;
        _localPathRoot = localPathRoot;
        _name = name;
        _address = address;
        _startedAt = startedAt;
        _readySince = startedAt;
        _capacity = new Dictionary<string, ResourceQuantity>
        {
            ["cpu"] = new(Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture)),
            ["memory"] = new(MemoryKi() + "Ki"),
            ["pods"] = new("110"),
            ["ephemeral-storage"] = new(EphemeralStorageKi() + "Ki"),
        };
        _info = new V1NodeSystemInfo
        {
            Architecture = RuntimeInformation.OSArchitecture switch
            {
                Architecture.X64 => "amd64",
                Architecture.Arm64 => "arm64",
                var other => other.ToString().ToLowerInvariant(),
            },
            OperatingSystem = "linux",
            OsImage = OsImage(),
            KernelVersion = ReadFirstLine("/proc/sys/kernel/osrelease") ?? Environment.OSVersion.Version.ToString(),
            KubeletVersion = KubeletVersion,
            KubeProxyVersion = KubeletVersion,
            ContainerRuntimeVersion = "docker://unknown",
            MachineID = ReadFirstLine("/etc/machine-id") ?? "",
            SystemUUID = ReadFirstLine("/sys/class/dmi/id/product_uuid") ?? ReadFirstLine("/etc/machine-id") ?? "",
            BootID = ReadFirstLine("/proc/sys/kernel/random/boot_id") ?? "",
        };
    }

    public string Name => _name;

    /// <summary>What the node knows of its container runtime (<see cref="RuntimeHealth"/>): the node is Ready only while
    /// <paramref name="notReadyMessage"/> is null; the version stays the last one the engine answered.</summary>
    public void SetRuntime(string? runtimeVersion, DateTime now, string? notReadyMessage)
    {
        _notReadyMessage = notReadyMessage;
        var ready = notReadyMessage is null;
        if (runtimeVersion is not null) _info.ContainerRuntimeVersion = runtimeVersion;
        if (ready != _ready) _readySince = now;
        _ready = ready;
    }

    public V1Node Node(DateTime now) => new()
    {
        ApiVersion = "v1",
        Kind = "Node",
        Metadata = new V1ObjectMeta
        {
            Name = _name,
            Labels = new Dictionary<string, string>
            {
                ["kubernetes.io/hostname"] = _name,
                ["kubernetes.io/os"] = "linux",
                ["kubernetes.io/arch"] = _info.Architecture,
                ["beta.kubernetes.io/os"] = "linux",
                ["beta.kubernetes.io/arch"] = _info.Architecture,
            },
            Annotations = _localPathRoot is null
                ? new Dictionary<string, string> { ["node.alpha.kubernetes.io/ttl"] = "0" }
                : new Dictionary<string, string> { ["node.alpha.kubernetes.io/ttl"] = "0", [LocalPathRootAnnotation] = _localPathRoot },
        },
        // the node's own pod range, like the kubelet's --pod-cidr (kubectl describe node: PodCIDR/PodCIDRs)
        Spec = _podCidr is null ? new V1NodeSpec() : new V1NodeSpec { PodCIDR = _podCidr, PodCIDRs = [_podCidr] },
        Status = Status(now),
    };

    public V1NodeStatus Status(DateTime now) => new()
    {
        Capacity = new Dictionary<string, ResourceQuantity>(_capacity),
        Allocatable = new Dictionary<string, ResourceQuantity>(_capacity),
        Addresses =
        [
            new V1NodeAddress { Type = "InternalIP", Address = _address },
            new V1NodeAddress { Type = "Hostname", Address = _name },
        ],
        NodeInfo = _info,
        DaemonEndpoints = new V1NodeDaemonEndpoints { KubeletEndpoint = new V1DaemonEndpoint { Port = _kubeletPort } },
        Conditions =
        [
            Pressure("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available", now),
            Pressure("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure", now),
            Pressure("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available", now),
            new V1NodeCondition
            {
                Type = "Ready",
                Status = _ready ? "True" : "False",
                Reason = _ready ? "KubeletReady" : "KubeletNotReady",
                Message = _ready ? "kubelet is posting ready status" : _notReadyMessage ?? RuntimeHealth.NotYetChecked,
                LastHeartbeatTime = now,
                LastTransitionTime = _readySince,
            },
        ],
    };

    private V1NodeCondition Pressure(string type, string reason, string message, DateTime now) => new()
    {
        Type = type, Status = "False", Reason = reason, Message = message, LastHeartbeatTime = now, LastTransitionTime = _startedAt,
    };

    private static long MemoryKi()
    {
        // "MemTotal:       24684544 kB"
        var line = File.Exists("/proc/meminfo") ? File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemTotal:")) : null;
        var digits = line?.Split(' ', StringSplitOptions.RemoveEmptyEntries).ElementAtOrDefault(1);
        return long.TryParse(digits, out var kb) ? kb : GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 1024;
    }

    private static long EphemeralStorageKi()
    {
        try { return new DriveInfo("/").TotalSize / 1024; }
        catch (Exception) { return 0; }
    }

    private static string OsImage()
    {
        const string key = "PRETTY_NAME=";
        var line = File.Exists("/etc/os-release") ? File.ReadLines("/etc/os-release").FirstOrDefault(l => l.StartsWith(key)) : null;
        return line is null ? RuntimeInformation.OSDescription : line[key.Length..].Trim('"');
    }

    private static string? ReadFirstLine(string path)
    {
        try { return File.Exists(path) ? File.ReadLines(path).FirstOrDefault()?.Trim() : null; }
        catch (Exception) { return null; }
    }
}
