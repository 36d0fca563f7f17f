using Orchestrator.Cli;
using Xunit;

namespace Orchestrator.Cli.Tests;

public sealed class CliAppTests
{
    [Fact]
    public async Task Unknown_commands_get_one_line_and_exit_code_2()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await CliApp.RunAsync(["frobnicate"], stdout, stderr);
        Assert.Equal(2, code);
        Assert.Single(stderr.ToString().Trim().Split('\n'));
        Assert.Contains("frobnicate", stderr.ToString());
    }

    [Fact]
    public async Task Down_accepts_only_purge()
    {
        var stderr = new StringWriter();
        Assert.Equal(2, await CliApp.RunAsync(["down", "--force"], new StringWriter(), stderr));
    }

    [Fact]
    public void Layout_follows_the_deploy_scripts_variables()
    {
        var env = new Dictionary<string, string> { ["ORCH_ROOT"] = "/repo", ["ORCH_API_PORT"] = "16443" };
        var layout = ClusterLayout.FromEnvironment(k => env.GetValueOrDefault(k));
        Assert.Equal("/repo/.state", layout.StateDir);
        Assert.Equal("https://127.0.0.1:16443", layout.ApiUrl);
    }

    [Fact]
    public async Task Status_reports_a_stopped_cluster_as_not_running()
    {
        var state = Directory.CreateTempSubdirectory().FullName;
        var env = new Dictionary<string, string> { ["ORCH_ROOT"] = "/repo", ["ORCH_STATE_DIR"] = state };
        var stdout = new StringWriter();
        var code = await StatusCommand.RunAsync(ClusterLayout.FromEnvironment(k => env.GetValueOrDefault(k)), stdout);
        Assert.Equal(1, code);
        Assert.Contains("master: not running", stdout.ToString());
    }
}
