using Orchestrator.Cli;
using Orchestrator.Cli.Commands;
using Xunit;

namespace Orchestrator.Cli.Tests;

public sealed class CliAppTests
{
    private static async Task<(int Code, string Out, string Err)> Run(string[] args, Dictionary<string, string>? env = null)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await CliApp.RunAsync(args, stdout, stderr, TextReader.Null, k => env?.GetValueOrDefault(k));
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public async Task Unknown_commands_get_one_line_and_exit_code_2()
    {
        var (code, _, err) = await Run(["frobnicate"]);
        Assert.Equal(2, code);
        Assert.Single(err.Trim().Split('\n'));
        Assert.Contains("frobnicate", err);
    }

    [Fact]
    public async Task Down_accepts_only_purge()
    {
        var (code, _, err) = await Run(["down", "--force"]);
        Assert.NotEqual(0, code);
        Assert.Contains("unknown flag: --force", err);
    }

    [Theory]
    [InlineData(new[] { "lab" }, "name a lab command: up, down, status")]
    [InlineData(new[] { "lab", "explode" }, "unknown lab command \"explode\"")]
    [InlineData(new[] { "lab", "kill-node" }, "lab kill-node needs a node name")]
    [InlineData(new[] { "lab", "pause-node", "a", "b" }, "lab pause-node needs a node name")]
    [InlineData(new[] { "lab", "restart-master", "master-1", "master-2" }, "lab restart-master needs at most one master name")]
    [InlineData(new[] { "lab", "kill-master" }, "lab kill-master needs a master name")]
    [InlineData(new[] { "lab", "down", "--nodes=3" }, "--nodes goes with lab up")]
    [InlineData(new[] { "lab", "up", "--purge" }, "--purge goes with lab down")]
    public async Task Lab_commands_are_checked_before_any_script_runs(string[] args, string message)
    {
        // ORCH_ROOT points nowhere: had the check passed, the script could not even be found
        var (code, _, err) = await Run(args, new Dictionary<string, string> { ["ORCH_ROOT"] = "/nonexistent" });
        Assert.Equal(1, code);
        Assert.Single(err.Trim().Split('\n'));
        Assert.Contains(message, err);
    }

    [Fact]
    public async Task Run_without_image_is_one_line_and_non_zero()
    {
        var (code, _, err) = await Run(["run", "http", "--replicas=1"]);
        Assert.Equal(1, code);
        Assert.Single(err.Trim().Split('\n'));
        Assert.Contains("--image is required", err);
    }

    [Fact]
    public async Task An_unknown_flag_is_one_line_and_non_zero()
    {
        var (code, _, err) = await Run(["get", "pods", "--colour=red"]);
        Assert.Equal(1, code);
        Assert.Equal("error: unknown flag: --colour (see 'orchctl get --help')", err.Trim());
    }

    [Fact]
    public async Task A_cluster_that_is_not_running_is_named_with_what_to_do()
    {
        var dir = Directory.CreateTempSubdirectory().FullName;
        var kubeconfig = Path.Combine(dir, "config");
        // A port nothing listens on: 127.0.0.1:1.
        File.WriteAllText(kubeconfig, """
            apiVersion: v1
            kind: Config
            clusters:
            - name: orchestrator
              cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}
            users:
            - name: orchestrator
              user: {token: abc}
            contexts:
            - name: orchestrator
              context: {cluster: orchestrator, user: orchestrator, namespace: default}
            current-context: orchestrator
            """);
        var (code, _, err) = await Run(["get", "pods"], new() { ["KUBECONFIG"] = kubeconfig });
        Assert.Equal(1, code);
        Assert.Single(err.Trim().Split('\n'));
        Assert.StartsWith("error: cannot reach the cluster at https://127.0.0.1:1: is it running? start it with deploy/up.sh", err);
    }

    [Fact]
    public async Task Help_lists_every_command_and_each_commands_help_its_flags()
    {
        var (code, overview, _) = await Run(["--help"]);
        Assert.Equal(0, code);
        foreach (var command in new[] { "run", "expose", "scale", "create", "apply", "get", "describe", "delete", "logs", "up", "down", "status", "dashboard", "completion" })
            Assert.Contains($"  {command} ", overview);
        var (runCode, run, _) = await Run(["run", "--help"]);
        Assert.Equal(0, runCode);
        Assert.Contains("--hostport=0:", run);
        Assert.Contains("Usage:\n  orchctl run NAME --image=image", run);
    }

    [Fact]
    public async Task Completion_bash_is_a_completion_script_for_the_commands_and_flags()
    {
        var (code, script, _) = await Run(["completion", "bash"]);
        Assert.Equal(0, code);
        Assert.Contains("complete -o default -F _orchctl orchctl", script);
        Assert.Contains("--hostport=", script);
        Assert.Contains("deployments", script);
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

    [Theory]
    [InlineData(true, "node:   running (pid {0}, the master's process)")]
    [InlineData(false, "node:   running (pid {0})\n")]
    public async Task Status_says_when_the_master_and_the_node_are_one_process(bool oneProcess, string expected)
    {
        var state = Directory.CreateTempSubdirectory().FullName;
        // a live pid for each: this test's process, and for two processes its parent
        var self = Environment.ProcessId;
        var other = oneProcess ? self : int.Parse(File.ReadAllText("/proc/self/stat").Split(") ")[1].Split(' ')[1]);
        File.WriteAllText(Path.Combine(state, "master.pid"), $"{self}\n");
        File.WriteAllText(Path.Combine(state, "node.pid"), $"{other}\n");
        var env = new Dictionary<string, string> { ["ORCH_ROOT"] = "/repo", ["ORCH_STATE_DIR"] = state };
        var stdout = new StringWriter { NewLine = "\n" };
        await StatusCommand.RunAsync(ClusterLayout.FromEnvironment(k => env.GetValueOrDefault(k)), stdout);
        Assert.Contains($"master: running (pid {self})", stdout.ToString());
        Assert.Contains(string.Format(System.Globalization.CultureInfo.InvariantCulture, expected, other), stdout.ToString());
    }
}
