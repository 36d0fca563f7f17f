using Antlr4.Runtime;
using Antlr4.Runtime.Tree;
using Cel.Internal;

namespace Orchestrator.Master.Registry.Validation;

/// <summary>
/// Definition-time type checking of a CEL expression, as cel-go's checker does it when kube compiles an
/// <c>x-kubernetes-validations</c> rule against its schema's type, over the package's parse tree. It finds: fields an
/// object type does not declare ("undefined field"), operands and arguments no overload of an operator or of a
/// standard function takes ("found no matching overload for '_>_' applied to '(int, string)'"), non-bool operands of
/// <c>&amp;&amp;</c>/<c>||</c> and of all/exists bodies, mixed list literals, ranges that are no list or map, field
/// selection on scalars, undeclared names; errors are worded and located (line, column, caret lines) as cel-go
/// prints them. It is conservative: what it does not know is dyn, and dyn (also opaque library types, null and a
/// comparison of two object types) never fails a check, so it refuses only where kube surely does. Library functions
/// (lists, sets, regex, url, quantity, ip/cidr, format, optional) have result types but their arguments are not
/// checked; a function it does not know has a dyn result.
/// </summary>
internal sealed class CelTypeCheck
{
    private readonly string source;
    private readonly List<(int Line, int Column, string Message)> errors = [];
    private readonly Stack<Dictionary<string, CelType>> scopes = new();
    private readonly IReadOnlyDictionary<string, CelType> variables;

    /// <summary>Whether the expression refers to the variable <c>oldSelf</c> (a transition rule).</summary>
    public bool UsesOldSelf { get; private set; }

    private CelTypeCheck(string source, IReadOnlyDictionary<string, CelType> variables)
    {
        this.source = source;
        this.variables = variables;
    }

    /// <summary>The result of checking: the expression's type, and cel-go's issues text (null when none).</summary>
    public sealed record Result(CelType Type, string? Errors, bool UsesOldSelf);

    public static Result Check(string expression, CelParser.StartContext tree, IReadOnlyDictionary<string, CelType> variables)
    {
        var checker = new CelTypeCheck(expression, variables);
        var type = checker.Expr(tree.e);
        return new Result(type, checker.errors.Count == 0 ? null : checker.Display(), checker.UsesOldSelf);
    }

    /// <summary>cel-go's Errors.ToDisplayString: each error sorted by position with its source line and a
    /// caret.</summary>
    private string Display()
    {
        var lines = source.Split('\n');
        var parts = errors.Select((e, i) => (e, i)).OrderBy(x => x.e.Line).ThenBy(x => x.e.Column).ThenBy(x => x.i).Select(x =>
        {
            var (line, column, message) = x.e;
            var text = $"ERROR: <input>:{line}:{column + 1}: {message}";
            if (line - 1 >= lines.Length) return text;
            var snippet = lines[line - 1].TrimEnd('\r').Replace('\t', ' ');
            var indent = string.Concat(snippet.Take(column).Select(c => c > 0x7f ? "\uff0e" : "."));
            var caret = column < snippet.Length && snippet[column] > 0x7f ? "\uff3e" : "^";
            return $"{text}\n | {snippet}\n | {indent}{caret}";
        });
        return string.Join("\n", parts);
    }

    private void Report(IToken at, string message) => errors.Add((at.Line, at.Column, message));

    private void NoOverload(IToken at, string function, IEnumerable<CelType> args, CelType? target = null) =>
        Report(at, $"found no matching overload for '{function}' applied to '{(target is null ? "" : target + ".")}({string.Join(", ", args)})'");

    // ---- expressions ----

    private CelType Expr(CelParser.ExprContext e)
    {
        var condition = Or(e.e);
        if (e.op is null) return condition;
        var whenTrue = Or(e.e1);
        var whenFalse = Expr(e.e2);
        if (!Assignable(condition, CelType.Bool) || !Assignable(whenTrue, whenFalse))
        {
            NoOverload(e.op, "_?_:_", [condition, whenTrue, whenFalse]);
            return CelType.Error;
        }
        return whenTrue.IsWild ? whenTrue : whenFalse.IsWild ? whenFalse : whenTrue;
    }

    private CelType Or(CelParser.ConditionalOrContext e)
    {
        var first = And(e.e);
        if (e._e1.Count == 0) return first;
        return Logical(e.e, first, e._e1.Select(o => ((ParserRuleContext)o, And(o))).ToList());
    }

