using Orchestrator.Cli.Kube;
using Orchestrator.Cli.Parsing;

namespace Orchestrator.Cli.Commands;

/// <summary>What every command gets: its parsed arguments, the output streams, stdin, and the environment.</summary>
internal sealed class CommandContext(ParsedArgs args, TextWriter stdout, TextWriter stderr, TextReader stdin, Func<string, string?> env)
{
    public ParsedArgs Args { get; } = args;
    public TextWriter Out { get; } = stdout;
    public TextWriter Err { get; } = stderr;
    public TextReader In { get; } = stdin;
    public Func<string, string?> Env { get; } = env;

    public ApiConnection Connect() => ApiConnection.Open(Args, Env);
}
