using System.Runtime.InteropServices;

namespace Orchestrator.Node.Host;

/// <summary>
/// Memory file systems on the node for the volumes the kubelet keeps off the disk (secret and projected volumes): a
/// tmpfs mounted on the volume's directory, unmounted before the directory is removed. Needs the node to run as root
/// on the machine of its Docker engine (or with CAP_SYS_ADMIN and Docker's volume directory shared with it).
/// </summary>
internal static class HostMounts
{
    private const int MntDetach = 2;

    [DllImport("libc", EntryPoint = "mount", SetLastError = true)]
    private static extern int Mount(string source, string target, string type, ulong flags, string data);

    [DllImport("libc", EntryPoint = "umount2", SetLastError = true)]
    private static extern int Umount2(string target, int flags);

    /// <summary>Mounts a tmpfs (mode 0755) on <paramref name="directory"/> unless one is there; null when done, else why not.</summary>
    public static string? EnsureTmpfs(string directory)
    {
        if (IsMountPoint(directory)) return null;
        if (Mount("tmpfs", directory, "tmpfs", 0, "mode=0755") == 0) return null;
        var errno = Marshal.GetLastPInvokeError();
        return $"mounting a tmpfs on the volume's directory failed (errno {errno}: {Marshal.GetPInvokeErrorMessage(errno)}); " +
               "secret and projected volumes need the node to run as root beside its Docker engine";
    }

    /// <summary>Detaches whatever is mounted on <paramref name="directory"/>; nothing mounted is fine.</summary>
    public static void Unmount(string directory)
    {
        if (IsMountPoint(directory)) Umount2(directory, MntDetach);
    }

    /// <summary>True when something is mounted exactly on <paramref name="directory"/> (/proc/self/mountinfo's mount points).</summary>
    public static bool IsMountPoint(string directory)
    {
        var path = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
        try
        {
            foreach (var line in File.ReadLines("/proc/self/mountinfo"))
            {
                var fields = line.Split(' ');
                if (fields.Length > 4 && Unescape(fields[4]) == path) return true;
            }
        }
        catch (IOException) { }
        return false;
    }

    /// <summary>mountinfo escapes space, tab, newline and backslash as octal.</summary>
    private static string Unescape(string field) => field.Contains('\\')
        ? System.Text.RegularExpressions.Regex.Replace(field, @"\\([0-7]{3})", m => ((char)Convert.ToInt32(m.Groups[1].Value, 8)).ToString())
        : field;
}
