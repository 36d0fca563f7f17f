using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Orchestrator.Master.Api;
using Orchestrator.Master.Controllers;
using Xunit;

namespace Orchestrator.Master.Tests;

/// <summary>orchestrator-master's flags: --help, the ORCHESTRATOR_MASTER_* variables, the --config file.</summary>
public sealed class MasterFlagsTests
{
    private static IConfiguration Configuration(IReadOnlyDictionary<string, string> values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values!).Build();

    [Fact]
    public void The_defaults_help_shows_are_the_ones_the_master_uses_without_flags()
    {
        var defaults = MasterFlags.Definition.Resolve([], new Dictionary<string, string>(), TextWriter.Null, TextWriter.Null);
        var none = Configuration(new Dictionary<string, string>());
        Assert.Equal(ApiServerOptions.From(none), ApiServerOptions.From(Configuration(defaults.Values)));
        Assert.Equal(ControlPlaneOptions.From(none), ControlPlaneOptions.From(Configuration(defaults.Values)));
        Assert.Equal(Orchestrator.Master.Admission.Pods.DefaultTolerationSeconds.Settings.From(none),
            Orchestrator.Master.Admission.Pods.DefaultTolerationSeconds.Settings.From(Configuration(defaults.Values)));
    }

    [Fact]
    public void Settings_come_from_a_yaml_file_and_the_environment_and_flags_win()
    {
        var file = Path.Combine(Directory.CreateTempSubdirectory("master-flags-").FullName, "master.yaml");
        File.WriteAllText(file, "api-port: 7443\nnode-monitor-grace-period: 15\npod-eviction-timeout: 0\ndata-dir: /var/lib/orchestrator/master\n");
        var env = new Dictionary<string, string> { ["ORCHESTRATOR_MASTER_CONFIG"] = file, ["ORCHESTRATOR_MASTER_API_PORT"] = "8443" };
        var flags = MasterFlags.Definition.Resolve(["--data-dir", "/srv/master"], env, TextWriter.Null, TextWriter.Null);

        Assert.Null(flags.Exit);
        var api = ApiServerOptions.From(Configuration(flags.Values));
        Assert.Equal(8443, api.ApiPort);
        Assert.Equal("/srv/master", api.DataDirectory);
        var control = ControlPlaneOptions.From(Configuration(flags.Values));
        Assert.Equal(TimeSpan.FromSeconds(15), control.NodeLifecycle.GracePeriod);
        Assert.Equal(new Orchestrator.Master.Admission.Pods.DefaultTolerationSeconds.Settings(0, 0),
            Orchestrator.Master.Admission.Pods.DefaultTolerationSeconds.Settings.From(Configuration(flags.Values)));
    }

    [Fact]
    public void A_service_cidr_that_is_not_one_stops_the_master_before_it_starts()
    {
        var stderr = new StringWriter();
        var flags = MasterFlags.Definition.Resolve([], new Dictionary<string, string> { ["ORCHESTRATOR_MASTER_SERVICE_CIDR"] = "10.0.0.0/31" },
            TextWriter.Null, stderr);
        Assert.Equal(2, flags.Exit);
        Assert.Equal("orchestrator-master: --service-cidr must be an IPv4 CIDR with a prefix length of 8 to 30, got '10.0.0.0/31' " +
                     "from ORCHESTRATOR_MASTER_SERVICE_CIDR", stderr.ToString().TrimEnd('\n'));
    }

    [Theory]
    [InlineData("soon")]
    [InlineData("0s")]
    [InlineData("-1m")]
    [InlineData("60")]
    [InlineData("600h")]
    public void A_request_timeout_that_is_no_positive_go_duration_stops_the_master_before_it_starts(string value)
    {
        var stderr = new StringWriter();
        var flags = MasterFlags.Definition.Resolve(["--request-timeout", value], new Dictionary<string, string>(), TextWriter.Null, stderr);
        Assert.Equal(2, flags.Exit);
        Assert.StartsWith("orchestrator-master: --request-timeout must be a positive Go duration up to 596h", stderr.ToString());
    }

    [Theory]
    [InlineData("90s", 90)]
    [InlineData("1m0s", 60)]
    [InlineData("2h", 7200)]
    public void The_request_timeout_is_a_go_duration(string value, int seconds)
    {
        var flags = MasterFlags.Definition.Resolve(["--request-timeout", value], new Dictionary<string, string>(), TextWriter.Null, TextWriter.Null);
        Assert.Null(flags.Exit);
        Assert.Equal(TimeSpan.FromSeconds(seconds), ApiServerOptions.From(Configuration(flags.Values)).RequestTimeout);
    }

    [Fact]
    public async Task The_process_lists_every_flag_with_its_default_in_help_and_refuses_an_unknown_flag_in_one_line()
    {
        var (code, help, _) = await RunAsync("--help");
        Assert.Equal(0, code);
        foreach (var flag in MasterFlags.Definition.Flags)
            Assert.Contains("--" + flag.Name + " ", help);
        foreach (var shown in new[] { "[default: ./.state/master]", "[default: 6443]", "[default: 4050]", "[default: 172.28.128.0/17]",
                     "[default: 40]", "[default: 300]", "[default: text]", "ORCHESTRATOR_MASTER_<FLAG>" })
            Assert.Contains(shown, help);

        var (unknown, _, error) = await RunAsync("--api-prot", "6443");
        Assert.Equal(2, unknown);
        Assert.Equal("orchestrator-master: unknown flag '--api-prot' (the flags are listed by --help)", error.Trim());
    }

