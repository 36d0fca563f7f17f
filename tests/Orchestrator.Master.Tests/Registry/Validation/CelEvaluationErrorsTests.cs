using Orchestrator.Master.Registry.Validation;
using Xunit;

namespace Orchestrator.Master.Tests.Registry.Validation;

/// <summary>Evaluation errors in cel-go's words, as kube-apiserver shows them in a rule's or a policy's refusal.</summary>
public sealed class CelEvaluationErrorsTests
{
    private static readonly Dictionary<string, object?> Self = new()
    {
        ["self"] = new Dictionary<string, object?> { ["num"] = 1L, ["items"] = new List<object?> { 1L } },
    };

    [Theory]
    [InlineData("self.num / 0 == 1", "division by zero")]
    [InlineData("self.num % 0 == 1", "modulus by zero")]
    [InlineData("self.num + 9223372036854775807 > 0", "integer overflow")]
    [InlineData("-9223372036854775807 - self.num - 1 < 0", "integer overflow")]
    [InlineData("self.missing == 1", "no such key: missing")]
    [InlineData("self.missing.all(i, i > 0)", "no such key")]
    [InlineData("self.missing", "no such key: missing")]
    public void Errors_read_as_cel_gos(string expression, string expected)
    {
        var (_, error) = CelRules.Run(expression, new Dictionary<string, object?>(Self));
        Assert.Equal(expected, error);
    }
}
