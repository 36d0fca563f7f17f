using k8s.Models;
using Orchestrator.Shared.Api;
using Xunit;

namespace Orchestrator.Shared.Tests.Api;

/// <summary>Int-or-string fields are read as Go's intstr.IntOrString reads them (a string, or a number that fits an
/// int32) and refused with Go's message otherwise; an int32 is written as a number, anything else as a string.</summary>
public sealed class IntOrStringsTests
{
    private static V1ServicePort Read(string targetPort) =>
        (V1ServicePort)KubeObjects.Deserialize("{\"port\":80,\"targetPort\":" + targetPort + "}", typeof(V1ServicePort));

    [Theory]
    [InlineData("8080", "8080")]
    [InlineData("-1", "-1")]
    [InlineData("2147483647", "2147483647")]
    [InlineData("\"http\"", "http")]
    [InlineData("\"3000000000\"", "3000000000")] // a string stays a string, whatever its text
    public void Strings_and_int32_numbers_are_read(string json, string value) => Assert.Equal(value, Read(json).TargetPort.Value);

    [Fact]
    public void Null_leaves_the_field_unset() => Assert.Null(Read("null").TargetPort);

    [Theory]
    [InlineData("3000000000", "number 3000000000")]
    [InlineData("-2147483649", "number -2147483649")]
    [InlineData("1.5", "number 1.5")]
    [InlineData("1e3", "number 1e3")]
    [InlineData("true", "bool")]
    [InlineData("{}", "object")]
    [InlineData("[80]", "array")]
    public void Anything_else_gets_gos_message(string json, string what) =>
        Assert.Equal($"json: cannot unmarshal {what} into Go value of type int32", Assert.Throws<FormatException>(() => Read(json)).Message);

    [Theory]
    [InlineData("8080", "8080")]
    [InlineData("-1", "-1")]
    [InlineData("http", "\"http\"")]
    [InlineData("080", "\"080\"")]
    [InlineData("80 ", "\"80 \"")]
    [InlineData("3000000000", "\"3000000000\"")]
    public void Int32_text_is_written_as_a_number_anything_else_as_a_string(string value, string json) =>
        Assert.Equal($$"""{"port":80,"targetPort":{{json}}}""", KubeObjects.Serialize(new V1ServicePort { Port = 80, TargetPort = value }));
}