    private CelType And(CelParser.ConditionalAndContext e)
    {
        var first = Relation(e.e);
        if (e._e1.Count == 0) return first;
        return Logical(e.e, first, e._e1.Select(o => ((ParserRuleContext)o, Relation(o))).ToList());
    }

    /// <summary>cel-go's check of <c>&amp;&amp;</c> and <c>||</c>: every operand that is not bool is an error at its
    /// position.</summary>
    private CelType Logical(ParserRuleContext first, CelType firstType, List<(ParserRuleContext Node, CelType Type)> rest)
    {
        var failed = false;
        foreach (var (node, type) in rest.Prepend((first, firstType)))
            if (!Assignable(type, CelType.Bool))
            {
                Report(Position(node), $"expected type 'bool' but found '{type}'");
                failed = true;
            }
        return failed ? CelType.Error : CelType.Bool;
    }

    private CelType Relation(CelParser.RelationContext e)
    {
        if (e.op is null) return Calc(e.calc());
        var left = Relation(e.relation(0));
        var right = Relation(e.relation(1));
        var op = e.op.Text;
        switch (op)
        {
            case "==" or "!=":
                if (Assignable(left, right)) return CelType.Bool;
                NoOverload(e.op, op == "==" ? "_==_" : "_!=_", [left, right]);
                return CelType.Error;
            case "in":
                if (right.IsWild || right.Kind == CelKind.Null || (right.Kind is CelKind.List or CelKind.Map && Assignable(left, right.Params[0])))
                    return CelType.Bool;
                NoOverload(e.op, "@in", [left, right]);
                return CelType.Error;
            default:
                if (Ordered(left, right)) return CelType.Bool;
                NoOverload(e.op, $"_{op}_", [left, right]);
                return CelType.Error;
        }
    }

    private static bool Numeric(CelType t) => t.Kind is CelKind.Int or CelKind.Uint or CelKind.Double;

    private static bool Ordered(CelType a, CelType b)
    {
        if (a.IsWild || b.IsWild) return true;
        if (Numeric(a) && Numeric(b)) return true;
        return a.Kind == b.Kind && a.Kind is CelKind.Bool or CelKind.String or CelKind.Bytes or CelKind.Timestamp or CelKind.Duration;
    }

    private CelType Calc(CelParser.CalcContext e)
    {
        if (e.op is null) return Unary(e.unary());
        var left = Calc(e.calc(0));
        var right = Calc(e.calc(1));
        var op = e.op.Text;
        var result = Arithmetic(op, left, right);
        if (result is not null) return result;
        NoOverload(e.op, $"_{op}_", [left, right]);
        return CelType.Error;
    }

    /// <summary>The standard overloads of the arithmetic operators: the result type, or null when none
    /// applies.</summary>
    private static CelType? Arithmetic(string op, CelType a, CelType b)
    {
        if (a.IsWild || b.IsWild)
        {
            // one known number, string or bytes operand fixes the overload (and so the result); else dyn
            var known = a.IsWild ? b : a;
            var fixes = known.Kind switch
            {
                CelKind.Int or CelKind.Uint => true,
                CelKind.Double => op != "%",
                CelKind.String or CelKind.Bytes => op == "+",
                _ => false,
            };
            return fixes ? known : CelType.Dyn;
        }
        if (a.Kind != b.Kind)
            return (op, a.Kind, b.Kind) switch
            {
                ("+", CelKind.Timestamp, CelKind.Duration) or ("+", CelKind.Duration, CelKind.Timestamp) => CelType.Timestamp,
                ("-", CelKind.Timestamp, CelKind.Duration) => CelType.Timestamp,
                ("-", CelKind.Timestamp, CelKind.Timestamp) => CelType.Duration,
                _ => null,
            };
        return (op, a.Kind) switch
        {
            (_, CelKind.Int or CelKind.Uint) => a,
            (not "%", CelKind.Double) => a,
            ("+", CelKind.String or CelKind.Bytes) => a,
            ("+", CelKind.List) => Assignable(a.Params[0], b.Params[0]) ? (a.Params[0].IsWild ? b : a) : null,
            ("+" or "-", CelKind.Duration) => a,
            ("-", CelKind.Timestamp) => CelType.Duration,
            _ => null,
        };
    }

