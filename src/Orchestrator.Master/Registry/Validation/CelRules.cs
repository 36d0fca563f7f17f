using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Cel;
using Cel.Internal;

namespace Orchestrator.Master.Registry.Validation;

/// <summary>
/// CEL for <c>x-kubernetes-validations</c> rules and messageExpressions and for ValidatingAdmissionPolicies, through the
/// NuGet package Cel (a tree-walking interpreter of the CEL standard: operators, macros has/all/exists/exists_one/map/
/// filter, size, string matching, int/uint/double/timestamp/duration conversions). Registered here, as kube 1.32's base
/// environment has them: Kubernetes' string extension functions the package lacks (lowerAscii, upperAscii, trim, split,
/// join, replace, indexOf, lastIndexOf, substring, charAt), and the list, sets, regex, url, quantity, ip/cidr and format
/// libraries (<see cref="CelListLibrary"/> and its siblings). Runtime cost is counted and limited as kube does
/// (<see cref="CelCost"/>, which says what it counts). CRD rules are type-checked against their schema when the
/// definition is made (<see cref="TypeCheck"/>, <see cref="CelTypeCheck"/>, which says what it checks); evaluation
/// itself is untyped: a date-time, duration or byte field is a string here where kube's is a timestamp, duration or
/// bytes. ValidatingAdmissionPolicy expressions are type-checked only for the policy's status (warnings,
/// Admission/Policies' PolicyTypeChecker); when a policy is written, their undeclared names only are found
/// (<see cref="UndeclaredReference"/>). What it does not do: cost estimation at definition time, two-variable
/// comprehensions, and the optional syntax (<c>?.</c>, <c>[?</c>) — a rule using them fails to compile and the
/// definition is refused with that message.
/// Compiled programs are cached by text; evaluation runs on the caller's thread (the store's actor for CRD rules).
/// </summary>
internal static class CelRules
{
    private static readonly CelEnvironment Environment = CreateEnvironment();
    private static readonly Dictionary<string, CelProgramDelegate> Programs = new(StringComparer.Ordinal);
    private static readonly object Gate = new();

