using Microsoft.Extensions.Logging;
using Orchestrator.Node.Host;

namespace Orchestrator.Node.Runtime;

/// <summary>
/// An emptyDir's directory as the kubelet makes it: mode 0777 (any user of the pod may write), and with the pod's
/// fsGroup owned by that group with the set-group-ID bit, so what the pod's containers create there is the group's. The
/// directory is the Docker volume's, on the node's own file system (the node runs beside its Docker engine).
/// </summary>
internal static class EmptyDirs
{
    private const UnixFileMode Everyone = (UnixFileMode)0x1FF; // 0777
    private const UnixFileMode SetGroup = UnixFileMode.SetGroup;

    public static void SetUp(string volume, string directory, long? fsGroup, ILogger log)
    {
        if (HostFiles.TypeOf(directory) != HostFileType.Directory)
        {
            if (fsGroup is not null)
                throw new ContainerConfigException(
                    $"fsGroup: the directory of emptyDir volume \"{volume}\" ({directory}) is not visible to the node, its group cannot be set");
            log.LogWarning("The directory of emptyDir volume {Volume} ({Directory}) is not visible to the node; it keeps Docker's mode", volume, directory);
            return;
        }
        if (fsGroup is { } group) HostFiles.ChangeGroup(directory, group);
        HostFiles.SetMode(directory, Everyone | (fsGroup is null ? 0 : SetGroup));
    }
}
