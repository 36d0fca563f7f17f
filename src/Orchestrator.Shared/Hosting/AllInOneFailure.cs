namespace Orchestrator.Shared.Hosting;

/// <summary>
/// What orchestrator-all-in-one says when one of its two halves fails: the master and the node live and die together
/// there (issue 19's cost of one process), so the process ends, non-zero, with one line naming the half and the cause
/// as its last line (deploy/up.sh shows a log's last line when a start fails).
/// </summary>
public static class AllInOneFailure
{
    /// <summary>The last line when <paramref name="part"/> ("master" or "node") ended without being asked to:
    /// with its error (<paramref name="error"/>, the line its program wrote) or, when it gave none, as stopped by
    /// itself (a host stops when one of its background services throws, and its run then ends as if asked to).</summary>
    public static string Ended(string part, string? error) =>
        $"{AllInOneArguments.Program}: the {part} {(error is null ? "stopped by itself (nothing asked it to; its log above says why)" : $"failed: {OneLine(error).TrimEnd('.')}")}; " +
        $"the {Other(part)} stopped with it";

    /// <summary>The last line after an exception nothing caught (on any thread): the runtime would end the whole process
    /// with its report; the half whose code threw is named when its frames say so.</summary>
    public static string Unhandled(Exception exception) =>
        $"{AllInOneArguments.Program}: the {PartOf(exception.ToString()) ?? "master or the node"} failed: an exception nothing caught " +
        $"({exception.GetType().FullName}: {OneLine(exception.Message)}); the process ends, the master and the node with it";

    /// <summary>"master" or "node": whose code is the innermost frame of <paramref name="report"/> (an exception's
    /// ToString(): inner exceptions' frames first, each stack innermost first) in Orchestrator.Master or
    /// Orchestrator.Node; null when neither's code is on it (a library's thread, or only shared code).</summary>
    public static string? PartOf(string report)
    {
        foreach (var line in report.Split('\n'))
        {
            var frame = line.TrimStart();
            if (frame.StartsWith("at Orchestrator.Master.", StringComparison.Ordinal)) return "master";
            if (frame.StartsWith("at Orchestrator.Node.", StringComparison.Ordinal)) return "node";
        }
        return null;
    }

    private static string OneLine(string text) => string.Join(' ', text.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));

    private static string Other(string part) => part == "master" ? "node" : "master";
}
