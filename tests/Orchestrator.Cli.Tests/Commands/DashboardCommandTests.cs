using Orchestrator.Cli.Commands;
using Xunit;

namespace Orchestrator.Cli.Tests.Commands;

public sealed class DashboardCommandTests
{
    [Fact]
    public void A_browser_is_opened_only_in_a_graphical_session_with_xdg_open()
    {
        if (OperatingSystem.IsMacOS()) return;
        var bin = Directory.CreateTempSubdirectory("orchctl-path-").FullName;
        File.WriteAllText(Path.Combine(bin, "xdg-open"), "#!/bin/sh\n");
        var graphical = new Dictionary<string, string?> { ["DISPLAY"] = ":0", ["PATH"] = bin };
        var headless = new Dictionary<string, string?> { ["PATH"] = bin };
        var withoutOpener = new Dictionary<string, string?> { ["WAYLAND_DISPLAY"] = "wayland-0", ["PATH"] = "/nonexistent" };

        Assert.Equal(Path.Combine(bin, "xdg-open"), DashboardCommand.Browser(k => graphical.GetValueOrDefault(k)));
        Assert.Null(DashboardCommand.Browser(k => headless.GetValueOrDefault(k)));
        Assert.Null(DashboardCommand.Browser(k => withoutOpener.GetValueOrDefault(k)));
        Directory.Delete(bin, recursive: true);
    }

    [Fact]
    public void The_hints_say_how_to_sign_in_and_about_the_clusters_certificate()
    {
        Assert.Contains(DashboardCommand.Hints(kubeconfigHasToken: true, withToken: false), h => h.Contains("--with-token"));
        Assert.Contains(DashboardCommand.Hints(kubeconfigHasToken: false, withToken: false), h => h.Contains("kubectl create token"));
        Assert.Single(DashboardCommand.Hints(kubeconfigHasToken: true, withToken: true), h => h.Contains("ca.crt"));
    }
}
