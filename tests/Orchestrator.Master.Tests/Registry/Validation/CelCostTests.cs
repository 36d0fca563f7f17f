using Orchestrator.Master.Registry.Validation;
using Xunit;

namespace Orchestrator.Master.Tests.Registry.Validation;

/// <summary>The runtime cost limit: an expression past kube's PerCallLimit is cut off with cel-go's error, and a request's
/// expressions share kube's RuntimeCELCostBudget.</summary>
public sealed class CelCostTests
{
    private static Dictionary<string, object?> Numbers(int count) =>
        new() { ["items"] = Enumerable.Range(0, count).Select(i => (object?)(long)i).ToList() };

    [Fact]
    public void Nested_comprehensions_of_a_million_iterations_are_cut_off()
    {
        // cut off after about 10^6 / 6 inner iterations (run to their end, all 10^6 would hold: true)
        var (value, error) = CelRules.Run("items.all(x, items.all(y, x + y >= 0))", Numbers(1000));
        Assert.Null(value);
        Assert.Equal("operation cancelled: actual cost limit exceeded", error);
    }

    [Fact]
    public void The_limit_is_not_swallowed_by_exists_or_the_logical_operators()
    {
        Assert.Equal(CelCost.LimitExceeded, CelRules.Run("items.exists(x, items.exists(y, x + y < 0))", Numbers(1000)).Error);
        Assert.Equal(CelCost.LimitExceeded, CelRules.Run("items.all(x, items.all(y, y >= 0)) || true", Numbers(1000)).Error);
        Assert.Equal(CelCost.LimitExceeded, CelRules.Run("items.exists_one(x, items.all(y, y >= 0))", Numbers(1000)).Error);
        Assert.Equal(CelCost.LimitExceeded, CelRules.Run("items.map(x, items.filter(y, y > x)).size() > 0", Numbers(1000)).Error);
    }

    [Fact]
    public void An_expression_under_the_limit_runs_to_its_end()
    {
        Assert.Equal(true, CelRules.Run("items.all(x, items.all(y, x + y >= 0))", Numbers(100)).Value);
        Assert.Equal(true, CelRules.Run("items.map(x, x * 2).filter(x, x > 10).exists(x, x == 12)", Numbers(100)).Value);
    }

    [Fact]
    public void Library_functions_charge_their_input()
    {
        var big = new Dictionary<string, object?> { ["a"] = Enumerable.Range(0, 2000).Select(i => (object?)(long)i).ToList() };
        Assert.Equal(CelCost.LimitExceeded, CelRules.Run("sets.intersects(a, a.map(x, -x - 1))", big).Error);
    }

    [Fact]
    public void A_budget_is_shared_and_reports_when_spent()
    {
        var budget = new CelBudget();
        // each run: 450 × 450 inner iterations of cost 4 (about 8·10^5, under the per-call limit)
        for (var i = 0; i < 9; i++) Assert.Null(CelRules.Run("items.all(x, items.all(y, y >= 0))", Numbers(450), budget).Error);
        Assert.False(budget.Exhausted);
        for (var i = 0; i < 10 && !budget.Exhausted; i++) CelRules.Run("items.all(x, items.all(y, y >= 0))", Numbers(450), budget);
        Assert.True(budget.Exhausted);
    }

    [Fact]
    public void Comprehension_bodies_are_counted_in_the_text_as_written()
    {
        var tree = new Cel.CelEnvironment([], "").Parse("a.all(x, b.exists(y, y == x)) && c.map(z, z + 1) == []");
        Assert.Equal("a.all(x, (__celcost7 ? (b.exists(y, (__celcost4 ? (y == x) : null))) : null)) && c.map(z, (__celcost4 ? (z + 1) : null)) == []",
            CelCost.Instrument("a.all(x, b.exists(y, y == x)) && c.map(z, z + 1) == []", tree));
    }
}