    [Fact]
    public async Task Authorization_modes_and_admission_plugins_not_served_here_are_refused_at_start_in_one_line()
    {
        var dataDirectory = Directory.CreateTempSubdirectory("master-apiflags-").FullName;
        try
        {
            foreach (var (args, message) in new[]
                     {
                         (new[] { "--authorization-mode", "Node,RBAC,Webhook" },
                             "--authorization-mode \"Webhook\" is not implemented by orchestrator-master"),
                         (["--authorization-mode", "RBAC,RBAC"], "--authorization-mode \"[RBAC RBAC]\" has mode specified more than once"),
                         (["--enable-admission-plugins", "AlwaysPullImages"],
                             "--enable-admission-plugins plugin \"AlwaysPullImages\" is not implemented by orchestrator-master"),
                         (["--disable-admission-plugins", "ServiceAccount,Bogus"], "--disable-admission-plugins plugin \"Bogus\" is unknown"),
                         (["--enable-admission-plugins", "Priority", "--disable-admission-plugins", "Priority"],
                             "[Priority] in enable-admission-plugins and disable-admission-plugins overlapped"),
                     })
            {
                var (code, _, error) = await RunAsync(["--data-dir", dataDirectory, .. args]);
                Assert.Equal(2, code);
                Assert.Single(error.Trim().Split('\n'));
                Assert.StartsWith("orchestrator-master: " + message, error.Trim());
            }
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task A_bad_datastore_endpoint_is_one_line_without_the_password_and_a_non_zero_exit()
    {
        var dataDirectory = Directory.CreateTempSubdirectory("master-datastore-").FullName;
        try
        {
            var (code, _, error) = await RunAsync("--data-dir", dataDirectory, "--datastore-endpoint", "mysql://u:secret@127.0.0.1/k");
            Assert.Equal(2, code);
            Assert.Equal("orchestrator-master: --datastore-endpoint: unsupported scheme \"mysql\" (supported: postgres://, postgresql://; " +
                         "without the flag the store is SQLite in --data-dir)", error.Trim());

            (code, _, error) = await RunAsync("--data-dir", dataDirectory, "--datastore-endpoint", "postgres://u:secret@127.0.0.1/k?sslmode=maybe");
            Assert.Equal(2, code);
            Assert.Equal("orchestrator-master: --datastore-endpoint: postgres://u@127.0.0.1:5432/k: sslmode \"maybe\" is not one of " +
                         "disable, allow, prefer, require, verify-ca, verify-full", error.Trim());

            // Port 1 on loopback: nothing listens, the connection is refused at once.
            (code, _, error) = await RunAsync("--data-dir", dataDirectory, "--datastore-endpoint", "postgres://u:secret@127.0.0.1:1/k?sslmode=disable");
            Assert.Equal(1, code);
            Assert.StartsWith("orchestrator-master: postgres://u@127.0.0.1:1/k: cannot connect: ", error.Trim());
            Assert.DoesNotContain('\n', error.Trim());
            Assert.DoesNotContain("secret", error);
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task A_bad_admission_configuration_file_stops_the_master_with_one_line()
    {
        var dataDirectory = Directory.CreateTempSubdirectory("master-admission-").FullName;
        try
        {
            var file = Path.Combine(dataDirectory, "admission.yaml");
            File.WriteAllText(file, """
                apiVersion: apiserver.config.k8s.io/v1
                kind: AdmissionConfiguration
                plugins:
                - name: PodSecurity
                  configuration:
                    apiVersion: pod-security.admission.config.k8s.io/v1
                    kind: PodSecurityConfiguration
                    defaults: { enforce: strict }
                """);
            var (code, _, error) = await RunAsync("--data-dir", dataDirectory, "--admission-control-config-file", file);
            Assert.Equal(2, code);
            Assert.Equal($"orchestrator-master: --admission-control-config-file {file}: PodSecurity: invalid PodSecurityConfiguration: " +
                         "defaults.enforce: Invalid value: \"strict\": must be one of privileged, baseline, restricted", error.Trim());
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    [Fact]
    public void The_systemd_example_config_is_one_the_master_accepts()
    {
        var file = Path.Combine(RepoRoot(), "deploy", "systemd", "master.yaml");
        var stderr = new StringWriter();
        var flags = MasterFlags.Definition.Resolve(["--config", file], new Dictionary<string, string>(), TextWriter.Null, stderr);
        Assert.True(flags.Exit is null, stderr.ToString());
        Assert.Equal("/var/lib/orchestrator/master", flags["data-dir"]);
        Assert.Equal("json", flags["log-format"]);
    }

    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Orchestrator.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Orchestrator.sln not found");
    }

    private static async Task<(int Code, string Out, string Err)> RunAsync(params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "orchestrator-master.dll"), .. args])
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
        })!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }
}
