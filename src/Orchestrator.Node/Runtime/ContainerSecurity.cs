using System.Globalization;
using Docker.DotNet.Models;
using k8s.Models;

namespace Orchestrator.Node.Runtime;

/// <summary>The user an image runs as (its USER: "name", "uid", "uid:gid", or empty for root).</summary>
internal sealed record ImageUser(string User)
{
    public static readonly ImageUser Root = new("");
}

/// <summary>
/// A pod's and a container's security context as Docker runs it, field by field as the kubelet (dockershim) did:
/// privileged → Privileged; capabilities → CapAdd/CapDrop (Kubernetes' names; Docker accepts them with or without
/// CAP_); readOnlyRootFilesystem → ReadonlyRootfs; runAsUser/runAsGroup → User (a group alone goes with the image's
/// user); supplementalGroups and fsGroup → GroupAdd; allowPrivilegeEscalation=false → no-new-privileges; procMount
/// Unmasked → no masked or read-only /proc paths; seccompProfile, appArmorProfile, seLinuxOptions → security options;
/// hostPID/hostIPC/shareProcessNamespace → PID and IPC modes; the non-network sysctls. runAsNonRoot is verified
/// against the effective user with the kubelet's messages. Container fields win over the pod's. Nothing here is
/// ignored: what Docker cannot do is refused by the API's admission before it reaches a node.
/// </summary>
internal static class ContainerSecurity
{
    /// <summary>The kubelet's directory of Localhost seccomp profiles (<c>{root-dir}/seccomp</c>).</summary>
    public const string SeccompProfileRoot = "/var/lib/kubelet/seccomp";

    public static void Apply(V1Pod pod, V1Container container, ImageUser image, HostConfig host, CreateContainerParameters parameters,
        string? sandboxId, string seccompRoot = SeccompProfileRoot)
    {
        var podContext = pod.Spec.SecurityContext;
        var context = container.SecurityContext;
        VerifyRunAsNonRoot(pod, container, image);

        host.Privileged = context?.Privileged ?? false;
        if (context?.Capabilities is { } capabilities)
        {
            if (capabilities.Add is { Count: > 0 } add) host.CapAdd = add.ToList();
            if (capabilities.Drop is { Count: > 0 } drop) host.CapDrop = drop.ToList();
        }
        host.ReadonlyRootfs = context?.ReadOnlyRootFilesystem ?? false;
        parameters.User = UserOf(context?.RunAsUser ?? podContext?.RunAsUser, context?.RunAsGroup ?? podContext?.RunAsGroup, image);

        var groups = (podContext?.SupplementalGroups ?? []).OfType<long>().ToList();
        if (podContext?.FsGroup is { } fsGroup && !groups.Contains(fsGroup)) groups.Add(fsGroup);
        if (groups.Count > 0) host.GroupAdd = groups.Select(g => g.ToString(CultureInfo.InvariantCulture)).ToList();

        var options = new List<string>();
        if (context?.AllowPrivilegeEscalation == false) options.Add("no-new-privileges");
        if (context?.ProcMount == "Unmasked")
        {
            host.MaskedPaths = [];
            host.ReadonlyPaths = [];
        }
        options.AddRange(Seccomp(context?.SeccompProfile ?? podContext?.SeccompProfile, seccompRoot));
        options.AddRange(AppArmor(context?.AppArmorProfile ?? podContext?.AppArmorProfile));
        options.AddRange(SeLinux(context?.SeLinuxOptions ?? podContext?.SeLinuxOptions));
        if (options.Count > 0) host.SecurityOpt = options;

        if (pod.Spec.HostPID == true) host.PidMode = "host";
        else if (pod.Spec.ShareProcessNamespace == true && sandboxId is not null) host.PidMode = $"container:{sandboxId}";
        if (pod.Spec.HostIPC == true) host.IpcMode = "host";
        // the network's sysctls belong to the sandbox (it owns the network namespace); the others to each container
        var own = (podContext?.Sysctls ?? []).Where(s => !IsNetworkSysctl(s.Name)).ToDictionary(s => s.Name, s => s.Value);
        if (own.Count > 0) host.Sysctls = own;
    }

    /// <summary>The sandbox's part: the pod's network sysctls (its network namespace), and the host's PID and IPC
    /// namespaces when the pod asks for them.</summary>
    public static void ApplyToSandbox(V1Pod pod, HostConfig host)
    {
        var network = (pod.Spec.SecurityContext?.Sysctls ?? []).Where(s => IsNetworkSysctl(s.Name)).ToDictionary(s => s.Name, s => s.Value);
        if (network.Count > 0 && pod.Spec.HostNetwork != true) host.Sysctls = network;
        if (pod.Spec.HostPID == true) host.PidMode = "host";
        if (pod.Spec.HostIPC == true) host.IpcMode = "host";
    }

