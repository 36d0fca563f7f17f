namespace Orchestrator.Master.Controllers.NodeLifecycle;

/// <summary>client-go's token bucket (flowcontrol.NewTokenBucketRateLimiter over x/time/rate) with the burst the node
/// lifecycle controller uses (1): full at the start, one token every 1/qps seconds; qps 0 never accepts (kube's
/// NewFakeNeverRateLimiter).</summary>
internal sealed class TokenBucket(double qps, DateTime start)
{
    private const double Burst = 1;
    private double _tokens = qps > 0 ? Burst : 0;
    private DateTime _last = start;

    public double Qps { get; } = qps > 0 ? qps : 0;

    public bool TryAccept(DateTime now)
    {
        if (Qps <= 0) return false;
        Refill(now);
        if (_tokens < 1) return false;
        _tokens -= 1;
        return true;
    }

    /// <summary>When the next token is there (now when one is); null for a bucket that never gives one.</summary>
    public DateTime? NextToken(DateTime now)
    {
        if (Qps <= 0) return null;
        Refill(now);
        return _tokens >= 1 ? now : now + TimeSpan.FromSeconds((1 - _tokens) / Qps);
    }

    private void Refill(DateTime now)
    {
        if (now > _last) _tokens = Math.Min(Burst, _tokens + (now - _last).TotalSeconds * Qps);
        _last = now > _last ? now : _last;
    }
}

/// <summary>
/// Kubernetes' RateLimitedTimedQueue (pkg/controller/nodelifecycle/scheduler/rate_limited_queue.go), one per zone: node
/// names waiting for their NoExecute taint, in the order they are due, taken off no faster than the zone's token bucket
/// allows. Like kube's UniqueQueue a name stays in the set after it was processed (it is not queued again) until it is
/// removed (the node reachable again).
/// </summary>
internal sealed class RateLimitedTimedQueue(double qps, Func<DateTime> clock)
{
    /// <summary>One waiting name, due at ProcessAt (kube's TimedValue).</summary>
    internal sealed record TimedValue(string Value, DateTime AddedAt, DateTime ProcessAt, long Order);

    private readonly HashSet<string> _set = new(StringComparer.Ordinal);
    private readonly List<TimedValue> _queue = new();
    private long _order;
    private TokenBucket _limiter = new(qps, clock());

    public double Qps => _limiter.Qps;
    public int Count => _queue.Count;
    public IEnumerable<string> Waiting => _queue.Select(v => v.Value);

    /// <summary>Queues the name unless it is in the set already (waiting or processed): true when queued.</summary>
    public bool Add(string value)
    {
        if (!_set.Add(value)) return false;
        var now = clock();
        Insert(new TimedValue(value, now, now, _order++));
        return true;
    }

    /// <summary>Takes the name off the queue and out of the set: true when it was in the set.</summary>
    public bool Remove(string value)
    {
        _queue.RemoveAll(v => v.Value == value);
        return _set.Remove(value);
    }

    /// <summary>Empties the queue and the set.</summary>
    public void Clear()
    {
        _queue.Clear();
        _set.Clear();
    }

    /// <summary>kube's Try: while a token is there, the head (when due) is given to <paramref name="process"/>; done, it
    /// leaves the queue (and stays in the set); not done, it is due again after the retry delay it gave.</summary>
    public void Try(Func<TimedValue, (bool Done, TimeSpan Retry)> process)
    {
        while (_queue.Count > 0)
        {
            var now = clock();
            var head = _queue[0];
            // checked before the token (kube takes the token first): a head not due yet does not spend one
            if (now < head.ProcessAt || !_limiter.TryAccept(now)) break;
            _queue.RemoveAt(0);
            var (done, retry) = process(head);
            if (!done) Insert(head with { ProcessAt = now + retry + TimeSpan.FromTicks(1) });
        }
    }

    /// <summary>When <see cref="Try"/> may take the head next; null when nothing waits or the limiter never gives.</summary>
    public DateTime? NextTry()
    {
        if (_queue.Count == 0) return null;
        var token = _limiter.NextToken(clock());
        return token is null ? null : token > _queue[0].ProcessAt ? token : _queue[0].ProcessAt;
    }

    /// <summary>kube's SwapLimiter: a new bucket of that rate (none for 0); a bucket that had no token left leaves the new
    /// one empty too, so swapping never lets a node through sooner than the old rate would have.</summary>
    public void SwapLimiter(double newQps)
    {
        if (_limiter.Qps == Math.Max(newQps, 0)) return;
        var now = clock();
        var replacement = new TokenBucket(newQps, now);
        if (newQps > 0 && !_limiter.TryAccept(now)) replacement.TryAccept(now);
        _limiter = replacement;
    }

    private void Insert(TimedValue value)
    {
        var at = _queue.FindIndex(v => v.ProcessAt > value.ProcessAt || (v.ProcessAt == value.ProcessAt && v.Order > value.Order));
        if (at < 0) _queue.Add(value);
        else _queue.Insert(at, value);
    }
}
