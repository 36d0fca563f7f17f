using k8s.Models;
using Orchestrator.Shared.Api;
using Xunit;

namespace Orchestrator.Shared.Tests.Api;

public sealed class LabelSelectorTests
{
    private static readonly Dictionary<string, string> Web = new() { ["app"] = "web", ["tier"] = "frontend" };

    [Theory]
    [InlineData("app=web", true)]
    [InlineData("app==web", true)]
    [InlineData("app!=web", false)]
    [InlineData("app=web,tier=backend", false)]
    [InlineData("tier in (frontend, backend)", true)]
    [InlineData("tier notin (frontend)", false)]
    [InlineData("app", true)]
    [InlineData("!app", false)]
    [InlineData("!missing", true)]
    [InlineData("missing!=x", true)]
    [InlineData("app in (web),tier", true)]
    [InlineData("", true)]
    public void Query_string_selectors_match_like_Kubernetes(string selector, bool expected) =>
        Assert.Equal(expected, LabelSelector.Parse(selector).Matches(Web));

    [Theory]
    [InlineData("app=web,")]
    [InlineData("a b=c")]
    [InlineData("=web")]
    [InlineData("-app=web")]
    [InlineData("app=web-")]
    [InlineData("Example.com/app=web")]
    [InlineData("example.com/=web")]
    public void Malformed_selectors_are_refused(string selector) =>
        Assert.Throws<FormatException>(() => LabelSelector.Parse(selector));

    [Fact]
    public void Keys_and_values_past_the_label_limits_are_refused_as_Kubernetes_refuses_them()
    {
        Assert.Throws<FormatException>(() => LabelSelector.Parse(new string('a', 64) + "=x"));
        Assert.Throws<FormatException>(() => LabelSelector.Parse("a=" + new string('x', 64)));
        Assert.Throws<FormatException>(() => LabelSelector.Parse(new string('p', 254) + "/a=x"));
        Assert.True(LabelSelector.Parse("example.com/app_1.x=web-1,app==").Matches(new Dictionary<string, string>
            { ["example.com/app_1.x"] = "web-1", ["app"] = "" }));
    }

    [Fact]
    public void A_null_label_selector_matches_nothing_and_an_empty_one_everything()
    {
        Assert.False(LabelSelector.FromLabelSelector(null).Matches(Web));
        Assert.True(LabelSelector.FromLabelSelector(new V1LabelSelector()).Matches(Web));
    }

    [Fact]
    public void Match_expressions_combine_with_match_labels()
    {
        var selector = LabelSelector.FromLabelSelector(new V1LabelSelector
        {
            MatchLabels = new Dictionary<string, string> { ["app"] = "web" },
            MatchExpressions = [new V1LabelSelectorRequirement { Key = "tier", OperatorProperty = "In", Values = ["frontend"] }],
        });
        Assert.True(selector.Matches(Web));
        Assert.False(selector.Matches(new Dictionary<string, string> { ["app"] = "web", ["tier"] = "db" }));
    }

    [Fact]
    public void An_empty_map_selector_selects_nothing() =>
        Assert.False(LabelSelector.FromMap(new Dictionary<string, string>()).Matches(Web));

    [Fact]
    public void Selectors_print_in_the_query_string_form() =>
        Assert.Equal("app=web,tier in (a,b),!x", LabelSelector.Parse("app=web, tier in (a,b), !x").ToString());
}
