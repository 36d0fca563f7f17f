using k8s;
using k8s.Models;
using Orchestrator.Shared.Api;
using Xunit;

namespace Orchestrator.Shared.Tests.Api;

/// <summary>Quantities and byte fields are read as Kubernetes reads them; what the model cannot hold is refused, and a
/// negative quantity is written as Go writes it (never through the model's own text, which hangs on "-1e3").</summary>
public sealed class QuantitiesAndBytesTests
{
    private static V1ResourceRequirements Read(string requests) =>
        (V1ResourceRequirements)KubeObjects.Deserialize("{\"requests\":" + requests + "}", typeof(V1ResourceRequirements));

    [Fact]
    public void Strings_and_bare_numbers_are_quantities_and_text_that_is_none_gets_gos_message()
    {
        var r = Read("""{"cpu":"250m","memory":1024,"x":" 2 "}""");
        Assert.Equal(("250m", "1024", "2"), (r.Requests["cpu"].ToString(), r.Requests["memory"].ToString(), r.Requests["x"].ToString()));
        var e = Assert.Throws<FormatException>(() => Read("""{"cpu":"abc"}"""));
        Assert.Equal(Quantities.FormatWrong, e.Message);
    }

    [Fact]
    public void A_quantity_beyond_what_the_model_holds_is_refused_rather_than_failing_later()
    {
        foreach (var text in new[] { "1e30", "9999999999999999999999999999999", "-1e30" })
        {
            var e = Assert.Throws<FormatException>(() => Read($$"""{"cpu":"{{text}}"}"""));
            Assert.Equal($"quantity \"{text}\" is out of the range this server supports (±7.9e28)", e.Message);
        }
    }

    [Fact]
    public async Task A_huge_exponent_or_overlong_text_is_refused_before_the_model_parses_it()
    {
        // the model's parse of "1e999999999" never returns: a thread lost per request
        var read = Task.Run(() =>
        {
            foreach (var text in new[] { "1e999999999", "-1E-999999999", "1e+65", "1e-0000000000000000070" })
                Assert.Equal($"quantity \"{text}\" is out of the range this server supports (±7.9e28)",
                    Assert.Throws<FormatException>(() => Read($$"""{"cpu":"{{text}}"}""")).Message);
            var digits = new string('1', 100);
            Assert.Equal($"quantity \"{digits[..64]}…\" is out of the range this server supports (±7.9e28)",
                Assert.Throws<FormatException>(() => Read($$"""{"cpu":"{{digits}}"}""")).Message);
        });
        await read.WaitAsync(TimeSpan.FromSeconds(30)); // a TimeoutException: reading a quantity with a huge exponent did not return
        Assert.Equal(("1E", "1e3", "1", "1e-3"), (Quantities.Parse("1E").ToString(), Quantities.Parse("1e3").ToString(),
            Quantities.Parse("1e+00").ToString(), Quantities.Parse("1e-3").ToString()));
    }

    [Fact]
    public async Task Negative_quantities_are_written_as_go_writes_them_and_in_time()
    {
        var write = Task.Run(() => KubeObjects.Serialize(Read("""{"a":"-1e3","b":"-1","c":"-500m","d":"-1Gi"}""")));
        // a TimeoutException: serializing a negative quantity did not return
        Assert.Equal("""{"requests":{"a":"-1k","b":"-1","c":"-500m","d":"-1Gi"}}""", await write.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal("-1k", Quantities.Text(Read("""{"a":"-1e3"}""").Requests["a"]));
    }

    [Theory]
    [InlineData("!!!", 0)]
    [InlineData("YQ", 0)] // Go's standard encoding wants the padding
    [InlineData("YWJj!", 4)]
    [InlineData("YW Jj", 2)] // .NET's decoder would skip the space
    [InlineData("YWJjZA=", 7)]
    [InlineData("YWJjZA==x", 8)]
    [InlineData("Y===", 1)]
    public void Bytes_that_are_not_base64_to_go_are_refused_at_gos_offset(string text, int offset)
    {
        Assert.Equal(offset, GoBase64.CorruptAt(text));
        var e = Assert.Throws<FormatException>(() => (V1Secret)KubeObjects.Deserialize("{\"data\":{\"a\":\"" + text + "\"}}", typeof(V1Secret)));
        Assert.Equal($"illegal base64 data at input byte {offset}", e.Message);
    }

    [Fact]
    public void Bytes_go_decodes_are_read_newlines_included_and_written_back_as_base64()
    {
        var secret = (V1Secret)KubeObjects.Deserialize("""{"data":{"a":"YWJj\nZGVm","b":"YQ==","c":""}}""", typeof(V1Secret));
        Assert.Equal("abcdef"u8.ToArray(), secret.Data["a"]);
        Assert.Equal("a"u8.ToArray(), secret.Data["b"]);
        Assert.Empty(secret.Data["c"]);
        Assert.Equal("""{"data":{"a":"YWJjZGVm","b":"YQ==","c":""}}""", KubeObjects.Serialize(secret));
    }
}
