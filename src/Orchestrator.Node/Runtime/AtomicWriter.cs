using System.Globalization;
using Orchestrator.Node.Host;

namespace Orchestrator.Node.Runtime;

/// <summary>
/// Kubernetes' atomic writer for configMap, secret, downwardAPI and projected volumes: the files go into a new
/// timestamped directory (<c>..2026_01_02_15_04_05.123456789</c>), the <c>..data</c> link is swapped to it in one rename,
/// and each top-level name the user sees is a link through <c>..data</c> — so a reader sees the old set or the new one,
/// never a mix. Nothing is written when the volume already holds the payload. Paths are relative without ".." (pod
/// validation refuses others; checked again here).
/// </summary>
internal static class AtomicWriter
{
    public const string DataDir = "..data";
    private const string DataDirTmp = "..data_tmp";
    private const UnixFileMode DirectoryMode = (UnixFileMode)0x1ED; // 0755

    /// <summary>Writes <paramref name="files"/> into <paramref name="target"/>; true when it changed anything.</summary>
    public static bool Write(string target, IReadOnlyList<ProjectedFile> files, long? fsGroup = null)
    {
        foreach (var file in files)
            if (file.Path.Length == 0 || file.Path.StartsWith('/') || file.Path.Split('/').Any(p => p is ".." || p.StartsWith("..", StringComparison.Ordinal)))
                throw new InvalidOperationException($"invalid path in volume payload: {file.Path}");
        var dataLink = Path.Combine(target, DataDir);
        var current = new FileInfo(dataLink).LinkTarget;
        var currentDir = current is null ? null : Path.Combine(target, current);
        if (currentDir is not null && Holds(currentDir, files, fsGroup))
        {
            EnsureUserLinks(target, files);
            return false;
        }

        var stamp = DateTime.UtcNow.ToString("yyyy_MM_dd_HH_mm_ss", CultureInfo.InvariantCulture);
        var name = $"..{stamp}.{Random.Shared.NextInt64(1_000_000_000, 9_999_999_999)}";
        var dir = Path.Combine(target, name);
        HostFiles.CreateDirectory(dir, DirectoryMode);
        foreach (var file in files)
        {
            var path = Path.Combine(dir, file.Path);
            var parent = Path.GetDirectoryName(path)!;
            if (!Directory.Exists(parent)) MakeParents(dir, parent);
            File.WriteAllBytes(path, file.Content);
            HostFiles.SetMode(path, (UnixFileMode)ModeOf(file, fsGroup));
            if (fsGroup is { } group) HostFiles.ChangeGroup(path, group);
        }
        if (fsGroup is { } g)
        {
            foreach (var sub in Directory.EnumerateDirectories(dir, "*", SearchOption.AllDirectories).Append(dir))
            {
                HostFiles.ChangeGroup(sub, g);
                HostFiles.SetMode(sub, DirectoryMode | UnixFileMode.SetGroup);
            }
        }

        var tmp = Path.Combine(target, DataDirTmp);
        if (File.Exists(tmp) || new FileInfo(tmp).LinkTarget is not null) File.Delete(tmp);
        File.CreateSymbolicLink(tmp, name);
        if (Rename(tmp, dataLink) != 0) throw new IOException($"swapping {DataDir} in {target} failed");

        EnsureUserLinks(target, files);
        var wanted = TopLevel(files);
        foreach (var entry in new DirectoryInfo(target).EnumerateFileSystemInfos())
        {
            if (entry.Name.StartsWith("..", StringComparison.Ordinal) || wanted.Contains(entry.Name)) continue;
            if (entry.LinkTarget is { } link && link.StartsWith(DataDir + "/", StringComparison.Ordinal)) entry.Delete();
        }
        if (currentDir is not null && current != name && Directory.Exists(currentDir)) Directory.Delete(currentDir, recursive: true);
        return true;
    }

    /// <summary>With an fsGroup the kubelet makes the files readable by the group (SetVolumeOwnership's read-only mask).</summary>
    private static int ModeOf(ProjectedFile file, long? fsGroup) => fsGroup is null ? file.Mode & 0xFFF : (file.Mode | 0x120) & 0xFFF;

    private static HashSet<string> TopLevel(IEnumerable<ProjectedFile> files) =>
        files.Select(f => f.Path.Split('/')[0]).ToHashSet(StringComparer.Ordinal);

    private static void EnsureUserLinks(string target, IReadOnlyList<ProjectedFile> files)
    {
        foreach (var top in TopLevel(files))
        {
            var link = Path.Combine(target, top);
            if (new FileInfo(link).LinkTarget == $"{DataDir}/{top}") continue;
            if (File.Exists(link) || new FileInfo(link).LinkTarget is not null) File.Delete(link);
            File.CreateSymbolicLink(link, $"{DataDir}/{top}");
        }
    }

    /// <summary>True when <paramref name="dir"/> holds exactly these files with these contents and modes.</summary>
    private static bool Holds(string dir, IReadOnlyList<ProjectedFile> files, long? fsGroup)
    {
        if (!Directory.Exists(dir)) return false;
        var present = Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Select(p => Path.GetRelativePath(dir, p).Replace('\\', '/')).ToHashSet();
        if (present.Count != files.Count) return false;
        foreach (var file in files)
        {
            var path = Path.Combine(dir, file.Path);
            if (!present.Contains(file.Path) || HostFiles.PermissionsOf(path) != ModeOf(file, fsGroup)) return false;
            if (!File.ReadAllBytes(path).AsSpan().SequenceEqual(file.Content)) return false;
        }
        return true;
    }

    private static void MakeParents(string root, string parent)
    {
        var current = root;
        foreach (var part in Path.GetRelativePath(root, parent).Split('/'))
        {
            current = Path.Combine(current, part);
            if (!Directory.Exists(current)) HostFiles.CreateDirectory(current, DirectoryMode);
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "rename", SetLastError = true)]
    private static extern int Rename(string from, string to);
}
