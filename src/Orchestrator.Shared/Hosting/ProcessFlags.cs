using System.Collections;
using System.CommandLine;
using System.CommandLine.Help;
using System.Globalization;

namespace Orchestrator.Shared.Hosting;

/// <summary>What a flag's value must be; checked the same way whichever source the value came from.</summary>
public enum FlagKind { Text, Port, Seconds, SecondsOrZero }

/// <summary>One flag of a long-running process. <paramref name="Default"/> null means "not set" (the process decides,
/// and <paramref name="DefaultText"/> says what it does); <paramref name="Check"/> returns an error for a bad value.</summary>
public sealed record Flag(string Name, string Description, string? Default, FlagKind Kind = FlagKind.Text,
    string? DefaultText = null, Func<string, string?>? Check = null)
{
    /// <summary>The environment variable that sets this flag: the prefix, then the name in upper case with '_' for '-'.</summary>
    public string Variable(string prefix) => prefix + Name.ToUpperInvariant().Replace('-', '_');
}

/// <summary>The outcome of resolving a command line: the flags' values, or the exit code when the process stops
/// here (0 after --help, 2 after an error, which has been written as one line).</summary>
public sealed record ResolvedFlags(IReadOnlyDictionary<string, string> Values, int? Exit)
{
    public string? this[string name] => Values.GetValueOrDefault(name);

    /// <summary>The values as "--name value" pairs, for a parser that reads a command line.</summary>
    public string[] ToArgs(params string[] except) =>
        Values.Where(kv => !except.Contains(kv.Key)).SelectMany(kv => new[] { "--" + kv.Key, kv.Value }).ToArray();
}

/// <summary>
/// The flags of orchestrator-master and orchestrator-node, parsed with System.CommandLine. Every flag can also come
/// from an environment variable (prefix + FLAG_NAME) and from the file named by <c>--config</c> (YAML or JSON, the flag
/// names as keys); a flag on the command line wins over the environment, which wins over the file, which wins over
/// the default. Unknown flags, unknown variables with the prefix, unknown keys in the file and values of the wrong
/// kind are errors: one line on stderr and exit code 2.
/// </summary>
public sealed class ProcessFlags
{
    public const string ConfigFlag = "config";

    private readonly string _program;
    private readonly string _prefix;
    private readonly string _summary;

    public ProcessFlags(string program, string environmentPrefix, string summary, IReadOnlyList<Flag> flags)
    {
        _program = program;
        _prefix = environmentPrefix;
        _summary = summary;
        Flags = [.. flags, new Flag(ConfigFlag, "A YAML or JSON file of flags: the flag names without dashes as keys.", null, DefaultText: "none")];
    }

    public IReadOnlyList<Flag> Flags { get; }

    public ResolvedFlags Resolve(IReadOnlyList<string> args) =>
        Resolve(args, Environment.GetEnvironmentVariables().Cast<DictionaryEntry>()
            .ToDictionary(e => (string)e.Key, e => (string?)e.Value ?? ""), Console.Out, Console.Error);

