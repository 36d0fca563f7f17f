namespace Orchestrator.Master.Store;

/// <summary>apimachinery's <c>schema.ParseGroupVersion</c>: an apiVersion without a slash is a version of the core
/// group ("" and "/" are neither group nor version), one slash splits group and version, more is no group version.</summary>
internal static class ApiVersions
{
    /// <summary>The group and version, or null where ParseGroupVersion fails ("unexpected GroupVersion string").</summary>
    public static (string Group, string Version)? Parse(string? apiVersion)
    {
        if (string.IsNullOrEmpty(apiVersion) || apiVersion == "/") return ("", "");
        var slash = apiVersion.IndexOf('/');
        if (slash < 0) return ("", apiVersion);
        if (apiVersion.IndexOf('/', slash + 1) >= 0) return null;
        return (apiVersion[..slash], apiVersion[(slash + 1)..]);
    }

    /// <summary>As <c>schema.FromAPIVersionAndKind</c> reads an apiVersion: one it cannot parse has no group and no version.</summary>
    public static (string Group, string Version) GroupVersionOf(string? apiVersion) => Parse(apiVersion) ?? ("", "");
}
