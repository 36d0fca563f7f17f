using Orchestrator.Shared.Api;
using Xunit;

namespace Orchestrator.Shared.Tests.Api;

/// <summary>The fieldSelector query form against kube 1.32's fields.ParseSelector: terms sorted, nothing trimmed,
/// the first operator splits, values unescaped; refusals with kube's messages.</summary>
public sealed class FieldSelectorSyntaxTests
{
    private static string Describe(IReadOnlyList<FieldSelectorSyntax.Term> terms) =>
        string.Join("; ", terms.Select(t => $"[{t.Field}]{(t.Equal ? "=" : "!=")}[{t.Value}]"));

    [Theory]
    [InlineData("", "")]
    [InlineData(",", "")]
    [InlineData("a=b", "[a]=[b]")]
    [InlineData("a==b", "[a]=[b]")]
    [InlineData("a!=b", "[a]!=[b]")]
    [InlineData("a=", "[a]=[]")]
    [InlineData("=b", "[]=[b]")]
    [InlineData("b=1,a=2", "[a]=[2]; [b]=[1]")]
    [InlineData("a = b", "[a ]=[ b]")]
    [InlineData("a=!b", "[a]=[!b]")]
    [InlineData("a=b!", "[a]=[b!]")]
    [InlineData(@"a=b\,", "[a]=[b,]")]
    [InlineData(@"a=x\,y\=z\\", @"[a]=[x,y=z\]")]
    [InlineData(@"a=x\,y,b=c", "[a]=[x,y]; [b]=[c]")]
    [InlineData(",,a=b,,", "[a]=[b]")]
    [InlineData("a=é ✓", "[a]=[é ✓]")]
    public void Accepted_as_kube_accepts_them(string text, string terms) =>
        Assert.Equal(terms, Describe(FieldSelectorSyntax.Parse(text)));

    [Theory]
    [InlineData("a", "invalid selector: 'a'; can't understand 'a'")]
    [InlineData("b=1,a", "invalid selector: 'b=1,a'; can't understand 'a'")]
    [InlineData("z,y", "invalid selector: 'z,y'; can't understand 'y'")]
    [InlineData("metadata.name!", "invalid selector: 'metadata.name!'; can't understand 'metadata.name!'")]
    [InlineData("a===b", "invalid field selector: unescaped character in value: 61")]
    [InlineData("a=b=c", "invalid field selector: unescaped character in value: 61")]
    [InlineData("a=b!=c", "invalid field selector: unescaped character in value: 61")]
    [InlineData(@"a=b\x", @"invalid field selector: invalid escape sequence: \x")]
    [InlineData(@"a=b\", @"invalid field selector: invalid escape sequence: \")]
    [InlineData("a!==b", "invalid field selector: unescaped character in value: 61")]
    public void Refused_with_kubes_message(string text, string message) =>
        Assert.Equal(message, Assert.Throws<FormatException>(() => FieldSelectorSyntax.Parse(text)).Message);

    [Fact]
    public void The_first_equality_term_is_the_required_value()
    {
        // Sorted, "metadata.name==c" comes before "metadata.name=a\,b" ('=' < 'a').
        var terms = FieldSelectorSyntax.Parse(@"metadata.name!=x,metadata.name=a\,b,metadata.name==c");
        Assert.Equal("c", FieldSelectorSyntax.RequiredValue(terms, "metadata.name"));
        Assert.Equal("a,b", FieldSelectorSyntax.RequiredValue(FieldSelectorSyntax.Parse(@"metadata.name=a\,b"), "metadata.name"));
        Assert.Null(FieldSelectorSyntax.RequiredValue(FieldSelectorSyntax.Parse("metadata.name!=x"), "metadata.name"));
    }

    [Fact]
    public void Ten_thousand_terms_parse() =>
        Assert.Equal(10_000, FieldSelectorSyntax.Parse(string.Join(",", Enumerable.Range(0, 10_000).Select(i => $"f{i}=v"))).Count);
}
