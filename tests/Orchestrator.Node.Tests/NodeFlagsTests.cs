using System.Diagnostics;
using System.Net;

namespace Orchestrator.Node.Tests;

/// <summary>orchestrator-node's flags: --help, the ORCHESTRATOR_NODE_* variables, the --config file.</summary>
public sealed class NodeFlagsTests
{
    private static NodeOptions Options(string[] args, Dictionary<string, string>? env = null)
    {
        var stderr = new StringWriter();
        var flags = NodeFlags.Definition.Resolve(args, env ?? new Dictionary<string, string>(), TextWriter.Null, stderr);
        Assert.True(flags.Exit is null, stderr.ToString());
        return NodeOptions.Parse(flags.ToArgs(except: "config"));
    }

    [Fact]
    public void The_defaults_help_shows_are_the_ones_the_node_uses_without_flags() =>
        Assert.Equal(NodeOptions.Parse([]), Options([]));

    [Fact]
    public void Settings_come_from_a_yaml_file_and_the_environment_and_flags_win()
    {
        var file = Path.Combine(Directory.CreateTempSubdirectory("node-flags-").FullName, "node.yaml");
        File.WriteAllText(file, """
            # /etc/orchestrator/node.yaml
            name: worker-1
            address: 10.0.0.5
            master: 10.0.0.1:4050
            pod-cidr: 172.28.3.0/24
            cluster-cert: /etc/orchestrator/cluster.pfx
            healthz-port: 10249
            """);
        var env = new Dictionary<string, string> { ["ORCHESTRATOR_NODE_CONFIG"] = file, ["ORCHESTRATOR_NODE_ADDRESS"] = "10.0.0.6", ["ORCHESTRATOR_NODE_LOG_FORMAT"] = "json" };
        var options = Options(["--healthz-port", "10250"], env);

        Assert.Equal("worker-1", options.Name);
        Assert.Equal(IPAddress.Parse("10.0.0.6"), options.Address);
        Assert.Equal("10.0.0.1:4050", options.Master);
        Assert.Equal("172.28.3.0/24", options.PodCidr);
        Assert.Equal("/etc/orchestrator/cluster.pfx", options.ClusterCert);
        Assert.Equal(10250, options.HealthzPort);
        Assert.Equal("json", options.LogFormat);
    }

    [Fact]
    public async Task The_process_lists_every_flag_with_its_default_in_help_and_refuses_unknown_settings_in_one_line()
    {
        var (code, help, _) = await RunAsync(["--help"]);
        Assert.Equal(0, code);
        foreach (var flag in NodeFlags.Definition.Flags)
            Assert.Contains("--" + flag.Name + " ", help);
        foreach (var shown in new[] { "[default: 127.0.0.1:4050]", "[default: 10248]", "[default: 172.28.0.0/16]", "[default: the lower half of --pod-network]",
                     "[default: none, required]", "[default: text]", "ORCHESTRATOR_NODE_<FLAG>" })
            Assert.Contains(shown, help);

        var (unknown, _, error) = await RunAsync(["--pod-cdir", "172.28.1.0/24"]);
        Assert.Equal(2, unknown);
        Assert.Equal("orchestrator-node: unknown flag '--pod-cdir' (the flags are listed by --help)", error.Trim());

        var (variable, _, wrong) = await RunAsync([], ("ORCHESTRATOR_NODE_HEALTHZ_PORT", "http"));
        Assert.Equal(2, variable);
        Assert.Equal("orchestrator-node: --healthz-port must be a port number (0 to 65535), got 'http' from ORCHESTRATOR_NODE_HEALTHZ_PORT", wrong.Trim());
    }

    [Fact]
    public void The_systemd_example_config_is_one_the_node_accepts()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Orchestrator.sln"))) dir = dir.Parent;
        var options = Options(["--config", Path.Combine(dir!.FullName, "deploy", "systemd", "node.yaml")]);
        Assert.Equal("worker-1", options.Name);
        Assert.Equal("172.28.1.0/24", options.PodCidr);
    }

    private static async Task<(int Code, string Out, string Err)> RunAsync(string[] args, params (string Name, string Value)[] env)
    {
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "orchestrator-node.dll"), .. args])
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
        };
        foreach (var (name, value) in env) start.Environment[name] = value;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }
}
