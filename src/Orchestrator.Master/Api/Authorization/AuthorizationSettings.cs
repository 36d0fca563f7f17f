namespace Orchestrator.Master.Api.Authorization;

/// <summary>kube-apiserver's authorization modes (pkg/kubeapiserver/authorizer/modes) that are implemented
/// here.</summary>
internal enum AuthorizationMode { Node, RBAC, AlwaysAllow, AlwaysDeny }

/// <summary>What the composition root decided about authorization: the ordered --authorization-mode chain, and whether
/// the NodeRestriction admission plugin runs (--disable-admission-plugins=NodeRestriction turns it off).</summary>
internal sealed record AuthorizationSettings(IReadOnlyList<AuthorizationMode> Modes, bool NodeRestriction = true)
{
    public const string Flag = "authorization-mode";
    public const string DefaultModes = "Node,RBAC";

    public static AuthorizationSettings Default { get; } = new([AuthorizationMode.Node, AuthorizationMode.RBAC]);

    /// <summary>kube's BuildAuthorizer modes; ABAC and Webhook are kube's but need files this master does not
    /// read.</summary>
    public static IReadOnlyList<AuthorizationMode> ParseModes(string value) =>
        ModesProblem(value) is { } problem ? throw new FormatException($"--{Flag} {problem}") : Split(value)
            .Select(mode => Enum.Parse<AuthorizationMode>(mode)).ToList();

    /// <summary>kube's AuthorizationOptions.Validate in its words (after the flag's name), plus the modes of kube not
    /// implemented here.</summary>
    public static string? ModesProblem(string value)
    {
        var modes = Split(value);
        if (modes.Count == 0) return "needs at least one mode";
        foreach (var mode in modes)
        {
            if (mode is "ABAC" or "Webhook")
                return $"\"{mode}\" is not implemented by orchestrator-master (only Node, RBAC, AlwaysAllow and " +
                       "AlwaysDeny are)";
            if (!Enum.GetNames<AuthorizationMode>().Contains(mode))
                return $"\"{mode}\" is not a valid mode";
        }
        if (modes.Distinct(StringComparer.Ordinal).Count() != modes.Count)
            return $"\"[{string.Join(" ", modes)}]\" has mode specified more than once";
        return null;
    }

    private static List<string> Split(string value) =>
        value.Split(',', StringSplitOptions.TrimEntries).Where(m => m.Length > 0).ToList();
}
