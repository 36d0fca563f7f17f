using System.Globalization;
using static Orchestrator.Shared.Api.LabelSelector;

namespace Orchestrator.Shared.Api;

/// <summary>
/// The <c>labelSelector</c> query form as apimachinery's labels.Parse reads it: a lexer (identifiers end at
/// whitespace — space, tab, CR, LF — or one of <c>= ! ( ) , &gt; &lt;</c>; operators are the longest match), then a
/// recursive-descent parser over the tokens, each requirement checked as NewRequirement checks it. Every refusal is a
/// <see cref="FormatException"/> carrying kube's message, word for word, so the API answers what kube-apiserver
/// answers. As in Go, a NUL character reads as the end of the text where a token would start.
/// </summary>
internal sealed class LabelSelectorParser
{
    private enum Token { EndOfString, ClosedPar, Comma, DoesNotExist, DoubleEquals, Equals, GreaterThan, Identifier, In, LessThan, NotEquals, NotIn, OpenPar }

    // Whether "in"/"notin" are operators (after a key) or plain identifiers (keys and values).
    private enum Context { KeyAndOperator, Values }

    private readonly record struct Item(Token Token, string Literal);

    private static readonly Dictionary<string, Token> Tokens = new()
    {
        [")"] = Token.ClosedPar, [","] = Token.Comma, ["!"] = Token.DoesNotExist, ["=="] = Token.DoubleEquals,
        ["="] = Token.Equals, [">"] = Token.GreaterThan, ["in"] = Token.In, ["<"] = Token.LessThan,
        ["!="] = Token.NotEquals, ["notin"] = Token.NotIn, ["("] = Token.OpenPar,
    };

    // selection's binary operators as kube lists them in "expected: …".
    private const string BinaryOperators = "in, notin, =, ==, !=, gt, lt";

    private readonly List<Item> _items;
    private int _position;

    private LabelSelectorParser(string text) => _items = Lexer.Scan(text);

    /// <summary>The requirements in the text, sorted by key (stably; kube's sort is not, which only matters for
    /// printing repeated keys).</summary>
    public static List<Requirement> Parse(string text)
    {
        var requirements = new LabelSelectorParser(text).ParseAll();
        return [.. requirements.OrderBy(r => r.Key, Utf8Order.Instance)];
    }

    private List<Requirement> ParseAll()
    {
        var requirements = new List<Requirement>();
        while (true)
        {
            var (token, literal) = Lookahead(Context.Values);
            switch (token)
            {
                case Token.Identifier or Token.DoesNotExist:
                    try
                    {
                        requirements.Add(ParseRequirement());
                    }
                    catch (FormatException e)
                    {
                        throw new FormatException($"unable to parse requirement: {e.Message}");
                    }
                    var (next, nextLiteral) = Consume(Context.Values);
                    switch (next)
                    {
                        case Token.EndOfString:
                            return requirements;
                        case Token.Comma:
                            var (after, afterLiteral) = Lookahead(Context.Values);
                            if (after is not (Token.Identifier or Token.DoesNotExist))
                                throw new FormatException($"found '{afterLiteral}', expected: identifier after ','");
                            break;
                        default:
                            throw new FormatException($"found '{nextLiteral}', expected: ',' or 'end of string'");
                    }
                    break;
                case Token.EndOfString:
                    return requirements;
                default:
                    throw new FormatException($"found '{literal}', expected: !, identifier, or 'end of string'");
            }
        }
    }

    private Requirement ParseRequirement()
    {
        var (key, op) = ParseKeyAndInferOperator();
        if (op is Operator.Exists or Operator.DoesNotExist) return NewRequirement(key, op.Value, []);
        var binary = ParseOperator();
        IEnumerable<string> values = binary is Operator.In or Operator.NotIn ? ParseValues() : ParseExactValue();
        return NewRequirement(key, binary, [.. values.Order(Utf8Order.Instance)]);
    }