    public static bool IsNetworkSysctl(string name) => name.StartsWith("net.", StringComparison.Ordinal);

    /// <summary>Docker's User: "uid", "uid:gid", or with only a group the image's user and that group.</summary>
    internal static string? UserOf(long? uid, long? gid, ImageUser image)
    {
        if (uid is null && gid is null) return null;
        var user = uid is { } id ? id.ToString(CultureInfo.InvariantCulture) : ImageUserName(image) ?? "0";
        return gid is { } group ? $"{user}:{group.ToString(CultureInfo.InvariantCulture)}" : user;
    }

    private static string? ImageUserName(ImageUser image) =>
        image.User.Split(':')[0] is { Length: > 0 } name ? name : null;

    /// <summary>The kubelet's verifyRunAsNonRoot: with runAsNonRoot the effective user must be a non-zero uid.</summary>
    internal static void VerifyRunAsNonRoot(V1Pod pod, V1Container container, ImageUser image)
    {
        var context = container.SecurityContext;
        var podContext = pod.Spec.SecurityContext;
        if ((context?.RunAsNonRoot ?? podContext?.RunAsNonRoot) != true) return;
        var format = $"{pod.Metadata.Name}_{pod.Metadata.NamespaceProperty ?? "default"}({pod.Metadata.Uid})";
        if ((context?.RunAsUser ?? podContext?.RunAsUser) is { } runAsUser)
        {
            if (runAsUser == 0)
                throw new ContainerConfigException($"container's runAsUser breaks non-root policy (pod: \"{format}\", container: {container.Name})");
            return;
        }
        var name = ImageUserName(image) ?? "";
        if (name.Length == 0)
            throw new ContainerConfigException($"container has runAsNonRoot and image will run as root (pod: \"{format}\", container: {container.Name})");
        if (!long.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var uid))
            throw new ContainerConfigException(
                $"container has runAsNonRoot and image has non-numeric user ({name}), cannot verify user is non-root (pod: \"{format}\", container: {container.Name})");
        if (uid == 0)
            throw new ContainerConfigException($"container has runAsNonRoot and image will run as root (pod: \"{format}\", container: {container.Name})");
        if (uid > int.MaxValue)
            throw new ContainerConfigException(
                $"container has runAsNonRoot and image has an invalid user id ({uid}). (Must be 1-({int.MaxValue})): must be between 0 and 2147483647, inclusive (pod: \"{format}\", container: {container.Name})");
    }

    /// <summary>RuntimeDefault, and no profile (this node runs like a kubelet with --seccomp-default): Docker's default
    /// profile; Unconfined; Localhost: the JSON profile file under the kubelet's seccomp directory.</summary>
    private static IEnumerable<string> Seccomp(V1SeccompProfile? profile, string root)
    {
        switch (profile?.Type)
        {
            case null or "RuntimeDefault":
                yield break;
            case "Unconfined":
                yield return "seccomp=unconfined";
                yield break;
            case "Localhost":
                var path = Path.Combine(root, profile.LocalhostProfile ?? "");
                string json;
                try { json = File.ReadAllText(path); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw new ContainerConfigException($"failed to load seccomp profile \"{path}\": {e.Message}");
                }
                yield return "seccomp=" + json;
                yield break;
            default:
                throw new ContainerConfigException($"unsupported seccomp profile type \"{profile.Type}\"");
        }
    }

    private static IEnumerable<string> AppArmor(V1AppArmorProfile? profile) => profile?.Type switch
    {
        null or "RuntimeDefault" => [],
        "Unconfined" => ["apparmor=unconfined"],
        "Localhost" => ["apparmor=" + profile.LocalhostProfile],
        _ => throw new ContainerConfigException($"unsupported AppArmor profile type \"{profile.Type}\""),
    };

    private static IEnumerable<string> SeLinux(V1SELinuxOptions? options)
    {
        if (options is null) yield break;
        if (!string.IsNullOrEmpty(options.User)) yield return "label=user:" + options.User;
        if (!string.IsNullOrEmpty(options.Role)) yield return "label=role:" + options.Role;
        if (!string.IsNullOrEmpty(options.Type)) yield return "label=type:" + options.Type;
        if (!string.IsNullOrEmpty(options.Level)) yield return "label=level:" + options.Level;
    }
}
