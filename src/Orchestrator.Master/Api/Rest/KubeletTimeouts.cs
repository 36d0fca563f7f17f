namespace Orchestrator.Master.Api.Rest;

/// <summary>
/// How long the master waits on a node's kubelet endpoint, so that a node that accepts and never answers, or an
/// address that drops packets, ends a request with a Status instead of holding it. Connecting and the response's
/// headers are bounded by <see cref="Response"/> (504 when it passes); logs without <c>follow</c> are an ordinary
/// request, bounded in all by <see cref="Request"/> as kube-apiserver's request timeout bounds them; streams (logs
/// with follow, exec, port forwarding) end after <see cref="StreamIdle"/> without a byte either way, the kubelet's
/// default <c>--streaming-connection-idle-timeout</c>.
/// </summary>
internal sealed record KubeletTimeouts(TimeSpan Connect, TimeSpan Response, TimeSpan Request, TimeSpan StreamIdle)
{
    public static KubeletTimeouts Default { get; } =
        new(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(60), TimeSpan.FromHours(4));

    public static string Seconds(TimeSpan span) => $"{span.TotalSeconds:0.#}s";
}

/// <summary>A cancellation that fires when nothing happened for a while: each <see cref="Touch"/> starts the wait again.</summary>
internal sealed class IdleTimeout : IDisposable
{
    private readonly CancellationTokenSource _source;
    private readonly TimeSpan _idle;

    public IdleTimeout(TimeSpan idle, CancellationToken linked)
    {
        _idle = idle;
        _source = CancellationTokenSource.CreateLinkedTokenSource(linked);
        _source.CancelAfter(idle);
    }

    public CancellationToken Token => _source.Token;

    public void Touch()
    {
        try { _source.CancelAfter(_idle); }
        catch (ObjectDisposedException) { }
    }

    public Task CancelAsync() => _source.CancelAsync();

    public void Dispose() => _source.Dispose();
}
