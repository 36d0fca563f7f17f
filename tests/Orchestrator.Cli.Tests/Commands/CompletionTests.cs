using System.Diagnostics;
using Orchestrator.Cli.Commands;
using Xunit;

namespace Orchestrator.Cli.Tests.Commands;

/// <summary>The generated zsh script, run in zsh with the completion system's functions stubbed to print what they are
/// given (zsh is one of deploy/test.sh's packages).</summary>
public sealed class CompletionTests
{
    private static async Task<string> Complete(params string[] words)
    {
        var dir = Directory.CreateTempSubdirectory("zsh-completion-").FullName;
        var script = Path.Combine(dir, "orchctl.zsh");
        await File.WriteAllTextAsync(script, CompletionCommand.Zsh());
        var quoted = string.Join(' ', words.Select(w => "'" + w + "'"));
        var test = Path.Combine(dir, "test.zsh");
        await File.WriteAllTextAsync(test, $$"""
            compdef() { print -r -- "compdef $*" }
            source {{script}}
            compadd() { print -r -- "compadd $*" }
            _describe() { local -a entries; entries=("${(@P)4}"); print -rl -- "${entries[@]}" }
            _files() { print -r -- files }
            words=({{quoted}}); CURRENT=$#words
            _orchctl
            """);
        using var zsh = Process.Start(new ProcessStartInfo("zsh", [test]) { RedirectStandardOutput = true, RedirectStandardError = true })
            ?? throw new InvalidOperationException("zsh is needed (apt-get install zsh)");
        var output = await zsh.StandardOutput.ReadToEndAsync();
        var error = await zsh.StandardError.ReadToEndAsync();
        await zsh.WaitForExitAsync();
        Assert.True(zsh.ExitCode == 0 && error.Length == 0, $"zsh: {error}");
        Assert.StartsWith("compdef _orchctl orchctl\n", output);
        return output;
    }

    [Fact]
    public async Task Zsh_completes_the_commands_with_their_summaries()
    {
        var output = await Complete("orchctl", "");
        Assert.Contains("\nrun:Create a Deployment named NAME", output);
        Assert.Contains("\ncompletion:", output);
    }

    [Fact]
    public async Task Zsh_completes_each_commands_flags_and_the_resource_types()
    {
        var flags = await Complete("orchctl", "run", "x", "--");
        Assert.Contains("\n--hostport=:The host port mapping", flags);
        Assert.Contains("\n--command:Treat the arguments after -- as the command", flags);
        Assert.DoesNotContain("--all-namespaces", flags);

        Assert.Contains("compadd -- nodes node no pods pod po deployments", await Complete("orchctl", "get", ""));
        Assert.Contains("compadd -- wide yaml json name", await Complete("orchctl", "get", "pods", "-o", ""));
        Assert.Contains("\nfiles\n", await Complete("orchctl", "create", "-f", ""));
    }
}
