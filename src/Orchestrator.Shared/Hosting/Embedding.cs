using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Orchestrator.Shared.Hosting;

/// <summary>
/// How the master or the node runs when orchestrator-all-in-one hosts both in one process (issue 19: the runtime, the
/// mapped assemblies and the JIT code of the shared libraries exist once) instead of as a process of its own.
/// Null where a program runs alone, which then behaves exactly as before.
/// </summary>
/// <param name="LogPrefix">Put before every log line's category (e.g. "[node] "), so one log tells the two apart.</param>
/// <param name="Stop">Stops the host (orchestrator-all-in-one owns SIGTERM/SIGINT and stops the node first).</param>
/// <param name="TrimsMemory">Whether this host runs <see cref="IdleMemoryTrim"/>: it measures the whole process's
/// allocations and heap, so one per process.</param>
public sealed record Embedding(string LogPrefix, CancellationToken Stop, bool TrimsMemory)
{
    /// <summary>Called once the host can be joined (the master: it is Up in its own cluster, so its cluster port listens
    /// and cluster.pfx exists; its API may still be starting).</summary>
    public Action? Started { get; init; }

    /// <summary>Called with a host's error, the one line its program also writes (without the program's name), when it
    /// ends because of it: the embedding repeats it as its own last line once the other host has stopped too.</summary>
    public Action<string>? Failed { get; init; }

    /// <summary>The node's actor system joins the cluster only once this completes (the master is Up, see
    /// <see cref="Started"/>): a join tried before would wait out the join retry. Null: at once.</summary>
    public Task? JoinAfter { get; init; }

    /// <summary>What a host changes when embedded: no console lifetime of its own (the process's signals are the
    /// embedding's, which stops the hosts one after the other through <see cref="Stop"/>), and its log categories prefixed.</summary>
    public void Apply(IServiceCollection services, ILoggingBuilder logging)
    {
        services.AddSingleton<IHostLifetime, EmbeddedLifetime>();
        logging.PrefixCategories(LogPrefix);
    }
}

/// <summary>A host lifetime that neither listens to signals nor prints the console lifetime's messages: the embedding
/// decides when the host stops.</summary>
internal sealed class EmbeddedLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

public static class PrefixedLogging
{
    /// <summary>Every logger provider registered so far (call it after the log format's providers were added) gets
    /// its categories with <paramref name="prefix"/> before them. Filters still see the original category.</summary>
    public static ILoggingBuilder PrefixCategories(this ILoggingBuilder logging, string prefix)
    {
        foreach (var descriptor in logging.Services.Where(d => d.ServiceType == typeof(ILoggerProvider) && !d.IsKeyedService).ToList())
        {
            logging.Services.Remove(descriptor);
            logging.Services.AddSingleton<ILoggerProvider>(sp => new PrefixedLoggerProvider(Create(sp, descriptor), prefix));
        }
        return logging;
    }

    private static ILoggerProvider Create(IServiceProvider services, ServiceDescriptor descriptor) =>
        (ILoggerProvider)(descriptor.ImplementationInstance
            ?? descriptor.ImplementationFactory?.Invoke(services)
            ?? ActivatorUtilities.CreateInstance(services, descriptor.ImplementationType!));

    private sealed class PrefixedLoggerProvider(ILoggerProvider inner, string prefix) : ILoggerProvider, ISupportExternalScope
    {
        public ILogger CreateLogger(string categoryName) => inner.CreateLogger(prefix + categoryName);

        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => (inner as ISupportExternalScope)?.SetScopeProvider(scopeProvider);

        public void Dispose() => inner.Dispose();
    }
}