    // "!key" is DoesNotExist; a key followed by ',' or the end is Exists; otherwise an operator follows (null).
    private (string Key, Operator? Op) ParseKeyAndInferOperator()
    {
        Operator? op = null;
        var (token, literal) = Consume(Context.Values);
        if (token == Token.DoesNotExist)
        {
            op = Operator.DoesNotExist;
            (token, literal) = Consume(Context.Values);
        }
        if (token != Token.Identifier) throw new FormatException($"found '{literal}', expected: identifier");
        // kube checks the key here with no field path, so its message reads "<nil>: Invalid value: …".
        if (LabelSyntax.KeyProblems(literal) is { Count: > 0 } problems)
            throw new FormatException($"<nil>: Invalid value: {GoQuote.Quote(literal)}: {string.Join("; ", problems)}");
        if (Lookahead(Context.Values).Token is Token.EndOfString or Token.Comma && op is null) op = Operator.Exists;
        return (literal, op);
    }

    private Operator ParseOperator()
    {
        var (token, literal) = Consume(Context.KeyAndOperator);
        return token switch
        {
            Token.In => Operator.In,
            Token.Equals or Token.DoubleEquals => Operator.Equals,
            Token.GreaterThan => Operator.GreaterThan,
            Token.LessThan => Operator.LessThan,
            Token.NotIn => Operator.NotIn,
            Token.NotEquals => Operator.NotEquals,
            _ => throw new FormatException($"found '{literal}', expected: {BinaryOperators}"),
        };
    }

    // "(a,b)": a set; "()" and empty places between commas are the empty value.
    private SortedSet<string> ParseValues()
    {
        var (token, literal) = Consume(Context.Values);
        if (token != Token.OpenPar) throw new FormatException($"found '{literal}' expected: '('");
        (token, literal) = Lookahead(Context.Values);
        switch (token)
        {
            case Token.Identifier or Token.Comma:
                var values = ParseIdentifiersList();
                Consume(Context.Values); // the ')' the list stopped at
                return values;
            case Token.ClosedPar:
                Consume(Context.Values);
                return new SortedSet<string>(Utf8Order.Instance) { "" };
            default:
                throw new FormatException($"found '{literal}', expected: ',', ')' or identifier");
        }
    }

    private SortedSet<string> ParseIdentifiersList()
    {
        var values = new SortedSet<string>(Utf8Order.Instance);
        while (true)
        {
            var (token, literal) = Consume(Context.Values);
            switch (token)
            {
                case Token.Identifier:
                    values.Add(literal);
                    var (next, nextLiteral) = Lookahead(Context.Values);
                    switch (next)
                    {
                        case Token.Comma: continue;
                        case Token.ClosedPar: return values;
                        default: throw new FormatException($"found '{nextLiteral}', expected: ',' or ')'");
                    }
                case Token.Comma:
                    if (values.Count == 0) values.Add(""); // "(,"
                    var following = Lookahead(Context.Values).Token;
                    if (following == Token.ClosedPar)
                    {
                        values.Add(""); // ",)"
                        return values;
                    }
                    if (following == Token.Comma) values.Add(""); // ",,"
                    break;
                default:
                    throw new FormatException($"found '{literal}', expected: ',', or identifier");
            }
        }
    }

    // The one value after =, ==, !=, > or <; nothing before ',' or the end is the empty value.
    private string[] ParseExactValue()
    {
        if (Lookahead(Context.Values).Token is Token.EndOfString or Token.Comma) return [""];
        var (token, literal) = Consume(Context.Values);
        if (token == Token.Identifier) return [literal];
        throw new FormatException($"found '{literal}', expected: identifier");
    }

    private Item Lookahead(Context context) => InContext(_items[_position], context);

    private Item Consume(Context context) => InContext(_items[_position++], context);

    private static Item InContext(Item item, Context context) =>
        context == Context.Values && item.Token is Token.In or Token.NotIn ? item with { Token = Token.Identifier } : item;

