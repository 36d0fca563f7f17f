using Akka.Hosting;
using Akka.Hosting.Logging;
using Orchestrator.Shared.Hosting;

namespace Orchestrator.Master.Diagnostics;

/// <summary>One log format for ASP.NET Core and Akka: Akka's log events go to Microsoft.Extensions.Logging, which
/// writes every line to stdout as <c>--log-format</c> says — text (one line each, UTC time stamp, level, category,
/// message) or json (one object each: Timestamp, EventId, LogLevel, Category, Message, State).</summary>
internal static class MasterLogging
{
    public static ILoggingBuilder UseLogFormat(this ILoggingBuilder logging, string? format)
    {
        logging.ClearProviders();
        if (format == "json")
            logging.AddJsonConsole(o =>
            {
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
            });
        else
            logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
            });
        return logging;
    }

    /// <summary>Akka's loggers replaced by the host's ILoggerFactory (the same format and filters as everything else).</summary>
    public static AkkaConfigurationBuilder WithHostLogging(this AkkaConfigurationBuilder akka, IServiceProvider services) =>
        akka.AddSetup(new LoggerFactorySetup(services.GetRequiredService<ILoggerFactory>()))
            // before the loggers start and after they stop Akka prints to stdout itself: only what matters then
            .AddHocon("akka.stdout-loglevel = WARNING", HoconAddMode.Prepend)
            .ConfigureLoggers(loggers =>
            {
                loggers.ClearLoggers();
                loggers.AddLogger<AkkaLogForwarder>();
            });
}
