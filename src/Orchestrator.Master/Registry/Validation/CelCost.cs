using System.Text;
using Antlr4.Runtime.Tree;
using System.Diagnostics.CodeAnalysis;
using Cel;
using Cel.Internal;

namespace Orchestrator.Master.Registry.Validation;

/// <summary>What is left of one request's CEL cost budget (kube's RuntimeCELCostBudget, 10^7: for all rules of one custom
/// resource, or all expressions of one policy's evaluation); <see cref="Exhausted"/> once an expression overdrew it.</summary>
internal sealed class CelBudget
{
    public long Remaining { get; set; } = CelCost.RuntimeCelCostBudget;

    public bool Exhausted => Remaining < 0;
}

/// <summary>The package's exception for an expression past its cost limit: derived from its no-such-field exception
/// because the package's <c>all</c>, <c>exists_one</c>, <c>&amp;&amp;</c> and <c>||</c> swallow every other error of one
/// branch or one element and carry on, where this one must end the evaluation.</summary>
internal sealed class CelCostLimitExceededException() : CelNoSuchFieldException(CelCost.LimitExceeded);

/// <summary>
/// Runtime cost for the CEL package, which has no hook to count evaluation steps: before an expression is compiled, the
/// body of every comprehension (<c>all</c>, <c>exists</c>, <c>exists_one</c>, <c>map</c>, <c>filter</c>) is rewritten
/// to <c>(__celcostN ? (body) : null)</c>, where reading the variable <c>__celcostN</c> charges N (and is true), and N is 1 plus the body's operand and operator tokens, an estimate of what
/// cel-go charges for one evaluation of it (one per identifier, select, call and operator). Library functions whose work
/// grows with their input (list, set and regex functions) charge its size. An expression is cut off with cel-go's
/// "operation cancelled: actual cost limit exceeded" past <see cref="PerCallLimit"/>. Not counted, unlike cel-go: the
/// steps outside comprehensions (bounded by the expression's length), and the size-dependent cost of the standard
/// operators (string concatenation, <c>in</c> on a list, list equality), so a comprehension whose body does such an
/// operation on a large value costs more time than its count says.
/// </summary>
internal static class CelCost
{
    /// <summary>kube's PerCallLimit: what one expression may cost.</summary>
    public const long PerCallLimit = 1_000_000;

    /// <summary>kube's RuntimeCELCostBudget: what all the expressions of one custom resource, or one policy's evaluation,
    /// may cost together.</summary>
    public const long RuntimeCelCostBudget = 10_000_000;

    public const string LimitExceeded = "operation cancelled: actual cost limit exceeded";

    public const string BudgetExhausted = "validation failed due to running out of cost budget, no further validation rules will be run";

    /// <summary>The prefix of the counting variables the rewritten comprehension bodies read (a variable, not a function
    /// call: the package resolves a variable through <see cref="CelVariables"/> at a fraction of a call's cost).</summary>
    public const string Counter = "__celcost";

    [ThreadStatic] private static long remaining;
    [ThreadStatic] private static bool metering;

    /// <summary>Runs one evaluation under the per-call limit; what it cost is taken from <paramref name="budget"/>.</summary>
    public static T Measure<T>(Func<T> evaluate, CelBudget? budget)
    {
        var outer = (remaining, metering);
        remaining = PerCallLimit;
        metering = true;
        try
        {
            return evaluate();
        }
        finally
        {
            if (budget is not null) budget.Remaining -= PerCallLimit - Math.Max(remaining, -1);
            (remaining, metering) = outer;
        }
    }

    /// <summary>Charges <paramref name="cost"/> to the running evaluation; past its limit, ends it.</summary>
    public static void Charge(long cost)
    {
        if (!metering) return;
        remaining -= cost;
        if (remaining < 0) throw new CelCostLimitExceededException();
    }

    /// <summary>The cost a counting variable's name carries (<c>__celcost7</c>: 7), or null for any other name.</summary>
    public static long? CounterCost(string name)
    {
        if (!name.StartsWith(Counter, StringComparison.Ordinal)) return null;
        lock (Costs)
        {
            if (Costs.TryGetValue(name, out var cost)) return cost;
            if (!long.TryParse(name.AsSpan(Counter.Length), out cost)) return null;
            if (Costs.Count < 10_000) Costs[name] = cost;
            return cost;
        }
    }

