namespace Orchestrator.Master.Store;

/// <summary>
/// What the ObjectStore says about itself, for /readyz and /healthz (read from request threads, written by the
/// store actor on every change of state): whether it has recovered and its journal takes writes, and why not.
/// <see cref="Fatal"/> completes when the store cannot go on at all (a journal record that cannot be applied):
/// the host then ends the process with that one line.
/// </summary>
public sealed class StoreHealth
{
    private readonly TaskCompletionSource<string> _fatal = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile string? _notReady = "recovering the journal";

    /// <summary>Null when the store has recovered and can write; otherwise why it cannot.</summary>
    public string? NotReadyReason => _notReady;

    public bool Ready => _notReady is null;

    public Task<string> Fatal => _fatal.Task;

    private readonly TaskCompletionSource _firstWritable = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when the store has recovered and can write for the first time.</summary>
    public Task FirstWritable => _firstWritable.Task;

    internal void Writable()
    {
        _notReady = null;
        _firstWritable.TrySetResult();
    }

    internal void NotWritable(string reason) => _notReady = reason;

    internal void Failed(string message)
    {
        _notReady = message;
        _fatal.TrySetResult(message);
    }
}
