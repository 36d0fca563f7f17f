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
