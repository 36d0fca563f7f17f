using System.Text.RegularExpressions;

namespace Orchestrator.Master.Registry.CustomResources;

/// <summary>
/// The order of apimachinery's CompareKubeAwareVersionStrings, highest priority first: GA versions, then beta, then
/// alpha (each by major, then minor, higher first), then versions not of that form (by name).
/// </summary>
internal static partial class KubeVersionPriority
{
    /// <summary>A sort key (ascending = highest priority first).</summary>
    public static (int Stage, int Major, int Minor) Key(string version)
    {
        var match = KubeLike().Match(version);
        if (!match.Success) return (3, 0, 0);
        var major = int.Parse(match.Groups[1].Value);
        var stage = match.Groups[2].Value switch { "" => 0, "beta" => 1, _ => 2 };
        var minor = match.Groups[3].Success ? int.Parse(match.Groups[3].Value) : 0;
        return (stage, -major, -minor);
    }

    [GeneratedRegex("^v([0-9]+)(?:(alpha|beta)([0-9]+))?\\z")]
    private static partial Regex KubeLike();
}