    public ResolvedFlags Resolve(IReadOnlyList<string> args, IReadOnlyDictionary<string, string> environment, TextWriter stdout, TextWriter stderr)
    {
        var (root, options) = Command();
        var parsed = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parsed.Action is HelpAction)
        {
            parsed.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr });
            return new ResolvedFlags(new Dictionary<string, string>(), 0);
        }
        try
        {
            if (parsed.Errors.Count > 0) throw new FlagException(Reword(parsed.Errors[0].Message));
            foreach (var variable in environment.Keys.Where(k => k.StartsWith(_prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal))
                if (!Flags.Any(f => f.Variable(_prefix) == variable))
                    throw new FlagException($"unknown environment variable {variable} (the flags are listed by --help)");

            string? FromCommandLine(Flag flag) =>
                parsed.GetResult(options[flag.Name]) is { Implicit: false } given ? given.GetValueOrDefault<string[]>()[^1] : null;
            // an empty variable counts as unset, as a shell's VAR= usually means
            string? FromEnvironment(Flag flag) => environment.GetValueOrDefault(flag.Variable(_prefix)) is { Length: > 0 } v ? v : null;

            var configPath = FromCommandLine(Flags[^1]) ?? FromEnvironment(Flags[^1]);
            var file = configPath is { Length: > 0 } ? ConfigFile.Read(configPath) : new Dictionary<string, string>();
            foreach (var key in file.Keys.Where(k => !Flags.Any(f => f.Name == k && f.Name != ConfigFlag)))
                throw new FlagException($"unknown setting '{key}' in {configPath} (the flags are listed by --help)");

            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var flag in Flags)
            {
                var (value, source) = FromCommandLine(flag) is { } c ? (c, "the command line")
                    : FromEnvironment(flag) is { } e ? (e, flag.Variable(_prefix))
                    : file.GetValueOrDefault(flag.Name) is { } f ? (f, configPath!)
                    : (flag.Default, null);
                if (value is null) continue;
                if (source is not null && Problem(flag, value) is { } problem)
                    throw new FlagException($"--{flag.Name} {problem}, got '{value}' from {source}");
                values[flag.Name] = value;
            }
            return new ResolvedFlags(values, null);
        }
        catch (FlagException e)
        {
            stderr.WriteLine($"{_program}: {e.Message}");
            return new ResolvedFlags(new Dictionary<string, string>(), 2);
        }
    }

    /// <summary>The System.CommandLine command: each flag takes one value (given twice, the last one counts, as with
    /// kubectl); the help lists every flag with its default.</summary>
    private (RootCommand Root, Dictionary<string, Option<string[]>> Options) Command()
    {
        var root = new RootCommand($"{_summary}\n\nEvery flag can also be set by the environment variable {_prefix}<FLAG> (the flag's name in " +
            $"upper case with '_' for '-', e.g. {Flags[0].Variable(_prefix)}) or as a key of the --config file (YAML or JSON); " +
            "the command line wins over the environment, the environment over the file, the file over the default.");
        foreach (var option in root.Options.Where(o => o is VersionOption).ToList()) root.Options.Remove(option);
        root.Directives.Clear();
        var options = new Dictionary<string, Option<string[]>>();
        foreach (var flag in Flags)
        {
            var option = new Option<string[]>("--" + flag.Name)
            {
                Description = flag.Description + (flag.Default is null ? $" [default: {flag.DefaultText ?? "none"}]" : ""),
                HelpName = flag.Kind switch { FlagKind.Port => "port", FlagKind.Seconds or FlagKind.SecondsOrZero => "seconds", _ => "value" },
                Arity = ArgumentArity.OneOrMore,
                AllowMultipleArgumentsPerToken = false,
            };
            if (flag.Default is { } d) option.DefaultValueFactory = _ => [d];
            options[flag.Name] = option;
            root.Options.Add(option);
        }
        return (root, options);
    }

    private static string? Problem(Flag flag, string value) => flag.Kind switch
    {
        FlagKind.Port when !int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var p) || p > 65535 =>
            "must be a port number (0 to 65535)",
        FlagKind.Seconds when !double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var s) || s <= 0 =>
            "must be a positive number of seconds",
        FlagKind.SecondsOrZero when !double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var s) || s < 0 =>
            "must be a number of seconds, 0 or more",
        _ => flag.Check?.Invoke(value),
    };

    /// <summary>System.CommandLine's sentences, in the words the rest of the process uses.</summary>
    private static string Reword(string message) =>
        message.StartsWith("Unrecognized command or argument ", StringComparison.Ordinal)
            ? $"unknown flag {message["Unrecognized command or argument ".Length..].TrimEnd('.')} (the flags are listed by --help)"
            : message.StartsWith("Required argument missing for option: ", StringComparison.Ordinal)
                ? $"flag {message["Required argument missing for option: ".Length..].TrimEnd('.')} needs a value"
                : message;
}

/// <summary>A wrong command line, environment variable or config file: one line for stderr.</summary>
public sealed class FlagException(string message) : Exception(message);
