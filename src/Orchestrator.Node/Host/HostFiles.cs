using System.Runtime.InteropServices;

namespace Orchestrator.Node.Host;

/// <summary>What a path on the node is, as the kubelet's host utilities name the types.</summary>
internal enum HostFileType
{
    Missing,
    Directory,
    File,
    Socket,
    CharDevice,
    BlockDevice,
    Other,
}

/// <summary>
/// The node's file system as Docker's bind mounts see it (the node runs on the machine of its Docker engine): file types
/// following symbolic links (<c>statx</c>, whose layout is the same on every Linux architecture), the canonical path
/// with every link resolved (<c>realpath</c>), and the ownership and mode changes volumes need.
/// </summary>
internal static class HostFiles
{
    private const int AtFdCwd = -100;
    private const uint StatxType = 0x1, StatxMode = 0x2;
    private const int StatxModeOffset = 28;

    [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
    private static extern int Statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, byte[] buffer);

    [DllImport("libc", EntryPoint = "realpath", SetLastError = true)]
    private static extern IntPtr RealPath([MarshalAs(UnmanagedType.LPUTF8Str)] string path, IntPtr resolved);

    [DllImport("libc", EntryPoint = "free")]
    private static extern void Free(IntPtr pointer);

    [DllImport("libc", EntryPoint = "chown", SetLastError = true)]
    private static extern int Chown([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int uid, int gid);

    /// <summary>The type of <paramref name="path"/>, links followed (a dangling link is <see cref="HostFileType.Missing"/>).</summary>
    public static HostFileType TypeOf(string path) => ModeOf(path) is not { } mode ? HostFileType.Missing : (mode & 0xF000) switch
    {
        0x4000 => HostFileType.Directory,
        0x8000 => HostFileType.File,
        0xC000 => HostFileType.Socket,
        0x2000 => HostFileType.CharDevice,
        0x6000 => HostFileType.BlockDevice,
        _ => HostFileType.Other,
    };

    /// <summary>The permission bits of <paramref name="path"/> (links followed), or null when it does not exist.</summary>
    public static int? PermissionsOf(string path) => ModeOf(path) is { } mode ? mode & 0xFFF : null;

    private static int? ModeOf(string path)
    {
        var buffer = new byte[256];
        if (Statx(AtFdCwd, path, 0, StatxType | StatxMode, buffer) != 0) return null;
        return BitConverter.ToUInt16(buffer, StatxModeOffset);
    }

    /// <summary>The path with every symbolic link, "." and ".." resolved, or null when some part does not exist.</summary>
    public static string? Resolve(string path)
    {
        var resolved = RealPath(path, IntPtr.Zero);
        if (resolved == IntPtr.Zero) return null;
        try { return Marshal.PtrToStringUTF8(resolved); }
        finally { Free(resolved); }
    }

    /// <summary>True when <paramref name="path"/> (resolved) is <paramref name="root"/> (resolved) or lies below it.</summary>
    public static bool IsWithin(string path, string root) =>
        path == root || root == "/" || path.StartsWith(root.EndsWith('/') ? root : root + "/", StringComparison.Ordinal);

    /// <summary>Creates the directory (and its missing parents) with <paramref name="mode"/> (before the umask).</summary>
    public static void CreateDirectory(string path, UnixFileMode mode)
    {
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException();
        Directory.CreateDirectory(path, mode);
    }

    /// <summary>Creates an empty file with <paramref name="mode"/> when none exists; an existing one is left as it is.</summary>
    public static void CreateFile(string path, UnixFileMode mode)
    {
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException();
        File.Open(path, new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.Write, UnixCreateMode = mode }).Dispose();
    }

    public static void SetMode(string path, UnixFileMode mode)
    {
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException();
        File.SetUnixFileMode(path, mode);
    }

    /// <summary>Gives <paramref name="path"/> to group <paramref name="gid"/> (its owner unchanged).</summary>
    public static void ChangeGroup(string path, long gid)
    {
        if (Chown(path, -1, checked((int)gid)) != 0)
            throw new IOException($"chown {path}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
    }
}
