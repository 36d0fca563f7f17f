using System.Runtime.InteropServices;

namespace Orchestrator.Master.Store;

/// <summary>
/// Gives the C library's free heap memory back to the system (glibc's malloc_trim). SQLite reads and writes large
/// records through malloc; after a burst of them glibc keeps the freed memory in its arenas for good.
/// </summary>
internal static class NativeMemory
{
    public static void Trim()
    {
        if (!OperatingSystem.IsLinux()) return;
        try
        {
            _ = malloc_trim(0);
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            // not glibc (musl): nothing to trim this way
        }
    }

    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int malloc_trim(nuint pad);
}
