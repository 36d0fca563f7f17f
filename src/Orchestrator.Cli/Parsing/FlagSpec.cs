namespace Orchestrator.Cli.Parsing;

/// <summary>One flag a command accepts, named and described like kubectl's.</summary>
/// <param name="Name">Long name without dashes ("replicas").</param>
/// <param name="Short">One-letter alias ('o' for -o) or null.</param>
/// <param name="Value">The value's placeholder ("int", "string"); null for a boolean switch.</param>
/// <param name="Repeatable">Whether the flag may be given several times (--env=A=1 --env=B=2).</param>
internal sealed record FlagSpec(string Name, char? Short, string? Value, string Help, bool Repeatable = false)
{
    public bool TakesValue => Value is not null;
}

/// <summary>A command: its name, usage line, description and flags; the source of --help and of bash completion.</summary>
internal sealed record CommandSpec(string Name, string Usage, string Summary, IReadOnlyList<FlagSpec> Flags, IReadOnlyList<string>? Examples = null)
{
    public FlagSpec? Find(string name) => Flags.FirstOrDefault(f => f.Name == name) ?? GlobalFlags.FirstOrDefault(f => f.Name == name);

    public FlagSpec? FindShort(char c) => Flags.FirstOrDefault(f => f.Short == c) ?? GlobalFlags.FirstOrDefault(f => f.Short == c);

    /// <summary>Flags every API command accepts, like kubectl's global options.</summary>
    public static readonly IReadOnlyList<FlagSpec> GlobalFlags =
    [
        new("kubeconfig", null, "string", "Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)."),
        new("context", null, "string", "The kubeconfig context to use (default: $ORCH_CONTEXT or 'orchestrator', else the current context)."),
        new("namespace", 'n', "string", "The namespace scope for this request."),
        new("help", 'h', null, "Help for this command."),
    ];
}
