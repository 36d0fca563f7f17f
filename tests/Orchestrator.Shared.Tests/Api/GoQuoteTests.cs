using Orchestrator.Shared.Api;
using Xunit;

namespace Orchestrator.Shared.Tests.Api;

/// <summary>Go's strconv.Quote, as <c>fmt.Printf("%q")</c> prints these strings.</summary>
public sealed class GoQuoteTests
{
    [Theory]
    [InlineData("abc", "\"abc\"")]
    [InlineData("", "\"\"")]
    [InlineData("a\"b\\c", "\"a\\\"b\\\\c\"")]
    [InlineData("é ✓ 日本", "\"é ✓ 日本\"")]
    [InlineData("\a\b\f\n\r\t\v", "\"\\a\\b\\f\\n\\r\\t\\v\"")]
    [InlineData("\u0001\u001f\u007f", "\"\\x01\\x1f\\x7f\"")]
    [InlineData("\u00a0\u200b\u2028", "\"\\u00a0\\u200b\\u2028\"")] // spaces and format characters other than ' ' are not printable
    [InlineData("\U0001F600", "\"😀\"")]
    [InlineData("\U000E0001", "\"\\U000e0001\"")]
    public void Quote_as_strconv(string value, string quoted) => Assert.Equal(quoted, GoQuote.Quote(value));
}
