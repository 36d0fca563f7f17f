namespace Orchestrator.Shared.Hosting;

/// <summary>
/// The command line of orchestrator-all-in-one, the master and one node in one process:
/// <c>orchestrator-all-in-one [master flags] [-- node flags]</c>. Each part is then resolved by its own program's flags
/// (orchestrator-master's and orchestrator-node's, with their environment variables and --config files), so every
/// message about a flag names the program it belongs to.
/// </summary>
public static class AllInOneArguments
{
    public const string Program = "orchestrator-all-in-one";
    public const string Separator = "--";

    /// <summary>The usage line, also in every error about the split.</summary>
    public const string Usage = $"usage: {Program} [master flags] [{Separator} node flags]";

    /// <summary>Splits at the first <c>--</c>: the master's flags before it, the node's after it (none: the node's
    /// defaults). An error is one line (without the program's name) when the command line cannot be split.</summary>
    public static (string[] Master, string[] Node, string? Error) Split(IReadOnlyList<string> args)
    {
        var at = args.ToList().IndexOf(Separator);
        if (at < 0) return ([.. args], [], null);
        string[] master = [.. args.Take(at)], node = [.. args.Skip(at + 1)];
        if (node.Contains(Separator))
            return ([], [], $"'{Separator}' may separate the master's flags from the node's only once ({Usage})");
        if (node is ["api-server-proxy", ..])
            return ([], [], "the node's api-server-proxy command runs only as a process of its own: orchestrator-node api-server-proxy …");
        return (master, node, null);
    }

    /// <summary>Whether the master's part asks for help (the node's part asks the node's own parser).</summary>
    public static bool WantsHelp(IReadOnlyList<string> master) => master.Any(a => a is "--help" or "-h" or "-?" or "/?" or "/h");

    /// <summary>The node's flags, with <c>--master</c> and <c>--cluster-cert</c> first: the embedded master's cluster
    /// address and certificate, so the node joins its own master unless its flags say otherwise (a flag given twice,
    /// the last one counts; the command line wins over ORCHESTRATOR_NODE_MASTER and the --config file).</summary>
    public static string[] NodeArgs(IReadOnlyList<string> node, string clusterAddress, string clusterPort, string clusterCertificate) =>
        ["--master", $"{clusterAddress}:{clusterPort}", "--cluster-cert", clusterCertificate, .. node];
}
