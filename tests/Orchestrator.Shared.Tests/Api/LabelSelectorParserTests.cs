using Orchestrator.Shared.Api;
using Xunit;

namespace Orchestrator.Shared.Tests.Api;

/// <summary>
/// The labelSelector query form against kube 1.32's labels.Parse: the accepted inputs of its selector_test.go (and
/// more) with the requirements kube builds from them, and refused inputs with kube's messages word for word.
/// </summary>
public sealed class LabelSelectorParserTests
{
    private const string NamePart =
        "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric " +
        "character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

    private const string LabelValue =
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and " +
        "end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is " +
        "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

    // Requirements as "key Op (values)", in the parsed order (sorted by key).
    private static string Describe(LabelSelector selector) =>
        string.Join("; ", selector.Requirements.Select(r => $"{r.Key} {r.Op} ({string.Join(",", r.Values)})"));

    [Theory]
    [InlineData("", "")]
    [InlineData("   \t\r\n", "")]
    [InlineData("x=a,y=b,z=c", "x Equals (a); y Equals (b); z Equals (c)")]
    [InlineData("x!=a,y=b", "x NotEquals (a); y Equals (b)")]
    [InlineData("x=", "x Equals ()")]
    [InlineData("x= ", "x Equals ()")]
    [InlineData("x=,z= ", "x Equals (); z Equals ()")]
    [InlineData("x==a", "x Equals (a)")]
    [InlineData("!x", "x DoesNotExist ()")]
    [InlineData("x>1", "x GreaterThan (1)")]
    [InlineData("x>1,z<5", "x GreaterThan (1); z LessThan (5)")]
    [InlineData("x > 01", "x GreaterThan (01)")]
    [InlineData("\rx", "x Exists ()")]
    [InlineData("this-is-a-dns.domain.com/key-with-dash", "this-is-a-dns.domain.com/key-with-dash Exists ()")]
    [InlineData("this-is-another-dns.domain.com/key-with-dash in (so,what)", "this-is-another-dns.domain.com/key-with-dash In (so,what)")]
    [InlineData("0.1.2.domain/99 notin (10.10.100.1, tick.tack.clock)", "0.1.2.domain/99 NotIn (10.10.100.1,tick.tack.clock)")]
    [InlineData("foo  in\t (abc)", "foo In (abc)")]
    [InlineData("x notin\n (abc)", "x NotIn (abc)")]
    [InlineData("x  notin\t\t\t(abc,def)", "x NotIn (abc,def)")]
    [InlineData("x in (def,abc,def)", "x In (abc,def)")]
    [InlineData("x in (abc,)", "x In (,abc)")]
    [InlineData("x in ()", "x In ()")]
    [InlineData("x notin ( )", "x NotIn ()")]
    [InlineData("x notin (, a)", "x NotIn (,a)")]
    [InlineData("x in (,,)", "x In ()")]
    [InlineData("x notin (abc,,def),bar,z in (),w", "bar Exists (); w Exists (); x NotIn (,abc,def); z In ()")]
    [InlineData("x,y in (a)", "x Exists (); y In (a)")]
    [InlineData("a ", "a Exists ()")]
    [InlineData("a in (x,y,notin, z,in)", "a In (in,notin,x,y,z)")]
    [InlineData("notin=in", "notin Equals (in)")]
    [InlineData("in,notin", "in Exists (); notin Exists ()")]
    [InlineData("x=b,x!=c,!x", "x Equals (b); x NotEquals (c); x DoesNotExist ()")]
    [InlineData("a=b \0 ((garbage", "a Equals (b)")] // a NUL where a token starts ends the text, as Go's lexer reads it
    [InlineData("a=\0b", "a Equals (b)")]
    public void Accepted_as_kube_accepts_them(string text, string requirements) =>
        Assert.Equal(requirements, Describe(LabelSelector.Parse(text)));