    private CelType Unary(CelParser.UnaryContext e)
    {
        switch (e)
        {
            case CelParser.MemberExprContext m:
                return Member(m.member());
            case CelParser.LogicalNotContext n:
            {
                var operand = Member(n.member());
                if (n._ops.Count % 2 == 0) return operand;
                if (Assignable(operand, CelType.Bool)) return CelType.Bool;
                NoOverload(n._ops[0], "!_", [operand]);
                return CelType.Error;
            }
            case CelParser.NegateContext neg:
            {
                var operand = Member(neg.member());
                if (neg._ops.Count % 2 == 0) return operand;
                if (operand.IsWild || operand.Kind is CelKind.Int or CelKind.Double) return operand;
                NoOverload(neg._ops[0], "-_", [operand]);
                return CelType.Error;
            }
            default:
                return CelType.Dyn;
        }
    }

    private CelType Member(CelParser.MemberContext e)
    {
        switch (e)
        {
            case CelParser.PrimaryExprContext p:
                return Primary(p.primary());
            case CelParser.SelectContext s:
            {
                var target = Member(s.member());
                if (s.opt is not null) return CelType.Dyn; // optional selection: not typed here
                return Select(s.op, target, s.id.Text);
            }
            case CelParser.MemberCallContext c:
                return MemberCall(c);
            case CelParser.IndexContext i:
            {
                var target = Member(i.member());
                var index = Expr(i.index);
                if (i.opt is not null) return CelType.Dyn;
                if (target.IsWild) return CelType.Dyn;
                if (target.Kind == CelKind.List && (index.IsWild || Numeric(index))) return target.Params[0];
                if (target.Kind == CelKind.Map && Assignable(index, target.Params[0])) return target.Params[1];
                NoOverload(i.op, "_[_]", [target, index]);
                return CelType.Error;
            }
            default:
                return CelType.Dyn;
        }
    }

    /// <summary>cel-go's checkSelectField: a map gives its value type, an object its field's (or "undefined field"),
    /// dyn gives dyn, anything else does not support field selection.</summary>
    private CelType Select(IToken at, CelType target, string field)
    {
        switch (target.Kind)
        {
            case CelKind.Map:
                return target.Params[1];
            case CelKind.Object:
                if (target.Field(field) is { } type) return type;
                Report(at, $"undefined field '{field}'");
                return CelType.Error;
            case CelKind.Dyn or CelKind.Error or CelKind.Opaque or CelKind.Null:
                return CelType.Dyn;
            default:
                Report(at, $"type '{target}' does not support field selection");
                return CelType.Dyn;
        }
    }

    private CelType Primary(CelParser.PrimaryContext e)
    {
        switch (e)
        {
            case CelParser.NestedContext n:
                return Expr(n.e);
            case CelParser.IdentOrGlobalCallContext g:
                return g.op is null ? Ident(g.id) : GlobalCall(g);
            case CelParser.CreateListContext l:
            {
                CelType? element = null;
                foreach (var item in l.elems?._elems ?? [])
                {
                    var type = Expr(item.e);
                    if (item.opt is not null) type = CelType.Dyn;
                    element = Join(Position(item.e), element, type);
                }
                return CelType.List(element ?? CelType.Dyn);
            }
            case CelParser.CreateStructContext m:
            {
                CelType? key = null, value = null;
                var entries = m.entries;
                for (var i = 0; i < (entries?._keys.Count ?? 0); i++)
                {
                    key = Join(Position(entries!._keys[i].e), key, Expr(entries._keys[i].e));
                    var v = Expr(entries._values[i]);
                    if (entries._keys[i].opt is not null) v = CelType.Dyn;
                    value = Join(Position(entries._values[i]), value, v);
                }
                return CelType.Map(key ?? CelType.Dyn, value ?? CelType.Dyn);
            }
            case CelParser.ConstantLiteralContext c:
                return c.literal() switch
                {
                    CelParser.IntContext => CelType.Int,
                    CelParser.UintContext => CelType.Uint,
                    CelParser.DoubleContext => CelType.Double,
                    CelParser.StringContext => CelType.String,
                    CelParser.BytesContext => CelType.Bytes,
                    CelParser.BoolTrueContext or CelParser.BoolFalseContext => CelType.Bool,
                    CelParser.NullContext => CelType.Null,
                    _ => CelType.Dyn,
                };
            default:
                // message construction (Type{…}): no message types are declared
                return CelType.Dyn;
        }
    }

