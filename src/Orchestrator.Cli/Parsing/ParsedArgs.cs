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

    public bool GetBool(string name) => Get(name) is { } v && v is not ("false" or "0");

    public int? GetInt(string name)
    {
        var text = Get(name);
        if (text is null) return null;
        return int.TryParse(text, out var n) ? n : throw new UsageException($"invalid argument \"{text}\" for \"--{name}\" flag: not an integer");
    }

    internal void Add(string name, string value)
    {
        if (!_flags.TryGetValue(name, out var list)) _flags[name] = list = [];
        list.Add(value);
    }

    /// <summary>
    /// Parses kubectl-style flags: --name=value, --name value, -x value, -xvalue, boolean --name / --name=false,
    /// flags anywhere between positionals, everything after "--" verbatim. Unknown flags are errors.
    /// </summary>
    public static ParsedArgs Parse(CommandSpec spec, IReadOnlyList<string> args)
    {
        var parsed = new ParsedArgs();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg == "--")
            {
                parsed.AfterDashes.AddRange(args.Skip(i + 1));
                break;
            }
            if (arg.StartsWith("--", StringComparison.Ordinal))
            {
                var eq = arg.IndexOf('=');
                var name = eq < 0 ? arg[2..] : arg[2..eq];
                var flag = spec.Find(name) ?? throw new UsageException($"unknown flag: --{name}");
                if (!flag.TakesValue)
                    parsed.Add(flag.Name, eq < 0 ? "true" : arg[(eq + 1)..]);
                else if (eq >= 0)
                    parsed.Add(flag.Name, arg[(eq + 1)..]);
                else if (i + 1 < args.Count)
                    parsed.Add(flag.Name, args[++i]);
                else
                    throw new UsageException($"flag needs an argument: --{name}");
            }
            else if (arg.Length > 1 && arg[0] == '-' && !char.IsDigit(arg[1]))
            {
                var flag = spec.FindShort(arg[1]) ?? throw new UsageException($"unknown shorthand flag: '{arg[1]}' in {arg}");
                var rest = arg[2..];
                if (!flag.TakesValue)
                {
                    if (rest.Length > 0) throw new UsageException($"unknown shorthand flag: '{rest[0]}' in {arg}");
                    parsed.Add(flag.Name, "true");
                }
                else if (rest.Length > 0)
                    parsed.Add(flag.Name, rest.StartsWith('=') ? rest[1..] : rest);
                else if (i + 1 < args.Count)
                    parsed.Add(flag.Name, args[++i]);
                else
                    throw new UsageException($"flag needs an argument: '{arg[1]}' in {arg}");
            }
            else
            {
                parsed.Positionals.Add(arg);
            }
        }
        // A flag given twice that is not repeatable: the last one wins, as with kubectl (pflag).
        foreach (var flag in spec.Flags.Concat(CommandSpec.GlobalFlags))
            if (!flag.Repeatable && parsed.GetAll(flag.Name).Count > 1)
                parsed._flags[flag.Name] = [parsed._flags[flag.Name][^1]];
        return parsed;
    }
}

/// <summary>A mistake on the command line: printed as one line, exit code 1 (kubectl's convention).</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>An error to print as one line and exit non-zero (server errors, unreachable cluster).</summary>
internal sealed class CliException(string message) : Exception(message);