    private static CelEnvironment CreateEnvironment()
    {
        var env = new CelEnvironment([], "");
        CelListLibrary.Register(env);
        CelRegexLibrary.Register(env);
        CelUrlLibrary.Register(env);
        CelQuantityLibrary.Register(env);
        CelNetworkLibrary.Register(env);
        CelFormatLibrary.Register(env);
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
        env.RegisterFunction("join", [typeof(IList<object?>)], a => string.Concat(((IList<object?>)a[0]!).Select(x => x?.ToString())));
        env.RegisterFunction("join", [typeof(IList<object?>), typeof(string)], a => string.Join((string)a[1]!, ((IList<object?>)a[0]!).Select(x => x?.ToString())));
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

    /// <summary>The expression type-checked over <paramref name="variables"/> (<see cref="CelTypeCheck"/>), or null when it
    /// does not parse (<see cref="CompileError"/> says why).</summary>
    public static CelTypeCheck.Result? TypeCheck(string expression, IReadOnlyDictionary<string, CelType> variables)
    {
        CelParser.StartContext tree;
        try
        {
            CheckParserLimits(expression);
            lock (Gate) tree = Environment.Parse(expression);
        }
        catch (Exception e) when (e is CelException or InvalidOperationException or ArgumentException or FormatException)
        {
            return null;
        }
        return CelTypeCheck.Check(expression, tree, variables);
    }

    /// <summary>Evaluates the rule: true when it holds, false when it does not; an evaluation error is the message
    /// (<see cref="CelCost.LimitExceeded"/> when it was cut off). Its cost is taken from <paramref name="budget"/>.</summary>
    public static (bool Holds, string? Error) Evaluate(string rule, object? self, object? oldSelf, CelBudget? budget = null)
    {
        var (value, error) = Execute(rule, new Dictionary<string, object?> { ["self"] = self, ["oldSelf"] = oldSelf }, budget);
        return error is not null ? (false, error) : value switch
        {
            bool result => (result, null),
            var other => (false, $"rule evaluated to {other?.GetType().Name ?? "null"}, not a bool"),
        };
    }

    /// <summary>Evaluates an expression over named variables: its value, or why it failed (an evaluation error,
    /// <see cref="CelCost.LimitExceeded"/>, or a field the object lacks: cel-go's "no such key"). Its cost is taken from
    /// <paramref name="budget"/>.</summary>
    public static (object? Value, string? Error) Run(string expression, Dictionary<string, object?> variables, CelBudget? budget = null)
    {
        var (value, error) = Execute(expression, variables, budget);
        return error is null && value?.GetType().Name == "CelNoSuchField" ? (null, NoSuchKey(value)) : (value, error);
    }

    /// <summary>cel-go's "no such key: x" for the package's value of a missing field (internal to the package, which keeps
    /// the selection in its Message).</summary>
    private static string NoSuchKey(object missing) =>
        missing.GetType().GetProperty("Message")?.GetValue(missing) is string message
        && Regex.Match(message, "field '([^']*)'") is { Success: true } m
            ? "no such key: " + m.Groups[1].Value
            : "no such key";

    /// <summary>One evaluation under the per-call cost limit, over <paramref name="variables"/> and the function
    /// namespaces (<see cref="CelVariables"/>).</summary>
    private static (object? Value, string? Error) Execute(string expression, Dictionary<string, object?> variables, CelBudget? budget)
    {
        try
        {
            var program = Compile(expression);
            return (CelCost.Measure(() => program(new CelVariables(variables)), budget), null);
        }
        catch (CelCostLimitExceededException)
        {
            return (null, CelCost.LimitExceeded);
        }
        catch (Exception e) when (e is CelException or InvalidOperationException or ArgumentException or FormatException
                                      or InvalidCastException or IndexOutOfRangeException or ArgumentOutOfRangeException
                                      or KeyNotFoundException or NullReferenceException or OverflowException or TimeoutException)
        {
            return (null, CelGoWords(e));
        }
    }

    /// <summary>An evaluation error in cel-go's words, which kube shows ("no such key: x", "division by zero", …), where
    /// the package words it otherwise; other errors as the package has them (their first line).</summary>
    private static string CelGoWords(Exception e) => e switch
    {
        CelNoSuchFieldException when Regex.Match(e.Message, "select field '([^']*)'") is { Success: true } m =>
            "no such key: " + m.Groups[1].Value,
        // an operation on a missing field: cel-go's error of the field travels on (the package does not keep its name)
        CelException when e.Message.Contains(nameof(Cel) + ".Internal.CelNoSuchField", StringComparison.Ordinal) =>
            "no such key",
        CelDivideByZeroException or DivideByZeroException => "division by zero",
        CelModulusByZeroException => "modulus by zero",
        CelOverflowException or OverflowException => "integer overflow",
        CelNoSuchOverloadException => "no such overload",
        _ => e.Message.Split('\n')[0],
    };

    /// <summary>The package compiles without declarations (an unknown name fails only when evaluated): the first name the
    /// expression uses that is neither one of <paramref name="declared"/>, a variable a macro binds, a type name, nor a
    /// function this environment has, worded as cel-go's checker reports it (with its 1-based column), or null. Text
    /// inside string literals is not looked at.</summary>
    public static string? UndeclaredReference(string expression, IReadOnlySet<string> declared)
    {
        var code = StringLiterals.Replace(expression, m => new string(' ', m.Length));
        var bound = new HashSet<string>(MacroBindings.Matches(code).Select(m => m.Groups[1].Value), StringComparer.Ordinal);
        foreach (Match m in Identifiers.Matches(code))
        {
            var name = m.Value;
            var before = code[..m.Index].TrimEnd();
            var call = code[(m.Index + name.Length)..].TrimStart().StartsWith('(');
            if (before.EndsWith('.') || before.EndsWith(".?", StringComparison.Ordinal))
            {
                // a field, or a method of this environment
                if (!call || KnownFunctions.Contains(name)) continue;
            }
            else if (KnownNames.Contains(name) || bound.Contains(name) || (call ? KnownFunctions.Contains(name) : declared.Contains(name)))
                continue;
            // a function namespace: sets.contains(…), format.named(…), ip.isCanonical(…), optional.of(…)
            else if (!call && CelNamespace.All.Any(ns => ns.Name == name) && code[(m.Index + name.Length)..].TrimStart().StartsWith('.'))
                continue;
            return $"ERROR: <input>:1:{m.Index + 1}: undeclared reference to '{name}' (in container '')";
        }
        return null;
    }

    private static readonly Regex StringLiterals =
        new("[rR]?(\"\"\"[\\s\\S]*?\"\"\"|'''[\\s\\S]*?'''|\"(\\\\.|[^\"\\\\])*\"|'(\\\\.|[^'\\\\])*')", RegexOptions.Compiled);

    private static readonly Regex MacroBindings =
        new(@"\.\s*(?:all|exists|exists_one|map|filter)\s*\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*,", RegexOptions.Compiled);

    private static readonly Regex Identifiers = new(@"(?<![A-Za-z0-9_])[A-Za-z_][A-Za-z0-9_]*", RegexOptions.Compiled);

    private static readonly HashSet<string> KnownNames = new(StringComparer.Ordinal)
    {
        "true", "false", "null", "in", "int", "uint", "double", "string", "bytes", "bool", "list", "map", "type", "null_type",
    };

    /// <summary>The CEL standard's functions and macros the package evaluates, and those registered in <see cref="CreateEnvironment"/>.</summary>
    private static readonly HashSet<string> KnownFunctions = new((string[])
    [
        "has", "all", "exists", "exists_one", "map", "filter", "size", "int", "uint", "double", "string", "bytes", "bool", "type",
        "dyn", "duration", "timestamp", "matches", "startsWith", "endsWith", "contains", "getDate", "getDayOfMonth", "getDayOfWeek",
        "getDayOfYear", "getFullYear", "getHours", "getMilliseconds", "getMinutes", "getMonth", "getSeconds",
        "lowerAscii", "upperAscii", "trim", "split", "replace", "indexOf", "lastIndexOf", "charAt", "substring", "join",
        .. CelListLibrary.Functions, .. CelRegexLibrary.Functions, .. CelUrlLibrary.Functions, .. CelQuantityLibrary.Functions,
        .. CelNetworkLibrary.Functions, .. CelFormatLibrary.Functions,
    ], StringComparer.Ordinal);

    private static CelProgramDelegate Compile(string rule)
    {
        lock (Gate)
        {
            if (Programs.TryGetValue(rule, out var program)) return program;
            // parsed as written (so that errors point into the text as written), compiled with its comprehensions counted
            CheckParserLimits(rule);
            program = Environment.Compile(CelCost.Instrument(rule, Environment.Parse(rule)));
            if (Programs.Count >= 10_000) Programs.Clear();
            return Programs[rule] = program;
        }
    }

    /// <summary>cel-go's parser limits, its defaults as kube compiles with them: 100,000 code points and a recursion
    /// depth of 250 (one per nested parenthesis, bracket or brace here). Checked before the package parses, whose ANTLR
    /// parser recurses several calls deep per nesting level and, some thousands of levels down, overflows the stack —
    /// which ends the process.</summary>
    private static void CheckParserLimits(string expression)
    {
        const int maxCodePoints = 100_000, maxRecursionDepth = 250;
        var codePoints = expression.EnumerateRunes().Count();
        if (codePoints > maxCodePoints)
            throw new CelException($"ERROR: <input>:-1:0: expression code point size exceeds limit: size: {codePoints}, limit {maxCodePoints}");
        var depth = 0;
        for (var i = 0; i < expression.Length; i++)
        {
            switch (expression[i])
            {
                case '"' or '\'':
                    i = EndOfStringLiteral(expression, i);
                    break;
                case '(' or '[' or '{' when ++depth > maxRecursionDepth:
                    throw new CelException("ERROR: <input>:-1:0: max recursion depth exceeded");
                case ')' or ']' or '}' when depth > 0:
                    depth--;
                    break;
            }
        }
    }

    /// <summary>The index of the last character of the string literal whose quote is at <paramref name="start"/> (single
    /// or triple quoted, escapes skipped except in raw strings), or the text's end when it is not closed.</summary>
    private static int EndOfStringLiteral(string text, int start)
    {
        var quote = text[start];
        var raw = start > 0 && text[start - 1] is 'r' or 'R';
        var triple = start + 2 < text.Length && text[start + 1] == quote && text[start + 2] == quote;
        for (var i = start + (triple ? 3 : 1); i < text.Length; i++)
        {
            if (text[i] == '\\' && !raw) i++;
            else if (text[i] == quote && (!triple || (i + 2 < text.Length && text[i + 1] == quote && text[i + 2] == quote)))
                return triple ? i + 2 : i;
        }
        return text.Length - 1;
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
