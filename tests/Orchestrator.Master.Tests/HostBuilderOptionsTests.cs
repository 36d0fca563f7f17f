using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration.Json;
using Orchestrator.Shared.Hosting;
using Xunit;

namespace Orchestrator.Master.Tests;

/// <summary>The master's and the node's web hosts read the appsettings files without watching them: the default
/// builder's watcher put an inotify watch on every directory below the working directory on the start-up's path.</summary>
public sealed class HostBuilderOptionsTests
{
    [Fact]
    public void The_appsettings_files_are_read_but_not_watched()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = HostBuilderOptions.Args });
        var files = builder.Configuration.Sources.OfType<JsonConfigurationSource>().ToList();
        Assert.Contains(files, f => f.Path == "appsettings.json");
        Assert.All(files, f => Assert.False(f.ReloadOnChange, $"{f.Path} is watched"));
    }
}