    [Theory]
    [InlineData("x=a||y=b", "unable to parse requirement: values[0][x]: Invalid value: \"a||y\": " + LabelValue)]
    [InlineData("x==a==b", "found '==', expected: ',' or 'end of string'")]
    [InlineData("!x=a", "found '=', expected: ',' or 'end of string'")]
    [InlineData("x<a", "unable to parse requirement: values[0]: Invalid value: \"a\": for 'Gt', 'Lt' operators, the value must be an integer")]
    [InlineData("x>", "unable to parse requirement: values[0]: Invalid value: \"\": for 'Gt', 'Lt' operators, the value must be an integer")]
    [InlineData("x>99999999999999999999", "unable to parse requirement: values[0]: Invalid value: \"99999999999999999999\": for 'Gt', 'Lt' operators, the value must be an integer")]
    [InlineData("x>+7", "unable to parse requirement: values[0][x]: Invalid value: \"+7\": " + LabelValue)] // an integer, not a label value
    [InlineData("x>-1", "unable to parse requirement: values[0][x]: Invalid value: \"-1\": " + LabelValue)]
    [InlineData("x>abc-", "unable to parse requirement: [values[0]: Invalid value: \"abc-\": for 'Gt', 'Lt' operators, the value must be an integer, values[0][x]: Invalid value: \"abc-\": " + LabelValue + "]")]
    [InlineData("x in (c-,-b)", "unable to parse requirement: [values[0][x]: Invalid value: \"-b\": " + LabelValue + ", values[1][x]: Invalid value: \"c-\": " + LabelValue + "]")]
    [InlineData("x,,y", "found ',', expected: identifier after ','")]
    [InlineData(",x,y", "found ',', expected: !, identifier, or 'end of string'")]
    [InlineData("app=web,", "found '', expected: identifier after ','")]
    [InlineData("x nott in (y)", "unable to parse requirement: found 'nott', expected: in, notin, =, ==, !=, gt, lt")]
    [InlineData("a in (xyz),", "found '', expected: identifier after ','")]
    [InlineData("a in (xyz)b notin ()", "found 'b', expected: ',' or 'end of string'")]
    [InlineData("a in (xyz abc)", "unable to parse requirement: found 'abc', expected: ',' or ')'")]
    [InlineData("a in (b,c", "unable to parse requirement: found '', expected: ',' or ')'")]
    [InlineData("a in (b,", "unable to parse requirement: found '', expected: ',', or identifier")]
    [InlineData("a in (b,=)", "unable to parse requirement: found '=', expected: ',', or identifier")]
    [InlineData("a notin(", "unable to parse requirement: found '', expected: ',', ')' or identifier")]
    [InlineData("a in b", "unable to parse requirement: found 'b' expected: '('")]
    [InlineData("a (", "unable to parse requirement: found '(', expected: in, notin, =, ==, !=, gt, lt")]
    [InlineData("a!", "unable to parse requirement: found '!', expected: in, notin, =, ==, !=, gt, lt")]
    [InlineData("a b=c", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt")]
    [InlineData("a\0b", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt")]
    [InlineData("a===b", "unable to parse requirement: found '=', expected: identifier")]
    [InlineData("a=(b)", "unable to parse requirement: found '(', expected: identifier")]
    [InlineData("(", "found '(', expected: !, identifier, or 'end of string'")]
    [InlineData(")", "found ')', expected: !, identifier, or 'end of string'")]
    [InlineData("=web", "found '=', expected: !, identifier, or 'end of string'")]
    [InlineData("!", "unable to parse requirement: found '', expected: identifier")]
    [InlineData("!!a", "unable to parse requirement: found '!', expected: identifier")]
    [InlineData("x=a b", "found 'b', expected: ',' or 'end of string'")]
    [InlineData("app:monolith", "unable to parse requirement: <nil>: Invalid value: \"app:monolith\": " + NamePart)]
    [InlineData("-app=web", "unable to parse requirement: <nil>: Invalid value: \"-app\": " + NamePart)]
    [InlineData("\va", "unable to parse requirement: <nil>: Invalid value: \"\\va\": " + NamePart)]
    [InlineData("a\u0001=b", "unable to parse requirement: <nil>: Invalid value: \"a\\x01\": " + NamePart)]
    [InlineData("é=x", "unable to parse requirement: <nil>: Invalid value: \"é\": " + NamePart)]
    [InlineData("example.com/=web", "unable to parse requirement: <nil>: Invalid value: \"example.com/\": name part must be non-empty; " + NamePart)]
    [InlineData("/a", "unable to parse requirement: <nil>: Invalid value: \"/a\": prefix part must be non-empty")]
    [InlineData("a/b/c ?=? def", "unable to parse requirement: <nil>: Invalid value: \"a/b/c\": a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')")]
    [InlineData("app.kubernetes_io/name=x", "unable to parse requirement: <nil>: Invalid value: \"app.kubernetes_io/name\": prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")]
    public void Refused_with_kubes_message(string text, string message) =>
        Assert.Equal(message, Assert.Throws<FormatException>(() => LabelSelector.Parse(text)).Message);

    [Fact]
    public void Lengths_are_counted_in_bytes_as_Go_counts_them()
    {
        var key = new string('a', 64);
        Assert.Equal($"unable to parse requirement: <nil>: Invalid value: \"{key}\": name part must be no more than 63 characters",
            Assert.Throws<FormatException>(() => LabelSelector.Parse(key)).Message);
        var prefix = new string('p', 254);
        Assert.Equal($"unable to parse requirement: <nil>: Invalid value: \"{prefix}/a\": prefix part must be no more than 253 characters",
            Assert.Throws<FormatException>(() => LabelSelector.Parse(prefix + "/a=x")).Message);
        var value = new string('z', 64);
        Assert.Equal($"unable to parse requirement: values[0][good-key]: Invalid value: \"{value}\": must be no more than 63 characters",
            Assert.Throws<FormatException>(() => LabelSelector.Parse("good-key=" + value)).Message);
        // 32 two-byte characters are 64 bytes: too long as well as not a label value.
        var wide = new string('é', 32);
        Assert.Equal($"unable to parse requirement: values[0][k]: Invalid value: \"{wide}\": must be no more than 63 characters; {LabelValue}",
            Assert.Throws<FormatException>(() => LabelSelector.Parse("k=" + wide)).Message);
    }

    [Theory]
    [InlineData("x>1", "2", true)]
    [InlineData("x>1", "1", false)]
    [InlineData("x>1", "0", false)]
    [InlineData("x<1", "0", true)]
    [InlineData("x<1", "-5", true)]
    [InlineData("x<1", "2", false)]
    [InlineData("x>1", "v2", false)]
    [InlineData("x>1", null, false)]
    [InlineData("x>01", "2", true)]
    [InlineData("x in ()", "", true)]
    [InlineData("x in ()", null, false)]
    [InlineData("x notin ()", "", false)]
    [InlineData("x notin ()", null, true)]
    [InlineData("x notin ()", "a", true)]
    [InlineData("x in (a,)", "", true)]
    [InlineData("x=", "", true)]
    [InlineData("x=", null, false)]
    [InlineData("x!=", null, true)]
    public void Matches_as_kube_matches(string text, string? value, bool matches)
    {
        var labels = value is null ? new Dictionary<string, string> { ["y"] = "z" } : new Dictionary<string, string> { ["x"] = value };
        Assert.Equal(matches, LabelSelector.Parse(text).Matches(labels));
    }

    [Fact]
    public void Ten_thousand_terms_parse()
    {
        var text = string.Join(",", Enumerable.Range(0, 10_000).Select(i => $"k{i} in (a,b)"));
        var selector = LabelSelector.Parse(text);
        Assert.Equal(10_000, selector.Requirements.Count);
        Assert.False(selector.Matches(new Dictionary<string, string> { ["k1"] = "a" }));
    }

    [Theory]
    [InlineData(100_000, '(')]
    [InlineData(100_000, ')')]
    [InlineData(100_000, '!')]
    [InlineData(100_000, ',')]
    [InlineData(1_000_000, 'a')]
    [InlineData(1_000_000, '\0')]
    [InlineData(1_000_000, '\u2028')]
    public void Hostile_inputs_are_answered_with_a_FormatException_or_a_selector(int length, char c)
    {
        var text = new string(c, length);
        try
        {
            LabelSelector.Parse(text);
        }
        catch (FormatException e)
        {
            Assert.NotEmpty(e.Message);
        }
    }

    [Fact]
    public void Unbalanced_and_nested_parentheses_are_refused()
    {
        Assert.Equal("unable to parse requirement: found '(', expected: ',', ')' or identifier",
            Assert.Throws<FormatException>(() => LabelSelector.Parse("a in ((b))")).Message);
        Assert.Equal("found ')', expected: ',' or 'end of string'",
            Assert.Throws<FormatException>(() => LabelSelector.Parse("a in (b))")).Message);
    }
}
