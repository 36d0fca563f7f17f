using Orchestrator.Node.Host;

namespace Orchestrator.Node.Runtime;

/// <summary>
/// A volume mount's <c>subPath</c> (or expanded <c>subPathExpr</c>) as the kubelet prepares it: never absolute, no ".."
/// component, created inside the volume when missing (with the volume's mode) without following a link out of it, and
/// resolved — every symbolic link — to a path that must still lie inside the volume. Docker then binds that resolved
/// path. The messages are the kubelet's (they name no host path); the container waits in CreateContainerConfigError.
/// </summary>
internal static class SubPaths
{
    /// <summary>The kubelet's checks of the path itself (before any file is looked at); null when it is acceptable.</summary>
    public static string? Check(string subPath)
    {
        if (subPath.StartsWith('/')) return $"error SubPath `{subPath}` must not be an absolute path";
        return subPath.Split('/').Contains("..") ? $"unable to provision SubPath `{subPath}`: must not contain '..'" : null;
    }

    /// <summary>The host path to bind for <paramref name="subPath"/> of the volume at <paramref name="volumePath"/>.</summary>
    public static string Prepare(string volumePath, string subPath, string mountName, string containerName)
    {
        if (Check(subPath) is { } invalid) throw new ContainerConfigException(invalid);
        var root = HostFiles.Resolve(volumePath) ?? throw PrepareFailed(mountName, containerName);
        if (HostFiles.TypeOf(Path.Combine(root, subPath)) == HostFileType.Missing) MakeDirectories(root, subPath, mountName, containerName);
        var resolved = HostFiles.Resolve(Path.Combine(root, subPath));
        if (resolved is null || !HostFiles.IsWithin(resolved, root)) throw PrepareFailed(mountName, containerName);
        return resolved;
    }

    /// <summary>Creates the missing directories of <paramref name="subPath"/> one by one, each existing step resolved
    /// and kept inside the volume (the kubelet's SafeMakeDir); new ones get the volume's permissions.</summary>
    private static void MakeDirectories(string root, string subPath, string mountName, string containerName)
    {
        var mode = (UnixFileMode)(HostFiles.PermissionsOf(root) ?? 0x1ED); // 0755
        var current = root;
        foreach (var part in subPath.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part == ".") continue;
            var next = Path.Combine(current, part);
            if (HostFiles.TypeOf(next) == HostFileType.Missing)
            {
                // a dangling link is "missing" but present: creating through it could land anywhere
                if (new FileInfo(next).LinkTarget is not null) throw CreateFailed(mountName, containerName);
                try { HostFiles.CreateDirectory(next, mode); }
                catch (IOException) { throw CreateFailed(mountName, containerName); }
                catch (UnauthorizedAccessException) { throw CreateFailed(mountName, containerName); }
            }
            var resolved = HostFiles.Resolve(next);
            if (resolved is null || !HostFiles.IsWithin(resolved, root)) throw CreateFailed(mountName, containerName);
            current = resolved;
        }
    }

    private static ContainerConfigException CreateFailed(string mount, string container) =>
        new($"failed to create subPath directory for volumeMount \"{mount}\" of container \"{container}\"");

    private static ContainerConfigException PrepareFailed(string mount, string container) =>
        new($"failed to prepare subPath for volumeMount \"{mount}\" of container \"{container}\"");
}
