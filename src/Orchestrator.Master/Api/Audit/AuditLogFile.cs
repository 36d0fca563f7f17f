using System.Globalization;
using System.Text;
using System.Threading.Channels;

namespace Orchestrator.Master.Api.Audit;

/// <summary>The log backend's flags: --audit-log-path ("-" is standard output), --audit-log-maxsize (megabytes before
/// the file is rotated; 0 never), --audit-log-maxbackup (rotated files kept; 0 all), --audit-log-maxage (days a rotated
/// file is kept; 0 forever).</summary>
internal sealed record AuditLogOptions(string Path, int MaxSizeMegabytes = 0, int MaxBackups = 0, int MaxAgeDays = 0);

/// <summary>
/// Writes audit events, one JSON line each, off the request path: requests put lines in a bounded queue and never
/// wait; one task writes them out. When the queue is full (the disk cannot keep up) the line is dropped and counted,
/// as kube-apiserver's buffered backend drops events it cannot queue (apiserver_audit_error_total), with a warning
/// in the master's log at most once a minute. Files rotate as kube's (lumberjack) do: the full file is renamed
/// <c>name-2006-01-02T15-04-05.000.ext</c> (UTC) and the oldest beyond the limits are deleted.
/// </summary>
internal sealed class AuditLogFile : IAsyncDisposable
{
    public const int QueueCapacity = 10_000;

    private readonly AuditLogOptions _options;
    private readonly Channel<string> _queue = Channel.CreateBounded<string>(new BoundedChannelOptions(QueueCapacity)
    {
        FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true,
    });
    private readonly ILogger? _logger;
    private readonly Task _writer;
    private long _dropped;
    private long _lastDropWarning;
    private Stream? _file;
    private long _size;

    public AuditLogFile(AuditLogOptions options, ILogger? logger = null)
    {
        _options = options;
        _logger = logger;
        _writer = Task.Run(WriteAllAsync);
    }

    /// <summary>How many events were dropped because the queue was full.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    public void Write(string line)
    {
        if (_queue.Writer.TryWrite(line)) return;
        var dropped = Interlocked.Increment(ref _dropped);
        var now = Environment.TickCount64;
        var last = Interlocked.Read(ref _lastDropWarning);
        if (now - last > 60_000 && Interlocked.CompareExchange(ref _lastDropWarning, now, last) == last)
            _logger?.LogWarning("audit log {Path}: the queue of {Capacity} events is full; {Dropped} events dropped so far",
                _options.Path, QueueCapacity, dropped);
    }

    private async Task WriteAllAsync()
    {
        await foreach (var line in _queue.Reader.ReadAllAsync())
        {
            try
            {
                var bytes = Encoding.UTF8.GetBytes(line + "\n");
                var file = OpenForWrite(bytes.Length);
                await file.WriteAsync(bytes);
                _size += bytes.Length;
                if (_queue.Reader.Count == 0) await file.FlushAsync();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Interlocked.Increment(ref _dropped);
                _logger?.LogWarning("audit log {Path}: {Error}", _options.Path, e.Message);
                _file?.Dispose();
                _file = null;
            }
        }
        if (_file is not null) await _file.DisposeAsync();
    }

    private Stream OpenForWrite(int next)
    {
        if (_options.Path == "-") return _file ??= Console.OpenStandardOutput();
        var limit = _options.MaxSizeMegabytes * 1024L * 1024;
        if (_file is not null && limit > 0 && _size + next > limit)
        {
            _file.Dispose();
            _file = null;
            Rotate();
        }
        if (_file is null)
        {
            if (System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(_options.Path)) is { } directory) Directory.CreateDirectory(directory);
            _file = new FileStream(_options.Path, FileMode.Append, FileAccess.Write, FileShare.Read, 64 * 1024);
            _size = _file.Length;
            if (limit > 0 && _size > 0 && _size + next > limit)
            {
                _file.Dispose();
                Rotate();
                _file = new FileStream(_options.Path, FileMode.Append, FileAccess.Write, FileShare.Read, 64 * 1024);
                _size = 0;
            }
        }
        return _file;
    }

    /// <summary>Renames the current file to its backup name and removes backups beyond --audit-log-maxbackup/maxage.</summary>
    private void Rotate()
    {
        var full = System.IO.Path.GetFullPath(_options.Path);
        var directory = System.IO.Path.GetDirectoryName(full)!;
        var stem = System.IO.Path.GetFileNameWithoutExtension(full);
        var extension = System.IO.Path.GetExtension(full);
        var stamp = DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH-mm-ss.fff", CultureInfo.InvariantCulture);
        File.Move(full, System.IO.Path.Combine(directory, $"{stem}-{stamp}{extension}"), overwrite: true);
        var backups = Directory.GetFiles(directory, $"{stem}-*{extension}")
            .Select(f => (Path: f, Stamp: BackupTime(System.IO.Path.GetFileName(f), stem, extension)))
            .Where(b => b.Stamp is not null).OrderByDescending(b => b.Stamp).ToList();
        for (var i = 0; i < backups.Count; i++)
        {
            var tooMany = _options.MaxBackups > 0 && i >= _options.MaxBackups;
            var tooOld = _options.MaxAgeDays > 0 && backups[i].Stamp < DateTime.UtcNow.AddDays(-_options.MaxAgeDays);
            if (tooMany || tooOld) File.Delete(backups[i].Path);
        }
    }

    private static DateTime? BackupTime(string name, string stem, string extension)
    {
        var stamp = name[(stem.Length + 1)..^extension.Length];
        return DateTime.TryParseExact(stamp, "yyyy-MM-dd'T'HH-mm-ss.fff", CultureInfo.InvariantCulture,
            DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var time) ? time : null;
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _writer;
    }
}
