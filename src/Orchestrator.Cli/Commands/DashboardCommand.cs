using System.Diagnostics;
using Orchestrator.Cli.Parsing;

namespace Orchestrator.Cli.Commands;

/// <summary>
/// orchctl dashboard: the web dashboard's address on the API server of the current context (/ui/), checked to be
/// served, and opened in a browser when this session has one. With --with-token the link carries the kubeconfig
/// user's token in its fragment (which browsers never send to a server); the page moves it to sessionStorage.
/// </summary>
internal static class DashboardCommand
{
    public static async Task<int> Run(CommandContext ctx)
    {
        using var api = ctx.Connect();
        var url = api.Server + "/ui/";
        using (await api.SendForStream(HttpMethod.Get, "/ui/", null, "text/html")) { }

        var withToken = ctx.Args.GetBool("with-token");
        if (withToken && api.AccessToken is null)
            throw new CliException("error: the kubeconfig's user has no bearer token to sign in with (a client certificate cannot be handed to a browser)");
        var link = withToken ? $"{url}#token={Uri.EscapeDataString(api.AccessToken!)}" : url;
        await ctx.Out.WriteLineAsync($"Dashboard: {link}");
        foreach (var line in Hints(api.AccessToken is not null, withToken)) await ctx.Out.WriteLineAsync(line);
        if (!ctx.Args.GetBool("no-open") && Browser(ctx.Env) is { } opener)
        {
            Process.Start(new ProcessStartInfo(opener, [link]) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true })
                ?.Dispose();
            await ctx.Out.WriteLineAsync($"Opened with {Path.GetFileName(opener)}.");
        }
        return 0;
    }

    public static IEnumerable<string> Hints(bool kubeconfigHasToken, bool withToken)
    {
        if (!withToken)
            yield return kubeconfigHasToken
                ? "Sign in with the bearer token of your kubeconfig's user, or run 'orchctl dashboard --with-token' for a link that signs in."
                : "Sign in with a bearer token, e.g. 'kubectl create token SERVICEACCOUNT' (a client certificate cannot be handed to a browser).";
        yield return "The API's certificate is signed by the cluster's own CA (ca.crt in the master's data directory): trust it in the browser or accept its warning.";
    }

    /// <summary>The program that opens a URL in this session's browser; null without a graphical session.</summary>
    public static string? Browser(Func<string, string?> env)
    {
        if (OperatingSystem.IsMacOS()) return "/usr/bin/open";
        if (string.IsNullOrEmpty(env("DISPLAY")) && string.IsNullOrEmpty(env("WAYLAND_DISPLAY"))) return null;
        foreach (var dir in (env("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, "xdg-open");
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }
}
