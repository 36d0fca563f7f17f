using Orchestrator.Cli.Commands;
using Xunit;

namespace Orchestrator.Cli.Tests.Commands;

public sealed class StepProgressTests
{
    [Fact]
    public async Task Each_scripted_step_is_announced_ticked_and_summarised()
    {
        var output = new StringWriter();
        var progress = new StepProgress(output);
        await progress.OnLine("• Docker engine");
        await progress.OnLine("• building Orchestrator");
        await progress.OnLine("some build output");
        await progress.Finish(succeeded: true);
        var text = output.ToString();
        Assert.Contains("[1] Docker engine …", text);
        Assert.Contains("✓ Docker engine (", text);
        Assert.Contains("[2] building Orchestrator …", text);
        Assert.Contains("    some build output", text);
        Assert.Contains("Summary (done in", text);
        Assert.Equal(["Docker engine", "building Orchestrator"], progress.Steps.Select(s => s.Name));
    }
}

public sealed class ApplyTests
{
    [Fact]
    public void A_live_object_with_server_defaults_covers_its_unchanged_file()
    {
        var file = System.Text.Json.Nodes.JsonNode.Parse("""{"metadata":{"name":"w","labels":{"app":"w"}},"spec":{"replicas":1,"ports":[{"port":80}]}}""");
        var live = System.Text.Json.Nodes.JsonNode.Parse("""{"metadata":{"name":"w","uid":"u","labels":{"app":"w"}},"spec":{"replicas":1,"revisionHistoryLimit":10,"ports":[{"port":80,"protocol":"TCP"}]},"status":{}}""");
        Assert.True(ManifestCommands.Covers(live, file));
    }

    [Fact]
    public void A_changed_field_is_not_covered()
    {
        var file = System.Text.Json.Nodes.JsonNode.Parse("""{"spec":{"replicas":1}}""");
        var live = System.Text.Json.Nodes.JsonNode.Parse("""{"spec":{"replicas":3}}""");
        Assert.False(ManifestCommands.Covers(live, file));
    }
}