    private static readonly Dictionary<string, long> Costs = new(StringComparer.Ordinal);

    private static readonly HashSet<string> Comprehensions = new(StringComparer.Ordinal) { "all", "exists", "exists_one", "map", "filter" };

    private static readonly HashSet<string> Punctuation = new(StringComparer.Ordinal) { "(", ")", "[", "]", "{", "}", ",", ".", ":", "?", "<EOF>" };

    /// <summary>The expression with each comprehension body wrapped in a read of a <see cref="Counter"/> (see the summary),
    /// from the package's own parse tree; the text itself when it has no comprehension.</summary>
    public static string Instrument(string expression, CelParser.StartContext tree)
    {
        var edits = new List<(int At, int Order, string Text)>();
        Collect(tree, 0, edits);
        if (edits.Count == 0) return expression;
        var text = new StringBuilder(expression.Length + edits.Count * 16);
        var next = 0;
        foreach (var (at, _, insert) in edits.OrderBy(e => e.At).ThenBy(e => e.Order))
        {
            text.Append(expression, next, at - next).Append(insert);
            next = at;
        }
        return text.Append(expression, next, expression.Length - next).ToString();
    }

    private static void Collect(IParseTree node, int depth, List<(int, int, string)> edits)
    {
        if (node is CelParser.MemberCallContext call && Comprehensions.Contains(call.id.Text) &&
            call.exprList() is { } args && args._e.Count == 2)
        {
            var body = args._e[1];
            // at one position: closings of inner bodies first (deepest first), then openings (outermost first)
            edits.Add((body.Start.StartIndex, depth, $"({Counter}{1 + Tokens(body)} ? ("));
            edits.Add((body.Stop.StopIndex + 1, -depth - 1, ") : null)"));
        }
        for (var i = 0; i < node.ChildCount; i++) Collect(node.GetChild(i), depth + 1, edits);
    }

    private static long Tokens(IParseTree node)
    {
        if (node is ITerminalNode terminal) return Punctuation.Contains(terminal.GetText()) ? 0 : 1;
        long count = 0;
        for (var i = 0; i < node.ChildCount; i++) count += Tokens(node.GetChild(i));
        return count;
    }
}

/// <summary>The variables one evaluation sees: the caller's, then the function namespaces (<c>sets</c>, <c>format</c>,
/// <c>ip</c>, <c>optional</c>, unless the caller binds those names), then the counting variables of
/// <see cref="CelCost"/>, whose every read is charged. The package reads variables only through TryGetValue.</summary>
internal sealed class CelVariables(IDictionary<string, object?> inner) : IDictionary<string, object?>
{
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out object? value)
    {
        if (inner.TryGetValue(key, out value)) return true;
        foreach (var ns in CelNamespace.All)
            if (ns.Name == key)
            {
                value = ns;
                return true;
            }
        if (CelCost.CounterCost(key) is { } cost)
        {
            CelCost.Charge(cost);
            value = true;
            return true;
        }
        return false;
    }

    public bool ContainsKey(string key) => TryGetValue(key, out _);
    public object? this[string key] { get => TryGetValue(key, out var v) ? v : throw new KeyNotFoundException(key); set => throw new NotSupportedException(); }
    public ICollection<string> Keys => inner.Keys;
    public ICollection<object?> Values => inner.Values;
    public int Count => inner.Count;
    public bool IsReadOnly => true;
    public void Add(string key, object? value) => throw new NotSupportedException();
    public void Add(KeyValuePair<string, object?> item) => throw new NotSupportedException();
    public bool Remove(string key) => throw new NotSupportedException();
    public bool Remove(KeyValuePair<string, object?> item) => throw new NotSupportedException();
    public void Clear() => throw new NotSupportedException();
    public bool Contains(KeyValuePair<string, object?> item) => inner.Contains(item);
    public void CopyTo(KeyValuePair<string, object?>[] array, int arrayIndex) => inner.CopyTo(array, arrayIndex);
    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => inner.GetEnumerator();
    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