    /// <summary>cel-go's joinTypes for list and map literals, with homogeneous aggregate literals as kube has
    /// them.</summary>
    private CelType Join(IToken at, CelType? previous, CelType current)
    {
        if (previous is null) return current;
        if (Assignable(previous, current))
            return previous.IsWild || previous.Kind == CelKind.Null || current.Kind == CelKind.Null ? CelType.Dyn : current.IsWild ? current : previous;
        Report(at, $"expected type '{previous}' but found '{current}'");
        return CelType.Error;
    }

    private static readonly Dictionary<string, CelType> TypeNames = new(StringComparer.Ordinal)
    {
        ["int"] = CelType.Int, ["uint"] = CelType.Uint, ["double"] = CelType.Double, ["string"] = CelType.String,
        ["bytes"] = CelType.Bytes, ["bool"] = CelType.Bool, ["null_type"] = CelType.Null, ["list"] = CelType.List(CelType.Dyn),
        ["map"] = CelType.Map(CelType.Dyn, CelType.Dyn), ["type"] = CelType.Dyn, ["dyn"] = CelType.Dyn,
        ["google.protobuf.Timestamp"] = CelType.Timestamp, ["google.protobuf.Duration"] = CelType.Duration,
    };

    private CelType Ident(IToken id)
    {
        var name = id.Text;
        foreach (var scope in scopes)
            if (scope.TryGetValue(name, out var bound)) return bound;
        if (variables.TryGetValue(name, out var variable))
        {
            if (name == "oldSelf") UsesOldSelf = true;
            return variable;
        }
        if (TypeNames.TryGetValue(name, out var type)) return CelType.TypeOf(type);
        Report(id, $"undeclared reference to '{name}' (in container '')");
        return CelType.Error;
    }

    // ---- calls ----

    private static readonly HashSet<string> Namespaces = new(StringComparer.Ordinal) { "sets", "format", "ip", "optional", "cel", "math", "strings", "base64" };

    private CelType GlobalCall(CelParser.IdentOrGlobalCallContext g)
    {
        var name = g.id.Text;
        var args = g.args?._e.ToList() ?? [];
        if (name == "has" && args.Count == 1) return Has(g.op, args[0]);
        var types = args.Select(Expr).ToList();
        return Call(g.op, name, null, types);
    }

    /// <summary>has(): its argument must be a field selection, whose field is checked as a selection is.</summary>
    private CelType Has(IToken at, CelParser.ExprContext arg)
    {
        if (Unwrap(arg) is CelParser.SelectContext { opt: null } s)
        {
            Select(at, Member(s.member()), s.id.Text);
            return CelType.Bool;
        }
        Expr(arg);
        return CelType.Bool;
    }

    /// <summary>The member under an expression that is nothing but that member (no operator around it).</summary>
    private static CelParser.MemberContext? Unwrap(CelParser.ExprContext e)
    {
        if (e.op is not null || e.e._e1.Count > 0 || e.e.e._e1.Count > 0) return null;
        var relation = e.e.e.e;
        if (relation.op is not null) return null;
        var calc = relation.calc();
        if (calc.op is not null) return null;
        return calc.unary() is CelParser.MemberExprContext m
            ? m.member() is CelParser.PrimaryExprContext { } p && p.primary() is CelParser.NestedContext n ? Unwrap(n.e) : m.member()
            : null;
    }

    private static readonly HashSet<string> Comprehensions = new(StringComparer.Ordinal) { "all", "exists", "exists_one", "map", "filter" };

    private CelType MemberCall(CelParser.MemberCallContext c)
    {
        var name = c.id.Text;
        var args = c.args?._e.ToList() ?? [];
        var targetNode = c.member();
        // a namespaced function: sets.contains(…), ip.isCanonical(…), cel.bind(…), optional.of(…)
        if (targetNode is CelParser.PrimaryExprContext { } tp && tp.primary() is CelParser.IdentOrGlobalCallContext { op: null } ns &&
            Namespaces.Contains(ns.id.Text) && !IsBound(ns.id.Text))
        {
            if (ns.id.Text == "cel" && name == "bind" && args.Count == 3 && Unwrap(args[0]) is CelParser.PrimaryExprContext pv &&
                pv.primary() is CelParser.IdentOrGlobalCallContext { op: null } variable)
            {
                var init = Expr(args[1]);
                return Scoped(new() { [variable.id.Text] = init }, () => Expr(args[2]));
            }
            foreach (var arg in args) Expr(arg);
            return Library($"{ns.id.Text}.{name}", null);
        }
        if (Comprehensions.Contains(name) && args.Count is 2 or 3 && Unwrap(args[0]) is CelParser.PrimaryExprContext pe &&
            pe.primary() is CelParser.IdentOrGlobalCallContext { op: null } iter)
        {
            // two-variable comprehensions (all(k, v, …)) are not typed here
            if (args.Count == 3 && name != "map") return CelType.Dyn;
            return Comprehension(c, name, iter.id.Text, args);
        }
        var target = Member(targetNode);
        var types = args.Select(Expr).ToList();
        return Call(c.open, name, target, types);
    }

