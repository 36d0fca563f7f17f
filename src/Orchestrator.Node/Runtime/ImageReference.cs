using System.Text.RegularExpressions;

namespace Orchestrator.Node.Runtime;

/// <summary>
/// An image name as Docker and Kubernetes read it: <c>[domain/]path[:tag][@digest]</c>. A first component with a dot,
/// a colon or "localhost" is a registry; otherwise the image is on Docker Hub ("docker.io", one-word paths under
/// "library/"). No tag and no digest means ":latest".
/// </summary>
internal sealed partial record ImageReference(string Domain, string Path, string? Tag, string? Digest)
{
    public const string DockerHub = "docker.io";

    /// <summary>The reference, or null with <paramref name="error"/> saying why (the kubelet's InvalidImageName).</summary>
    public static ImageReference? TryParse(string? image, out string error)
    {
        error = $"couldn't parse image name \"{image}\": invalid reference format";
        if (string.IsNullOrEmpty(image) || image.Length > 4096) return null;
        var match = Grammar().Match(image);
        if (!match.Success) return null;
        var name = match.Groups["name"].Value;
        var slash = name.IndexOf('/');
        string domain, path;
        if (slash > 0 && (name[..slash].Contains('.') || name[..slash].Contains(':') || name[..slash] == "localhost"))
        {
            domain = name[..slash];
            path = name[(slash + 1)..];
        }
        else
        {
            domain = DockerHub;
            path = slash < 0 ? "library/" + name : name;
        }
        if (domain == "index.docker.io") domain = DockerHub;
        if (path.Any(char.IsUpper) || name.Length > 255) return null;
        error = "";
        return new ImageReference(domain, path,
            match.Groups["tag"].Success ? match.Groups["tag"].Value : null,
            match.Groups["digest"].Success ? match.Groups["digest"].Value : null);
    }

    /// <summary>"docker.io/library/nginx", "127.0.0.1:5000/app".</summary>
    public string Repository => $"{Domain}/{Path}";

    /// <summary>The repository as Docker names it in its store: "nginx", "user/app", "127.0.0.1:5000/app".</summary>
    public string FamiliarRepository => Domain != DockerHub ? Repository : Path.StartsWith("library/", StringComparison.Ordinal) ? Path[8..] : Path;

    /// <summary>With the default tag: a digest wins, then the tag, else ":latest".</summary>
    public string Normalized => Digest is not null ? $"{FamiliarRepository}@{Digest}" : $"{FamiliarRepository}:{Tag ?? "latest"}";

    /// <summary>What Docker's pull API takes as "tag": the digest when there is one.</summary>
    public string PullTag => Digest ?? Tag ?? "latest";

    // name components, an optional host[:port] first; then :tag and/or @algorithm:hex
    [GeneratedRegex(@"^(?<name>(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)(?::(?<tag>[\w][\w.-]{0,127}))?(?:@(?<digest>[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?\z")]
    private static partial Regex Grammar();
}

/// <summary>Kubernetes' imagePullPolicy default (SetDefaults_Container): Always for ":latest" or no tag, else IfNotPresent.</summary>
internal static class ImagePullPolicies
{
    public const string Always = "Always";
    public const string IfNotPresent = "IfNotPresent";
    public const string Never = "Never";

    public static string Effective(string image, string? policy) =>
        policy is { Length: > 0 } ? policy : DefaultFor(image);

    public static string DefaultFor(string image)
    {
        if (image.Contains('@')) return IfNotPresent;
        var lastSegment = image[(image.LastIndexOf('/') + 1)..];
        var colon = lastSegment.LastIndexOf(':');
        return colon < 0 || lastSegment[(colon + 1)..] == "latest" ? Always : IfNotPresent;
    }
}
