using System.CommandLine;
using System.CommandLine.Parsing;

namespace Orchestrator.Cli.Parsing;

/// <summary>
/// orchctl's commands as a System.CommandLine tree built from <see cref="CommandTable"/>, and the parse of one command
/// line into <see cref="ParsedArgs"/>. It accepts what kubectl (pflag) accepts — <c>--name=value</c>, <c>--name value</c>,
/// <c>-x value</c>, <c>-xvalue</c>, bundled switches (<c>-Aw</c>), <c>--switch=false</c>, flags between positionals,
/// everything after <c>--</c> verbatim, the last value of a flag given twice — and words its errors as kubectl does.
/// </summary>
internal static class CommandLine
{
    private const string Operands = "operands";
    private static readonly Lazy<RootCommand> Tree = new(Build);

    public static RootCommand Root => Tree.Value;

    public static ParsedArgs Parse(CommandSpec spec, IReadOnlyList<string> args)
    {
        // after "--" nothing is a flag: System.CommandLine would fold those words into the operands
        var dashes = args.ToList().IndexOf("--");
        var before = dashes < 0 ? args : args.Take(dashes).ToList();
        var command = Root.Subcommands.Single(c => c.Name == spec.Name);
        var result = Root.Parse([spec.Name, .. before], new ParserConfiguration { ResponseFileTokenReplacer = null });

        var operands = result.GetValue<string[]>(Operands) ?? [];
        if (operands.FirstOrDefault(LooksLikeFlag) is { } unknown) throw new UsageException(UnknownFlag(unknown));
        if (result.Errors.FirstOrDefault() is { } error) throw new UsageException(Reword(error));

        var parsed = new ParsedArgs();
        parsed.Positionals.AddRange(operands);
        if (dashes >= 0) parsed.AfterDashes.AddRange(args.Skip(dashes + 1));
        foreach (var flag in spec.Flags.Concat(CommandSpec.GlobalFlags))
        {
            var option = command.Options.Single(o => o.Name == "--" + flag.Name);
            if (result.GetResult(option) is not { Implicit: false }) continue;
            if (option is Option<bool> on) parsed.Set(flag.Name, [result.GetValue(on) ? "true" : "false"]);
            else if (result.GetValue((Option<string[]>)option) is { Length: > 0 } values)
                parsed.Set(flag.Name, flag.Repeatable ? values : [values[^1]]); // pflag: the last one wins
        }
        return parsed;
    }

    private static RootCommand Build()
    {
        var root = new RootCommand("orchctl controls the Orchestrator cluster: the seed's kubectl command lines, through the Kubernetes API.");
        // orchctl's own --help (CommandTable's text, kubectl's layout) and no [directives] or --version
        root.Options.Clear();
        root.Directives.Clear();
        foreach (var spec in CommandTable.All)
        {
            var command = new Command(spec.Name, spec.Summary);
            foreach (var flag in spec.Flags.Concat(CommandSpec.GlobalFlags)) command.Options.Add(Option(flag));
            command.Arguments.Add(new Argument<string[]>(Operands) { Arity = ArgumentArity.ZeroOrMore });
            root.Subcommands.Add(command);
        }
        return root;
    }

    private static Option Option(FlagSpec flag)
    {
        string[] aliases = flag.Short is { } s ? ["-" + s] : [];
        if (!flag.TakesValue) return new Option<bool>("--" + flag.Name, aliases) { Description = flag.Help };
        return new Option<string[]>("--" + flag.Name, aliases)
        {
            Description = flag.Help,
            HelpName = flag.Value,
            Arity = ArgumentArity.OneOrMore,
            AllowMultipleArgumentsPerToken = false,
        };
    }

    // "-" alone is stdin (create -f -) and "-5" a number; anything else with a dash that reached the operands is unknown
    private static bool LooksLikeFlag(string word) => word.Length > 1 && word[0] == '-' && !char.IsDigit(word[1]);

    private static string UnknownFlag(string word)
    {
        if (word.StartsWith("--", StringComparison.Ordinal))
            return $"unknown flag: {(word.IndexOf('=') is > 0 and var eq ? word[..eq] : word)}";
        return $"unknown shorthand flag: '{word[1]}' in {word}";
    }

    private static string Reword(ParseError error)
    {
        var message = error.Message;
        const string missing = "Required argument missing for option: '";
        if (message.StartsWith(missing, StringComparison.Ordinal))
        {
            var name = message[missing.Length..].TrimEnd('.', '\'');
            return name.StartsWith("--", StringComparison.Ordinal) ? $"flag needs an argument: {name}" : $"flag needs an argument: '{name.TrimStart('-')}' in {name}";
        }
        const string cannot = "Cannot parse argument '";
        if (message.StartsWith(cannot, StringComparison.Ordinal) && message.IndexOf("' for option '", StringComparison.Ordinal) is > 0 and var at)
        {
            var value = message[cannot.Length..at];
            var option = message[(at + "' for option '".Length)..].Split('\'')[0];
            return $"invalid argument \"{value}\" for \"{option}\" flag: not true or false";
        }
        return message.TrimEnd('.');
    }
}
