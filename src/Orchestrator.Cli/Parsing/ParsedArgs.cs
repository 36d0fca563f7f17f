namespace Orchestrator.Cli.Parsing;

/// <summary>A command line split the way kubectl splits it: positionals, flags, and what follows "--".</summary>
internal sealed class ParsedArgs
{
    private readonly Dictionary<string, List<string>> _flags = new();

    public List<string> Positionals { get; } = [];
    public List<string> AfterDashes { get; } = [];

    public bool Has(string name) => _flags.ContainsKey(name);

    public string? Get(string name) => _flags.TryGetValue(name, out var v) ? v[^1] : null;

    public IReadOnlyList<string> GetAll(string name) => _flags.TryGetValue(name, out var v) ? v : [];

    public bool GetBool(string name) => Get(name) is { } v && v is not ("false" or "False" or "0");

    public int? GetInt(string name)
    {
        var text = Get(name);
        if (text is null) return null;
        return int.TryParse(text, out var n) ? n : throw new UsageException($"invalid argument \"{text}\" for \"--{name}\" flag: not an integer");
    }

    /// <summary>Parses the arguments after the command's name (System.CommandLine, see <see cref="CommandLine"/>).</summary>
    public static ParsedArgs Parse(CommandSpec spec, IReadOnlyList<string> args) => CommandLine.Parse(spec, args);

    internal void Set(string name, IEnumerable<string> values) => _flags[name] = values.ToList();
}

/// <summary>A mistake on the command line: printed as one line, exit code 1 (kubectl's convention).</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>An error to print as one line and exit non-zero (server errors, unreachable cluster).</summary>
internal sealed class CliException(string message) : Exception(message);
