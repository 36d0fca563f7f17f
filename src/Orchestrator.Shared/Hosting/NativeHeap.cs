using System.Runtime.InteropServices;

namespace Orchestrator.Shared.Hosting;

/// <summary>The C library's free heap memory given back to the system (glibc's malloc_trim): native code (SQLite, OpenSSL,
/// the runtime itself) frees into glibc's arenas, which keep the memory for good.</summary>
public static class NativeHeap
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
