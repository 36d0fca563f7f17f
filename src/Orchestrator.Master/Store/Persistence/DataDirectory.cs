using System.Runtime.InteropServices;

namespace Orchestrator.Master.Store.Persistence;

/// <summary>
/// The master's data directory holds the journal, keys and tokens: it is made (or made again) mode 0700, and the
/// process's umask becomes 077 before anything is written, so every file is private from the moment it exists
/// (no window between writing a key and restricting it).
/// </summary>
internal static class DataDirectory
{
    public const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    public static void Prepare(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return;
        }
        _ = umask(0b000_111_111); // 077
        Directory.CreateDirectory(path, Private);
        File.SetUnixFileMode(path, Private);
    }

    [DllImport("libc", EntryPoint = "umask")]
    private static extern uint umask(uint mask);
}
