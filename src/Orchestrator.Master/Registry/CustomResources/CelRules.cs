using System.Text.Json.Nodes;
using Cel;

namespace Orchestrator.Master.Registry.CustomResources;

/// <summary>
/// <c>x-kubernetes-validations</c> rules in CEL, through the NuGet package Cel (a tree-walking interpreter of the
/// CEL standard: operators, macros has/all/exists/exists_one/map/filter, size, string matching, int/uint/double/
/// timestamp/duration conversions). Kubernetes' string extension functions the package lacks (lowerAscii, upperAscii,
/// trim, split, join, replace, indexOf, lastIndexOf, substring, charAt) are registered here. What it does not do: type
/// checking at definition time (a rule naming a field the schema lacks fails when evaluated, not when the CRD is
/// created), cost estimation, messageExpression, and Kubernetes' list, regex, url, quantity, ip/cidr and format
/// libraries — a rule using them fails to compile and the definition is refused with that message.
/// Rules run in the store's actor only (one thread); compiled programs are cached by text.
/// </summary>
internal static class CelRules
{
    private static readonly CelEnvironment Environment = CreateEnvironment();
    private static readonly Dictionary<string, CelProgramDelegate> Programs = new(StringComparer.Ordinal);
    private static readonly object Gate = new();

    private static CelEnvironment CreateEnvironment()
    {
        var env = new CelEnvironment([], "");
        env.RegisterFunction("lowerAscii", [typeof(string)], a => ((string)a[0]!).ToLowerInvariant());
        env.RegisterFunction("upperAscii", [typeof(string)], a => ((string)a[0]!).ToUpperInvariant());
        env.RegisterFunction("trim", [typeof(string)], a => ((string)a[0]!).Trim());
        env.RegisterFunction("split", [typeof(string), typeof(string)], a => ((string)a[0]!).Split((string)a[1]!).Cast<object?>().ToList());
        env.RegisterFunction("replace", [typeof(string), typeof(string), typeof(string)], a => ((string)a[0]!).Replace((string)a[1]!, (string)a[2]!));
        env.RegisterFunction("indexOf", [typeof(string), typeof(string)], a => (long)((string)a[0]!).IndexOf((string)a[1]!, StringComparison.Ordinal));
        env.RegisterFunction("lastIndexOf", [typeof(string), typeof(string)], a => (long)((string)a[0]!).LastIndexOf((string)a[1]!, StringComparison.Ordinal));
        env.RegisterFunction("charAt", [typeof(string), typeof(long)], a =>
        {
            var s = (string)a[0]!;
            var i = (int)(long)a[1]!;
            return i == s.Length ? "" : s[i].ToString();
        });
        env.RegisterFunction("substring", [typeof(string), typeof(long)], a => ((string)a[0]!)[(int)(long)a[1]!..]);
        env.RegisterFunction("substring", [typeof(string), typeof(long), typeof(long)], a => ((string)a[0]!)[(int)(long)a[1]!..(int)(long)a[2]!]);
        env.RegisterFunction("join", [typeof(List<object?>)], a => string.Concat(((List<object?>)a[0]!).Select(x => x?.ToString())));
        env.RegisterFunction("join", [typeof(List<object?>), typeof(string)], a => string.Join((string)a[1]!, ((List<object?>)a[0]!).Select(x => x?.ToString())));
        return env;
    }

    /// <summary>Why the rule does not compile, or null.</summary>
    public static string? CompileError(string rule)
    {
        try
        {
            Compile(rule);
            return null;
        }
        catch (Exception e) when (e is CelException or InvalidOperationException or ArgumentException or FormatException)
        {
            return e.Message.Split('\n')[0];
        }
    }

    /// <summary>Evaluates the rule: true when it holds, false when it does not; an evaluation error is the message.</summary>
    public static (bool Holds, string? Error) Evaluate(string rule, object? self, object? oldSelf)
    {
        try
        {
            var variables = new Dictionary<string, object?> { ["self"] = self, ["oldSelf"] = oldSelf };
            return Compile(rule)(variables!) switch
            {
                bool result => (result, null),
                var other => (false, $"rule evaluated to {other?.GetType().Name ?? "null"}, not a bool"),
            };
        }
        catch (Exception e) when (e is CelException or InvalidOperationException or ArgumentException or FormatException
                                      or InvalidCastException or IndexOutOfRangeException or ArgumentOutOfRangeException
                                      or KeyNotFoundException or NullReferenceException or OverflowException)
        {
            return (false, e.Message.Split('\n')[0]);
        }
    }

    private static CelProgramDelegate Compile(string rule)
    {
        lock (Gate)
        {
            if (!Programs.TryGetValue(rule, out var program)) Programs[rule] = program = Environment.Compile(rule);
            return program;
        }
    }

    /// <summary>A JSON value as CEL sees it: objects and maps as string-keyed maps, lists, int64 or double, string,
    /// bool, null.</summary>
    public static object? ToCel(JsonNode? node) => node switch
    {
        null => null,
        JsonObject o => o.ToDictionary(kv => kv.Key, kv => ToCel(kv.Value)),
        JsonArray a => a.Select(ToCel).ToList(),
        JsonValue v when v.TryGetValue<bool>(out var b) => b,
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonValue v when v.TryGetValue<long>(out var l) => l,
        JsonValue v when v.TryGetValue<double>(out var d) => d,
        _ => node.ToJsonString(),
    };
}
