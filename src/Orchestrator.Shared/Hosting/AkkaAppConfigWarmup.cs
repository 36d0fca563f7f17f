using System.Configuration;

namespace Orchestrator.Shared.Hosting;

/// <summary>
/// Akka's <c>ActorSystem.Create(name, setup)</c>, which Akka.Hosting calls, reads the .NET Framework application
/// configuration (an app.config's "akka" section, <c>ConfigurationFactory.Load()</c>) even when the setup carries its
/// configuration: the fallback argument of its <c>GetOrElse</c> is evaluated first. No program of ours has such a file,
/// but that first read sets up System.Configuration (System.Private.Xml loaded, the built-in machine configuration
/// parsed): about 75 ms of CPU on the start's one busy thread, just before the actor system exists (issue 19).
/// <see cref="Begin"/> makes that read on a pool thread as a program starts, beside its host build (a second core is
/// idle then), so the actor system finds the section read. An error is left to Akka's own read, which raises it as before.
/// </summary>
public static class AkkaAppConfigWarmup
{
    /// <summary>The section Akka reads.</summary>
    internal const string Section = "akka";

    public static void Begin() => ThreadPool.UnsafeQueueUserWorkItem(_ => Read(), null);

    /// <summary>Reads the section once (System.Configuration keeps it); true when that worked.</summary>
    internal static bool Read()
    {
        try
        {
            ConfigurationManager.GetSection(Section);
            return true;
        }
        catch (ConfigurationErrorsException)
        {
            return false; // Akka's read raises it where it always did
        }
    }
}