    /// <summary>
    /// labels.NewRequirement's checks as the parser reaches them (the key is checked already): Gt and Lt take an
    /// integer, every value is a label value. All problems are reported together, as a field.ErrorList aggregate prints them.
    /// </summary>
    private static Requirement NewRequirement(string key, Operator op, string[] values)
    {
        var errors = new List<string>();
        // The parser gives Gt and Lt exactly one value, so kube's count check cannot fail here.
        if (op is Operator.GreaterThan or Operator.LessThan && !TryParseInteger(values[0], out _))
            errors.Add($"values[0]: Invalid value: {GoQuote.Quote(values[0])}: for 'Gt', 'Lt' operators, the value must be an integer");
        for (var i = 0; i < values.Length; i++)
            if (LabelSyntax.ValueProblems(values[i]) is { Count: > 0 } problems)
                errors.Add($"values[{i}][{key}]: Invalid value: {GoQuote.Quote(values[i])}: {string.Join("; ", problems)}");
        var distinct = errors.Distinct().ToList();
        return distinct.Count switch
        {
            0 => new Requirement(key, op, values),
            1 => throw new FormatException(distinct[0]),
            _ => throw new FormatException("[" + string.Join(", ", distinct) + "]"),
        };
    }

    /// <summary>Go's strconv.ParseInt(s, 10, 64): an optional sign and ASCII digits, within a long.</summary>
    internal static bool TryParseInteger(string text, out long value) =>
        long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);

    /// <summary>The lexer, run over the whole text before parsing (as kube's scan does).</summary>
    private static class Lexer
    {
        public static List<Item> Scan(string text)
        {
            var items = new List<Item>();
            var position = 0;
            while (true)
            {
                var item = Lex(text, ref position);
                items.Add(item);
                if (item.Token == Token.EndOfString) return items;
            }
        }

        private static Item Lex(string text, ref int position)
        {
            var c = Read(text, ref position);
            while (IsWhitespace(c)) c = Read(text, ref position);
            if (c == '\0') return new Item(Token.EndOfString, "");
            position--;
            return IsSpecial(c) ? ScanSpecialSymbol(text, ref position) : ScanIdentifierOrKeyword(text, ref position);
        }

        // Go's read: the next character, or NUL at the end (without moving). A NUL inside the text is read like the
        // end, but is consumed.
        private static char Read(string text, ref int position) => position < text.Length ? text[position++] : '\0';

        private static Item ScanIdentifierOrKeyword(string text, ref int position)
        {
            var start = position;
            var end = position;
            while (true)
            {
                var c = Read(text, ref position);
                if (c == '\0') break;
                if (IsSpecial(c) || IsWhitespace(c))
                {
                    position--;
                    break;
                }
                end = position;
            }
            var literal = text[start..end];
            return Tokens.TryGetValue(literal, out var keyword) ? new Item(keyword, literal) : new Item(Token.Identifier, literal);
        }

        // The longest operator: "!=" rather than "!", "==" rather than "=".
        private static Item ScanSpecialSymbol(string text, ref int position)
        {
            var start = position;
            Item? last = null;
            while (true)
            {
                var c = Read(text, ref position);
                if (c == '\0') break;
                if (!IsSpecial(c))
                {
                    position--;
                    break;
                }
                var candidate = text[start..position];
                if (Tokens.TryGetValue(candidate, out var token)) last = new Item(token, candidate);
                else if (last is not null)
                {
                    position--;
                    break;
                }
            }
            // Every single special character is a token, so something was always found.
            return last ?? new Item(Token.EndOfString, "");
        }

        private static bool IsWhitespace(char c) => c is ' ' or '\t' or '\r' or '\n';

        private static bool IsSpecial(char c) => c is '=' or '!' or '(' or ')' or ',' or '>' or '<';
    }
}

/// <summary>Go's string order (bytes of UTF-8), which is code-point order; UTF-16 ordinal order differs for
/// characters past U+D7FF.</summary>
internal sealed class Utf8Order : IComparer<string>
{
    public static Utf8Order Instance { get; } = new();

    public int Compare(string? x, string? y)
    {
        if (ReferenceEquals(x, y)) return 0;
        if (x is null) return -1;
        if (y is null) return 1;
        var a = x.EnumerateRunes();
        var b = y.EnumerateRunes();
        while (true)
        {
            var hasA = a.MoveNext();
            var hasB = b.MoveNext();
            if (!hasA || !hasB) return hasA ? 1 : hasB ? -1 : 0;
            if (a.Current.Value != b.Current.Value) return a.Current.Value.CompareTo(b.Current.Value);
        }
    }
}
