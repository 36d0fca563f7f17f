using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Orchestrator.Node.Host;

/// <summary>Runs <c>iptables</c> and <c>iptables-restore</c> (Debian's <c>iptables</c> package) on the filter table,
/// waiting for the xtables lock other nodes and Docker hold. Needs root (CAP_NET_ADMIN); failures are logged and
/// reported as false/null, never thrown.</summary>
internal sealed class Iptables(ILogger log)
{
    /// <summary>True when the iptables commands exist (a machine without them cannot enforce policies).</summary>
    public bool Available => Run("iptables", ["--version"], null) is not null;

    /// <summary><c>iptables -w -S</c>: every rule and chain of the filter table; null on failure.</summary>
    public string? List() => Run("iptables", ["-w", "5", "-S"], null);

    public bool Has(params string[] rule) => Run("iptables", ["-w", "5", "-C", .. rule], null, quiet: true) is not null;

    public bool Execute(params string[] args) => Run("iptables", ["-w", "5", .. args], null) is not null;

    /// <summary>Applies a filter-table batch atomically, leaving every other chain as it is.</summary>
    public bool Restore(string batch) => Run("iptables-restore", ["-w", "5", "--noflush"], batch) is not null;

    private string? Run(string command, string[] args, string? input, bool quiet = false)
    {
        try
        {
            var start = new ProcessStartInfo(command)
            {
                RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = input is not null, UseShellExecute = false,
            };
            foreach (var a in args) start.ArgumentList.Add(a);
            using var process = Process.Start(start)!;
            if (input is not null)
            {
                process.StandardInput.Write(input);
                process.StandardInput.Close();
            }
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEnd();
            if (!process.WaitForExit(15000))
            {
                process.Kill();
                log.LogWarning("{Command} {Args} did not finish", command, string.Join(' ', args));
                return null;
            }
            if (process.ExitCode == 0) return output.Result;
            if (!quiet) log.LogWarning("{Command} {Args} failed: {Error}", command, string.Join(' ', args), error.Trim());
            return null;
        }
        catch (Exception e)
        {
            if (!quiet) log.LogWarning("{Command} could not run: {Error}", command, e.Message);
            return null;
        }
    }
}
