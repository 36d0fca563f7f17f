namespace Orchestrator.Shared.Hosting;

/// <summary>
/// What the master's and the node's web hosts are built with. ASP.NET Core's default builder reads
/// appsettings.json and appsettings.{environment}.json from the content root — the working directory — and watches them
/// for changes with a recursive file-system watcher on that whole directory: one inotify watch per subdirectory (1,326 for
/// a repository checkout, where deploy/up.sh is usually run; twice in orchestrator-all-in-one), set up on the start-up's
/// path, and then an event for every file written below it (the cluster's own logs under artifacts/). Neither program
/// has an appsettings file (their settings are flags, ORCHESTRATOR_* variables and --config), so the files are still read
/// once if present, but not watched (issue 19).
/// </summary>
public static class HostBuilderOptions
{
    /// <summary>The builder's command line (WebApplicationOptions.Args, HostApplicationBuilderSettings.Args): only the host
    /// setting hostBuilder:reloadConfigOnChange=false, which turns the appsettings files' watcher off.</summary>
    public static string[] Args => ["--hostBuilder:reloadConfigOnChange=false"];
}
