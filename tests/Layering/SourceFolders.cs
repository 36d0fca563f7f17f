using System.Text.RegularExpressions;

namespace Orchestrator.Layering;

/// <summary>The layering rule reads namespaces; this keeps them equal to the folders they are written in.</summary>
internal static partial class SourceFolders
{
    /// <summary>The source directory of a project of this repository (src/&lt;project&gt;), found above the test's
    /// output directory.</summary>
    public static string Of(string project)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Orchestrator.sln")))
                return Path.Combine(dir.FullName, "src", project);
        throw new DirectoryNotFoundException($"no Orchestrator.sln above {AppContext.BaseDirectory}");
    }

    /// <summary>One line per C# file whose namespace is not <paramref name="rootNamespace"/> plus its folder path
    /// (files without a namespace, such as top-level statements, are the root's).</summary>
    public static IReadOnlyList<string> Mismatches(string sourceDirectory, string rootNamespace) =>
        Directory.EnumerateFiles(sourceDirectory, "*.cs", SearchOption.AllDirectories)
            .Select(file => Path.GetRelativePath(sourceDirectory, file))
            .Where(relative => !relative.StartsWith("bin" + Path.DirectorySeparatorChar, StringComparison.Ordinal)
                               && !relative.StartsWith("obj" + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            .Select(relative =>
            {
                var folder = Path.GetDirectoryName(relative) ?? "";
                var expected = folder.Length == 0 ? rootNamespace : $"{rootNamespace}.{folder.Replace(Path.DirectorySeparatorChar, '.')}";
                var declared = Namespace().Match(File.ReadAllText(Path.Combine(sourceDirectory, relative)));
                return declared.Success && declared.Groups[1].Value != expected
                    ? $"{relative} declares namespace {declared.Groups[1].Value}, its folder says {expected}"
                    : null;
            })
            .OfType<string>()
            .Order(StringComparer.Ordinal)
            .ToList();

    [GeneratedRegex(@"^namespace ([\w.]+)\s*[;{]", RegexOptions.Multiline)]
    private static partial Regex Namespace();
}
