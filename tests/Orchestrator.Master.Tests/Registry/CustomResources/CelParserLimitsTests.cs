using Orchestrator.Master.Registry.Validation;
using Xunit;

namespace Orchestrator.Master.Tests.Registry.CustomResources;

/// <summary>cel-go's parser limits, checked before the package's parser (which overflowed the stack and ended the
/// process on a rule of 20,000 nested parentheses).</summary>
public sealed class CelParserLimitsTests
{
    private static string Nested(int depth) => new string('(', depth) + "1 == 1" + new string(')', depth);

    [Fact]
    public void Nesting_past_250_is_refused_without_parsing_and_250_compiles()
    {
        Assert.Null(CelRules.CompileError(Nested(250)));
        Assert.Equal("ERROR: <input>:-1:0: max recursion depth exceeded", CelRules.CompileError(Nested(251)));
        Assert.Equal("ERROR: <input>:-1:0: max recursion depth exceeded", CelRules.CompileError(Nested(40_000)));
        Assert.Equal("ERROR: <input>:-1:0: max recursion depth exceeded", CelRules.CompileError(new string('[', 300) + new string(']', 300)));
        var (holds, error) = CelRules.Evaluate(Nested(20_000), null, null);
        Assert.False(holds);
        Assert.Equal("ERROR: <input>:-1:0: max recursion depth exceeded", error);
    }

    [Fact]
    public void Brackets_inside_string_literals_do_not_count()
    {
        var brackets = new string('(', 300);
        Assert.Null(CelRules.CompileError($"'{brackets}'.size() > 0"));
        Assert.Null(CelRules.CompileError($"\"{brackets}\\\"\" != ''"));
        Assert.Null(CelRules.CompileError($"'''{brackets}''' != r'{brackets}\\'"));
    }

    [Fact]
    public void An_expression_past_100000_code_points_is_refused()
    {
        var error = CelRules.CompileError("'" + new string('a', 100_000) + "' != ''");
        Assert.Equal("ERROR: <input>:-1:0: expression code point size exceeds limit: size: 100008, limit 100000", error);
    }
}
