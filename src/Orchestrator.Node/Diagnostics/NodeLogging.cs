namespace Orchestrator.Node.Diagnostics;

/// <summary>One log format for the whole node: ASP.NET Core, YARP and the actor system (whose events NodeIncarnations
/// sends to Microsoft.Extensions.Logging) write through the same console logger, as <c>--log-format</c> says — text
/// (one line each, UTC time stamp, level, category, message) or json (one object each: Timestamp, EventId, LogLevel,
/// Category, Message, State).</summary>
internal static class NodeLogging
{
    public static ILoggingBuilder UseLogFormat(this ILoggingBuilder logging, string format)
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
}
