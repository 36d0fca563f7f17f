using k8s.Models;
using Orchestrator.Node.Host;

namespace Orchestrator.Node.Runtime;

/// <summary>
/// A hostPath volume's set-up on the node, as the kubelet's hostPath plugin does it before the pod's sandbox runs: no
/// ".." in the path, and the <c>type</c> checked — DirectoryOrCreate and FileOrCreate create a missing path (0755
/// directories, an empty 0644 file), Directory, File, Socket, CharDevice and BlockDevice must exist with that type. An
/// unset type checks nothing. Failures carry the kubelet's messages (FailedMount).
/// </summary>
internal static class HostPathVolumes
{
    public static readonly string[] Types = ["", "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket", "CharDevice", "BlockDevice"];

    public static void SetUp(V1Volume volume)
    {
        var path = volume.HostPath.Path ?? "";
        if (path.Split('/').Contains(".."))
            throw new VolumeSetupException(volume.Name, $"invalid HostPath `{path}`: must not contain '..'");
        if (Check(path, volume.HostPath.Type ?? "") is { } failed) throw new VolumeSetupException(volume.Name, failed);
    }

    /// <summary>Null when <paramref name="path"/> is (or now is) of <paramref name="type"/>; otherwise the kubelet's error.</summary>
    internal static string? Check(string path, string type)
    {
        switch (type)
        {
            case "":
                return null;
            case "DirectoryOrCreate":
                if (HostFiles.TypeOf(path) == HostFileType.Missing) return Create(() => HostFiles.CreateDirectory(path, (UnixFileMode)0x1ED), path);
                return Matches(path, HostFileType.Directory, "directory");
            case "Directory":
                return Matches(path, HostFileType.Directory, "directory");
            case "FileOrCreate":
                if (HostFiles.TypeOf(path) == HostFileType.Missing)
                    return Create(() => HostFiles.CreateFile(path, (UnixFileMode)0x1A4), path); // 0644
                return Matches(path, HostFileType.File, "file");
            case "File":
                return Matches(path, HostFileType.File, "file");
            case "Socket":
                return Matches(path, HostFileType.Socket, "socket file");
            case "CharDevice":
                return Matches(path, HostFileType.CharDevice, "character device");
            case "BlockDevice":
                return Matches(path, HostFileType.BlockDevice, "block device");
            default:
                return $"{type} is an invalid volume type";
        }
    }

    private static string? Matches(string path, HostFileType expected, string description)
    {
        var actual = HostFiles.TypeOf(path);
        if (actual == HostFileType.Missing) return $"hostPath {path} doesn't exist";
        if (actual == HostFileType.Other)
            return $"hostPath type check failed, {path} is not a {description}, unable to determine its type: " +
                   "only recognise file, directory, socket, block device and character device";
        return actual == expected ? null : $"hostPath type check failed: {path} is not a {description}, it's a {actual}";
    }

    private static string? Create(Action create, string path)
    {
        try
        {
            create();
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"open {path}: {e.Message}";
        }
    }
}