    private bool IsBound(string name) => scopes.Any(s => s.ContainsKey(name)) || variables.ContainsKey(name);

    private CelType Scoped(Dictionary<string, CelType> scope, Func<CelType> body)
    {
        scopes.Push(scope);
        try
        {
            return body();
        }
        finally
        {
            scopes.Pop();
        }
    }

    /// <summary>The comprehension macros: the variable ranges over a list's elements or a map's keys; all/exists need
    /// a bool body (cel-go reports the body's type against their <c>&amp;&amp;</c>/<c>||</c> step).</summary>
    private CelType Comprehension(CelParser.MemberCallContext c, string macro, string variable, List<CelParser.ExprContext> args)
    {
        var range = Member(c.member());
        CelType element;
        switch (range.Kind)
        {
            case CelKind.List or CelKind.Map:
                element = range.Params[0];
                break;
            case CelKind.Dyn or CelKind.Error or CelKind.Opaque:
                element = CelType.Dyn;
                break;
            default:
                Report(Position(c.member()), $"expression of type '{range}' cannot be range of a comprehension (must be list, map, or dynamic)");
                element = CelType.Error;
                break;
        }
        var scope = new Dictionary<string, CelType> { [variable] = element };
        var body = Scoped(scope, () => Expr(args[1]));
        switch (macro)
        {
            case "all" or "exists":
                if (!Assignable(body, CelType.Bool)) Report(Position(args[1]), $"expected type 'bool' but found '{body}'");
                return CelType.Bool;
            case "exists_one":
                return CelType.Bool;
            case "filter":
                return CelType.List(element);
            default:
                var transform = args.Count == 3 ? Scoped(scope, () => Expr(args[2])) : body;
                return CelType.List(transform);
        }
    }

    /// <summary>One overload of a function: member or global, its parameter types (A, K, V stand for any type, bound
    /// at their first use) and its result.</summary>
    private sealed record Overload(bool IsMember, string[] Params, string Result);

    private static Overload G(string result, params string[] parameters) => new(false, parameters, result);
    private static Overload M(string result, params string[] parameters) => new(true, parameters, result);

