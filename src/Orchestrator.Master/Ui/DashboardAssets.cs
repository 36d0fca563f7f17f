using System.Reflection;
using System.Security.Cryptography;

namespace Orchestrator.Master.Ui;

/// <summary>One file of the dashboard's bundle: its bytes, its gzip and brotli forms when the build made them, its type
/// and strong ETag.</summary>
internal sealed record DashboardAsset(string Path, string ContentType, byte[] Content, byte[]? Gzip, byte[]? Brotli, string ETag)
{
    /// <summary>esbuild names every file but the page with its content hash (<c>app-5KQ2X7.js</c>), so they never change.</summary>
    public bool Immutable => Path != IndexPage;

    public const string IndexPage = "index.html";
}

/// <summary>
/// The dashboard's files, built by <c>npm run build</c> in <c>Ui/web</c> (which also writes each file's <c>.gz</c> and
/// <c>.br</c> forms) and embedded in the master's assembly as resources named <c>ui/…</c>. Nothing is read from disk,
/// compressed or fetched at run time.
/// </summary>
internal sealed class DashboardAssets
{
    public const string ResourcePrefix = "ui/";
    private readonly Lazy<IReadOnlyDictionary<string, DashboardAsset>> _assets;

    public DashboardAssets() : this(typeof(DashboardAssets).Assembly) { }

    public DashboardAssets(Assembly assembly) => _assets = new(() => Load(assembly));

    public bool Built => _assets.Value.ContainsKey(DashboardAsset.IndexPage);

    public DashboardAsset? Find(string path) => _assets.Value.GetValueOrDefault(path);

    private static Dictionary<string, DashboardAsset> Load(Assembly assembly)
    {
        var files = assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal))
            .ToDictionary(n => n[ResourcePrefix.Length..], n => Read(assembly, n), StringComparer.Ordinal);
        var assets = new Dictionary<string, DashboardAsset>(StringComparer.Ordinal);
        foreach (var (path, content) in files)
        {
            if (path.EndsWith(".gz", StringComparison.Ordinal) || path.EndsWith(".br", StringComparison.Ordinal)) continue;
            assets[path] = new DashboardAsset(path, ContentTypeOf(path), content, files.GetValueOrDefault(path + ".gz"),
                files.GetValueOrDefault(path + ".br"), "\"" + Convert.ToBase64String(SHA256.HashData(content), 0, 12) + "\"");
        }
        return assets;
    }

    private static byte[] Read(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name)!;
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return buffer.ToArray();
    }

    private static string ContentTypeOf(string path) => Path.GetExtension(path) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        ".png" => "image/png",
        ".ico" => "image/x-icon",
        ".json" or ".map" => "application/json",
        ".woff2" => "font/woff2",
        _ => "application/octet-stream",
    };
}
