using Orchestrator.Master.Api.Http;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Http;

public sealed class GoValuesTests
{
    [Theory]
    [InlineData("0", 0L)]
    [InlineData("42", 42L)]
    [InlineData("+7", 7L)]
    [InlineData("-1", -1L)]
    [InlineData("9223372036854775807", long.MaxValue)]
    public void Integers_that_strconv_ParseInt_reads(string text, long expected) => Assert.Equal(expected, GoValues.ParseInt64(text));

    [Theory]
    [InlineData("abc", "strconv.ParseInt: parsing \"abc\": invalid syntax")]
    [InlineData("", "strconv.ParseInt: parsing \"\": invalid syntax")]
    [InlineData(" 1", "strconv.ParseInt: parsing \" 1\": invalid syntax")]
    [InlineData("1.5", "strconv.ParseInt: parsing \"1.5\": invalid syntax")]
    [InlineData("-", "strconv.ParseInt: parsing \"-\": invalid syntax")]
    [InlineData("0x10", "strconv.ParseInt: parsing \"0x10\": invalid syntax")]
    [InlineData("9223372036854775808", "strconv.ParseInt: parsing \"9223372036854775808\": value out of range")]
    [InlineData("é", "strconv.ParseInt: parsing \"é\": invalid syntax")] // strconv.Quote keeps printable Unicode
    [InlineData("\u00a0\u0001", "strconv.ParseInt: parsing \"\\u00a0\\x01\": invalid syntax")]
    public void Integers_refused_in_Go_words(string text, string message) =>
        Assert.Equal(message, Assert.Throws<FormatException>(() => GoValues.ParseInt64(text)).Message);

    [Theory]
    [InlineData("2024-01-02T03:04:05Z", "2024-01-02T03:04:05.0000000+00:00")]
    [InlineData("2024-01-02T03:04:05+02:00", "2024-01-02T01:04:05.0000000+00:00")]
    [InlineData("2024-01-02T03:04:05.25-01:30", "2024-01-02T04:34:05.2500000+00:00")]
    [InlineData("2024-02-29T3:04:05Z", "2024-02-29T03:04:05.0000000+00:00")]
    public void Times_that_time_Parse_RFC3339_reads(string text, string expected) =>
        Assert.Equal(expected, GoValues.ParseRfc3339(text).ToString("o"));

    [Theory]
    [InlineData("yesterday", "parsing time \"yesterday\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"yesterday\" as \"2006\"")]
    [InlineData("2024-01-02", "parsing time \"2024-01-02\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"\" as \"T\"")]
    [InlineData("2024-1-02T00:00:00Z", "parsing time \"2024-1-02T00:00:00Z\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"1-02T00:00:00Z\" as \"01\"")]
    [InlineData("2024-01-02T00:00:00", "parsing time \"2024-01-02T00:00:00\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"\" as \"Z07:00\"")]
    [InlineData("2024-01-02 00:00:00Z", "parsing time \"2024-01-02 00:00:00Z\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \" 00:00:00Z\" as \"T\"")]
    [InlineData("2024-13-02T00:00:00Z", "parsing time \"2024-13-02T00:00:00Z\": month out of range")]
    [InlineData("2023-02-29T00:00:00Z", "parsing time \"2023-02-29T00:00:00Z\": day out of range")]
    [InlineData("2024-01-02T24:00:00Z", "parsing time \"2024-01-02T24:00:00Z\": hour out of range")]
    [InlineData("2024-01-02T00:00:00Zjunk", "parsing time \"2024-01-02T00:00:00Zjunk\": extra text: \"junk\"")]
    public void Times_refused_in_Go_words(string text, string message) =>
        Assert.Equal(message, Assert.Throws<FormatException>(() => GoValues.ParseRfc3339(text)).Message);
}