    /// <summary>The standard functions (cel-go's stdlib) and the string extensions kube registers, with all their
    /// overloads: a call none takes is refused.</summary>
    private static readonly Dictionary<string, Overload[]> Standard = new(StringComparer.Ordinal)
    {
        ["size"] = [G("int", "string"), G("int", "bytes"), G("int", "list(A)"), G("int", "map(K,V)"),
            M("int", "string"), M("int", "bytes"), M("int", "list(A)"), M("int", "map(K,V)")],
        ["contains"] = [M("bool", "string", "string")],
        ["startsWith"] = [M("bool", "string", "string")],
        ["endsWith"] = [M("bool", "string", "string")],
        ["matches"] = [G("bool", "string", "string"), M("bool", "string", "string")],
        ["int"] = [G("int", "int"), G("int", "uint"), G("int", "double"), G("int", "string"), G("int", "timestamp"), G("int", "duration")],
        ["uint"] = [G("uint", "uint"), G("uint", "int"), G("uint", "double"), G("uint", "string")],
        ["double"] = [G("double", "double"), G("double", "int"), G("double", "uint"), G("double", "string")],
        ["string"] = [G("string", "string"), G("string", "bool"), G("string", "bytes"), G("string", "double"),
            G("string", "duration"), G("string", "int"), G("string", "timestamp"), G("string", "uint")],
        ["bytes"] = [G("bytes", "bytes"), G("bytes", "string")],
        ["bool"] = [G("bool", "bool"), G("bool", "string")],
        ["timestamp"] = [G("timestamp", "timestamp"), G("timestamp", "int"), G("timestamp", "string")],
        ["duration"] = [G("duration", "duration"), G("duration", "int"), G("duration", "string")],
        ["dyn"] = [G("dyn", "A")],
        ["type"] = [G("type(A)", "A")],
        ["getFullYear"] = TimestampGetter(),
        ["getMonth"] = TimestampGetter(),
        ["getDayOfYear"] = TimestampGetter(),
        ["getDayOfMonth"] = TimestampGetter(),
        ["getDate"] = TimestampGetter(),
        ["getDayOfWeek"] = TimestampGetter(),
        ["getHours"] = [.. TimestampGetter(), M("int", "duration")],
        ["getMinutes"] = [.. TimestampGetter(), M("int", "duration")],
        ["getSeconds"] = [.. TimestampGetter(), M("int", "duration")],
        ["getMilliseconds"] = [.. TimestampGetter(), M("int", "duration")],
        ["charAt"] = [M("string", "string", "int")],
        ["lowerAscii"] = [M("string", "string")],
        ["upperAscii"] = [M("string", "string")],
        ["trim"] = [M("string", "string")],
        ["replace"] = [M("string", "string", "string", "string"), M("string", "string", "string", "string", "int")],
        ["split"] = [M("list(string)", "string", "string"), M("list(string)", "string", "string", "int")],
        ["substring"] = [M("string", "string", "int"), M("string", "string", "int", "int")],
        ["join"] = [M("string", "list(string)"), M("string", "list(string)", "string")],
        // string extensions and kube's lists library share these
        ["indexOf"] = [M("int", "string", "string"), M("int", "string", "string", "int"), M("int", "list(A)", "A")],
        ["lastIndexOf"] = [M("int", "string", "string"), M("int", "string", "string", "int"), M("int", "list(A)", "A")],
    };

    private static Overload[] TimestampGetter() => [M("int", "timestamp"), M("int", "timestamp", "string")];

    /// <summary>Result types of kube's library functions (arguments not checked): the parameter is the target's
    /// type.</summary>
    private static CelType Library(string name, CelType? target) => name switch
    {
        "isSorted" or "isURL" or "isQuantity" or "isInteger" or "isGreaterThan" or "isLessThan" or "isIP" or "isCIDR" or
            "isCanonical" or "ip.isCanonical" or "isUnspecified" or "isLoopback" or "isLinkLocalMulticast" or "isLinkLocalUnicast" or
            "isGlobalUnicast" or "containsIP" or "containsCIDR" or "sets.contains" or "sets.equivalent" or "sets.intersects" or
            "hasValue" => CelType.Bool,
        "sum" or "min" or "max" => target is { Kind: CelKind.List } ? target.Params[0] : CelType.Dyn,
        "find" or "getScheme" or "getHost" or "getHostname" or "getPort" or "getEscapedPath" => CelType.String,
        "findAll" => CelType.List(CelType.String),
        "getQuery" => CelType.Map(CelType.String, CelType.List(CelType.String)),
        "sign" or "compareTo" or "asInteger" or "family" or "prefixLength" => CelType.Int,
        "asApproximateFloat" => CelType.Double,
        "url" => CelType.Opaque("kubernetes.URL"),
        "quantity" or "add" or "sub" => CelType.Opaque("kubernetes.Quantity"),
        "ip" => CelType.Opaque("net.IP"),
        "cidr" or "masked" => CelType.Opaque("net.CIDR"),
        _ => CelType.Dyn,
    };

    private CelType Call(IToken at, string name, CelType? target, List<CelType> args)
    {
        if (!Standard.TryGetValue(name, out var overloads)) return Library(name, target);
        var all = target is null ? args : args.Prepend(target).ToList();
        CelType? result = null;
        foreach (var overload in overloads)
        {
            if (overload.IsMember != target is not null || overload.Params.Length != all.Count) continue;
            var bindings = new Dictionary<string, CelType>(StringComparer.Ordinal);
            if (!overload.Params.Zip(all).All(p => Matches(p.Item1, p.Item2, bindings))) continue;
            var type = Parse(overload.Result, bindings);
            result = result is null ? type : result.ToString() == type.ToString() ? result : CelType.Dyn;
        }
        if (result is not null) return result;
        // a name the standard library shares with kube's libraries (min, max, … are not listed): not refused
        if (target is not null && Library(name, target) is var library && library.Kind != CelKind.Dyn) return library;
        NoOverload(at, name, args, target);
        return CelType.Error;
    }

