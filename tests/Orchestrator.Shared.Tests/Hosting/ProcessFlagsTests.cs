using Orchestrator.Shared.Hosting;
using Xunit;

namespace Orchestrator.Shared.Tests.Hosting;

public sealed class ProcessFlagsTests
{
    private static readonly ProcessFlags Flags = new("demo", "DEMO_", "A demo process.",
    [
        new("api-port", "The port.", "6443", FlagKind.Port),
        new("data-dir", "Where data lives.", "./data"),
        new("grace", "Seconds.", "40", FlagKind.Seconds),
        new("token-file", "No default.", null, DefaultText: "none"),
    ]);

    private static (ResolvedFlags Flags, string Out, string Err) Resolve(string[] args, Dictionary<string, string>? env = null)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var resolved = Flags.Resolve(args, env ?? new Dictionary<string, string>(), stdout, stderr);
        return (resolved, stdout.ToString(), stderr.ToString());
    }

    private static string ConfigFile(string text)
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("flags-").FullName, "config.yaml");
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void Without_flags_every_flag_with_a_default_has_it_and_the_others_are_absent()
    {
        var (flags, _, err) = Resolve([]);
        Assert.Null(flags.Exit);
        Assert.Equal("", err);
        Assert.Equal("6443", flags["api-port"]);
        Assert.Equal("./data", flags["data-dir"]);
        Assert.Null(flags["token-file"]);
        Assert.Null(flags["config"]);
    }

    [Fact]
    public void The_command_line_wins_over_the_environment_which_wins_over_the_file_which_wins_over_the_default()
    {
        var file = ConfigFile("api-port: 1001\ndata-dir: /from/file\ngrace: 7\n");
        var env = new Dictionary<string, string> { ["DEMO_API_PORT"] = "1002", ["DEMO_DATA_DIR"] = "/from/env" };
        var (flags, _, _) = Resolve(["--config", file, "--api-port", "1003"], env);
        Assert.Null(flags.Exit);
        Assert.Equal("1003", flags["api-port"]);
        Assert.Equal("/from/env", flags["data-dir"]);
        Assert.Equal("7", flags["grace"]);
        Assert.Null(flags["token-file"]);
    }

    [Fact]
    public void The_config_file_can_be_named_by_the_environment_and_may_be_json()
    {
        var file = ConfigFile("""{"api-port": 7443, "token-file": "/etc/token"}""");
        var (flags, _, _) = Resolve([], new Dictionary<string, string> { ["DEMO_CONFIG"] = file });
        Assert.Equal("7443", flags["api-port"]);
        Assert.Equal("/etc/token", flags["token-file"]);
    }

    [Fact]
    public void A_flag_given_twice_takes_the_last_value()
    {
        var (flags, _, _) = Resolve(["--api-port", "1", "--api-port=2"]);
        Assert.Equal("2", flags["api-port"]);
    }

    [Fact]
    public void Help_lists_every_flag_with_its_default_and_the_environment_naming()
    {
        var (flags, help, err) = Resolve(["--help"]);
        Assert.Equal(0, flags.Exit);
        Assert.Equal("", err);
        Assert.Contains("--api-port <port>", help);
        Assert.Contains("[default: 6443]", help);
        Assert.Contains("[default: ./data]", help);
        Assert.Contains("[default: none]", help);
        Assert.Contains("--config", help);
        Assert.Contains("DEMO_<FLAG>", help);
    }

    [Theory]
    [InlineData(new[] { "--colour", "red" }, null, "demo: unknown flag '--colour' (the flags are listed by --help)")]
    [InlineData(new[] { "--api-port" }, null, "demo: flag '--api-port' needs a value")]
    [InlineData(new[] { "--api-port", "70000" }, null, "demo: --api-port must be a port number (0 to 65535), got '70000' from the command line")]
    [InlineData(new string[0], "DEMO_GRACE=-1", "demo: --grace must be a positive number of seconds, got '-1' from DEMO_GRACE")]
    [InlineData(new string[0], "DEMO_APIPORT=1", "demo: unknown environment variable DEMO_APIPORT (the flags are listed by --help)")]
    public void Mistakes_are_one_line_and_exit_code_2(string[] args, string? variable, string error)
    {
        var env = variable is null ? null : new Dictionary<string, string> { [variable.Split('=')[0]] = variable.Split('=')[1] };
        var (flags, _, err) = Resolve(args, env);
        Assert.Equal(2, flags.Exit);
        Assert.Equal(error, err.TrimEnd('\n'));
    }

    [Theory]
    [InlineData("colour: red\n", "unknown setting 'colour' in")]
    [InlineData("api-port: [1, 2]\n", "'api-port' in the config file")]
    [InlineData("- api-port\n", "must be one mapping of flag names to values")]
    [InlineData("api-port: 'x\n", "is not YAML or JSON")]
    [InlineData("api-port: nope\n", "--api-port must be a port number (0 to 65535), got 'nope' from")]
    public void A_wrong_config_file_is_one_line_and_exit_code_2(string text, string error)
    {
        var (flags, _, err) = Resolve(["--config", ConfigFile(text)]);
        Assert.Equal(2, flags.Exit);
        Assert.Single(err.TrimEnd('\n').Split('\n'));
        Assert.Contains(error, err);
    }

    [Fact]
    public void A_missing_config_file_is_named()
    {
        var (flags, _, err) = Resolve(["--config", "/nonexistent/orchestrator.yaml"]);
        Assert.Equal(2, flags.Exit);
        Assert.StartsWith("demo: cannot read the config file /nonexistent/orchestrator.yaml", err);
    }

    [Fact]
    public void An_empty_config_file_and_empty_variables_change_nothing()
    {
        var (flags, _, _) = Resolve(["--config", ConfigFile("# nothing yet\n")], new Dictionary<string, string> { ["DEMO_API_PORT"] = "" });
        Assert.Null(flags.Exit);
        Assert.Equal("6443", flags["api-port"]);
    }

    [Fact]
    public void The_values_become_a_command_line_without_the_excluded_flags()
    {
        var (flags, _, _) = Resolve(["--config", ConfigFile("grace: 3\n")]);
        var args = flags.ToArgs(except: "config");
        Assert.Equal(["--api-port", "6443", "--data-dir", "./data", "--grace", "3"], args);
    }
}
