using Akka.Actor;
using Akka.Dispatch;
using Akka.Event;
using Akka.Hosting.Logging;
using Microsoft.Extensions.Logging;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;

namespace Orchestrator.Shared.Hosting;

/// <summary>
/// Akka's logger that hands every log event to the host's <see cref="ILoggerFactory"/> (found through Akka.Hosting's
/// <see cref="LoggerFactorySetup"/>), so actors log in the process's one format: the category is the logging class
/// (e.g. Orchestrator.Master.Scheduling.Scheduler, or Akka), the message "{LogSource}: {Message}" with both as structured
/// values. Akka.Hosting's own LoggerFactoryLogger writes Akka's whole text line (level, date, thread) as the message.
/// </summary>
public sealed class AkkaLogForwarder : ActorBase, IRequiresMessageQueue<ILoggerMessageQueueSemantics>
{
    /// <summary>For <c>akka.loggers</c> in HOCON.</summary>
    public const string TypeName = "Orchestrator.Shared.Hosting.AkkaLogForwarder, Orchestrator.Shared";

    private readonly ILoggerFactory _factory;
    private readonly Dictionary<Type, ILogger> _loggers = new();

    public AkkaLogForwarder() =>
        _factory = Context.System.Settings.Setup.Get<LoggerFactorySetup>().Value?.LoggerFactory
                   ?? throw new InvalidOperationException($"{nameof(AkkaLogForwarder)} needs a {nameof(LoggerFactorySetup)} in the actor system's setup");

    protected override bool Receive(object message)
    {
        switch (message)
        {
            case InitializeLogger:
                Sender.Tell(new LoggerInitialized());
                return true;
            case LogEvent e:
                if (!_loggers.TryGetValue(e.LogClass, out var logger)) _loggers[e.LogClass] = logger = _factory.CreateLogger(Category(e.LogClass));
                var level = Level(e.LogLevel());
                if (logger.IsEnabled(level)) logger.Log(level, e.Cause, "{LogSource}: {Message}", e.LogSource, Text(e.Message));
                return true;
            default:
                return false;
        }
    }

    // events logged with a string source (remoting, cluster) carry a placeholder class
    private static string Category(Type type) => type.Name == "DummyClassForStringSources" ? "Akka" : type.FullName ?? type.Name;

    private static string Text(object message)
    {
        try
        {
            return message is LogMessage m ? m.ToString() ?? "" : message?.ToString() ?? "";
        }
        catch (FormatException e)
        {
            return $"(a log message that does not format: {e.Message})";
        }
    }

    private static LogLevel Level(Akka.Event.LogLevel level) => level switch
    {
        Akka.Event.LogLevel.DebugLevel => LogLevel.Debug,
        Akka.Event.LogLevel.InfoLevel => LogLevel.Information,
        Akka.Event.LogLevel.WarningLevel => LogLevel.Warning,
        _ => LogLevel.Error,
    };
}