    private static bool Matches(string parameter, CelType arg, Dictionary<string, CelType> bindings)
    {
        if (parameter is "A" or "K" or "V")
        {
            if (!bindings.TryGetValue(parameter, out var bound))
            {
                bindings[parameter] = arg;
                return true;
            }
            if (!Assignable(bound, arg)) return false;
            if (bound.IsWild && !arg.IsWild) bindings[parameter] = arg;
            return true;
        }
        if (arg.IsWild) return true;
        if (parameter.StartsWith("list(", StringComparison.Ordinal))
            return arg.Kind == CelKind.List && Matches(parameter[5..^1], arg.Params[0], bindings);
        if (parameter.StartsWith("map(", StringComparison.Ordinal))
            return arg.Kind == CelKind.Map && Matches("K", arg.Params[0], bindings) && Matches("V", arg.Params[1], bindings);
        return arg.Kind == Parse(parameter, bindings).Kind;
    }

    private static CelType Parse(string type, Dictionary<string, CelType> bindings) => type switch
    {
        "int" => CelType.Int, "uint" => CelType.Uint, "double" => CelType.Double, "string" => CelType.String,
        "bytes" => CelType.Bytes, "bool" => CelType.Bool, "timestamp" => CelType.Timestamp, "duration" => CelType.Duration,
        "list(string)" => CelType.List(CelType.String),
        "type(A)" => CelType.TypeOf(bindings.GetValueOrDefault("A") ?? CelType.Dyn),
        "A" or "K" or "V" => bindings.GetValueOrDefault(type) ?? CelType.Dyn,
        _ => CelType.Dyn,
    };

    /// <summary>cel-go's isAssignable, conservatively: dyn, errors, opaque library types and null go with anything,
    /// and two object types are taken as agreeing (kube compares their generated names).</summary>
    public static bool Assignable(CelType a, CelType b)
    {
        if (a.IsWild || b.IsWild || a.Kind == CelKind.Null || b.Kind == CelKind.Null) return true;
        if (a.Kind != b.Kind) return false;
        return a.Kind switch
        {
            CelKind.List => Assignable(a.Params[0], b.Params[0]),
            CelKind.Map => Assignable(a.Params[0], b.Params[0]) && Assignable(a.Params[1], b.Params[1]),
            _ => true,
        };
    }

    /// <summary>Where cel-go places an expression's node: an operator's token, a call's parenthesis, a select's
    /// dot, an index's bracket, an identifier or literal itself.</summary>
    private static IToken Position(IParseTree node) => node switch
    {
        CelParser.ExprContext e when e.op is not null => e.op,
        CelParser.ExprContext e => Position(e.e),
        CelParser.ConditionalOrContext o when o._ops.Count > 0 => o._ops[o._ops.Count / 2], // cel-go balances the chain
        CelParser.ConditionalOrContext o => Position(o.e),
        CelParser.ConditionalAndContext a when a._ops.Count > 0 => a._ops[a._ops.Count / 2],
        CelParser.ConditionalAndContext a => Position(a.e),
        CelParser.RelationContext r when r.op is not null => r.op,
        CelParser.RelationContext r => Position(r.calc()),
        CelParser.CalcContext c when c.op is not null => c.op,
        CelParser.CalcContext c => Position(c.unary()),
        CelParser.MemberExprContext m => Position(m.member()),
        CelParser.LogicalNotContext n => n._ops.Count % 2 == 0 ? Position(n.member()) : n._ops[0],
        CelParser.NegateContext n => n._ops.Count % 2 == 0 ? Position(n.member()) : n._ops[0],
        CelParser.PrimaryExprContext p => Position(p.primary()),
        CelParser.SelectContext s => s.op,
        CelParser.MemberCallContext c => c.open,
        CelParser.IndexContext i => i.op,
        CelParser.NestedContext n => Position(n.e),
        CelParser.IdentOrGlobalCallContext g => g.op ?? g.id,
        CelParser.CreateListContext l => l.op,
        CelParser.CreateStructContext s => s.op,
        ParserRuleContext r => r.Start,
        _ => throw new ArgumentException("not an expression node", nameof(node)),
    };
}
