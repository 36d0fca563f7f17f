using System.Text.RegularExpressions;

namespace Orchestrator.Shared.Api;

/// <summary>
/// Ingress paths as regular expressions (use-regex, or a rewrite-target with $n captures), as ingress-nginx makes them:
/// the path is matched case-insensitively from the start of the request path (nginx's <c>location ~* "^path"</c>).
/// Shared by the node, which routes with them, and the master, which warns about a path that does not compile.
/// </summary>
public static class IngressPathRegex
{
    // a backtracking pattern gets a bound per match, so one hostile path cannot stall the proxy
    private static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(50);

    /// <summary>Whether an Ingress's ImplementationSpecific paths are regular expressions: use-regex "true", or a
    /// rewrite-target naming a capture ($1 …), which ingress-nginx also reads as a regex location.</summary>
    public static bool Implied(IDictionary<string, string>? annotations) =>
        annotations is not null
        && ((annotations.TryGetValue(IngressAnnotations.UseRegex, out var use) && use == "true")
            || (annotations.TryGetValue(IngressAnnotations.RewriteTarget, out var target) && HasCapture(target)));

    public static bool HasCapture(string target) => Regex.IsMatch(target, @"\$[0-9]");

    /// <summary>The compiled path, or the reason it does not compile. Non-backtracking where the pattern allows it
    /// (linear time), else backtracking with a match timeout.</summary>
    public static (Regex? Regex, string? Problem) Compile(string path)
    {
        var pattern = "^(?:" + path + ")";
        const RegexOptions options = RegexOptions.IgnoreCase | RegexOptions.CultureInvariant;
        try
        {
            try
            {
                return (new Regex(pattern, options | RegexOptions.NonBacktracking), null);
            }
            catch (NotSupportedException)
            {
                return (new Regex(pattern, options, MatchTimeout), null);
            }
        }
        catch (RegexParseException e)
        {
            // the offset within the path as written (the pattern adds "^(?:" before it)
            return (null, $"path '{path}' is not a valid regular expression: {e.Error} at offset {Math.Max(0, e.Offset - 4)}");
        }
        catch (ArgumentException e)
        {
            // anything else the parser refuses (a quantifier past its range): never an exception out of route building
            return (null, $"path '{path}' is not a valid regular expression: {e.Message}");
        }
    }

    /// <summary>The match of a request path, or null (no match, or the match took too long).</summary>
    public static Match? MatchPath(Regex regex, string path)
    {
        try
        {
            var match = regex.Match(path);
            return match.Success ? match : null;
        }
        catch (RegexMatchTimeoutException)
        {
            return null;
        }
    }

    /// <summary>nginx's rewrite: the whole path becomes the target, with $n replaced by the n-th capture ("" when absent).</summary>
    public static string Rewrite(string target, Match match) =>
        Regex.Replace(target, @"\$([0-9])", m =>
        {
            var group = match.Groups[m.Groups[1].Value[0] - '0'];
            return group.Success ? group.Value : "";
        });
}
