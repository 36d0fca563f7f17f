namespace Orchestrator.Master.Api.FlowControl;

/// <summary>
/// The API server's concurrency limit under API Priority and Fairness (one seat per request): each limited priority
/// level may always run up to its MinCL requests; beyond that up to its MaxCL it takes seats from the pool that every
/// level's LendableCL makes up, so the server never runs more than about its total. A request that finds no seat
/// joins a queue of its level (shuffle sharding by flow, at most queueLengthLimit waiting per queue) or, for a level
/// that rejects, is refused; a released seat goes to the next waiting request of the level, queues taken in turn (an
/// equal-width simplification of kube's fair queuing), then to waiting requests of other levels when it was a pool
/// seat. Borrowing is immediate from the pool rather than kube's reallocation every 10 s. Exempt levels are not
/// limited. All state is under one lock: each decision is a few comparisons.
/// </summary>
internal sealed class FlowControlLimiter
{
    private readonly object _lock = new();
    private readonly Dictionary<string, LevelGate> _gates = new(StringComparer.Ordinal);
    private volatile FlowControlConfiguration _configuration;
    private int _poolCapacity;
    private int _poolUsed;
    private int _waiting;

    public FlowControlLimiter(FlowControlConfiguration initial)
    {
        _configuration = initial;
        Reconfigure(initial);
    }

    public FlowControlConfiguration Configuration => _configuration;

    /// <summary>Takes a new configuration: levels keep their queues and running requests; a level that is gone keeps
    /// its own until they are done, and takes no new ones.</summary>
    public void Reconfigure(FlowControlConfiguration configuration)
    {
        lock (_lock)
        {
            _configuration = configuration;
            foreach (var (name, limits) in configuration.Levels)
            {
                if (_gates.TryGetValue(name, out var gate)) gate.Configure(limits);
                else _gates[name] = new LevelGate(limits);
            }
            foreach (var (name, gate) in _gates.ToList())
            {
                if (configuration.Levels.ContainsKey(name)) continue;
                gate.Retired = true;
                if (gate.Executing == 0 && gate.Waiting == 0) _gates.Remove(name);
            }
            _poolCapacity = configuration.Levels.Values.Sum(l => l.LendableCL);
            _poolUsed = _gates.Values.Sum(g => Math.Max(0, g.Executing - g.Limits.MinCL));
            DispatchWaiting(null);
        }
    }

    /// <summary>A seat at once, or a task that ends with one (or null when the wait timed out or was cancelled), or null
    /// at once when the level rejects: its limit is reached and it does not queue, or the flow's queue is full.</summary>
    public Seat? TryAcquire(Classification classification, out Task<Seat?>? wait, TimeSpan queueWait, CancellationToken cancelled)
    {
        wait = null;
        if (classification.Level.Exempt) return Seat.Unlimited;
        Waiter waiter;
        lock (_lock)
        {
            if (!_gates.TryGetValue(classification.Level.Name, out var gate) || gate.Retired)
                gate = _gates[Store.FlowControlDefaults.CatchAll]; // reconfigured between classification and now
            var arrived = DateTime.UtcNow;
            if (CanDispatch(gate)) return Admit(gate, null, classification, arrived);
            if (gate.Limits.Queuing is not { } queuing || gate.Queues.Length == 0)
            {
                gate.Rejected++;
                return null;
            }
            var queue = gate.ChooseQueue(classification.FlowHash, queuing.HandSize ?? 1);
            if (queue.Waiting.Count >= (queuing.QueueLengthLimit ?? 0))
            {
                gate.Rejected++;
                return null;
            }
            waiter = new Waiter(gate, queue, classification, arrived);
            waiter.Node = queue.Waiting.AddLast(waiter);
            gate.Waiting++;
            _waiting++;
        }
        wait = WaitAsync(waiter, queueWait, cancelled);
        return null;
    }

    private async Task<Seat?> WaitAsync(Waiter waiter, TimeSpan queueWait, CancellationToken cancelled)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancelled);
        timeout.CancelAfter(queueWait);
        await using var registration = timeout.Token.Register(() =>
        {
            lock (_lock)
            {
                if (waiter.Node?.List is null) return; // dispatched already
                waiter.Queue.Waiting.Remove(waiter.Node);
                waiter.Node = null;
                waiter.Gate.Waiting--;
                _waiting--;
                if (cancelled.IsCancellationRequested) waiter.Gate.Cancelled++;
                else waiter.Gate.TimedOut++;
                waiter.Result.TrySetResult(null);
            }
        });
        return await waiter.Result.Task;
    }

    private bool CanDispatch(LevelGate gate) =>
        gate.Executing < gate.Limits.MinCL || (gate.Executing < gate.Limits.MaxCL && _poolUsed < _poolCapacity);

    private Seat Admit(LevelGate gate, Queue? queue, Classification classification, DateTime arrived)
    {
        if (gate.Executing >= gate.Limits.MinCL) _poolUsed++;
        gate.Executing++;
        gate.Dispatched++;
        if (queue is not null) queue.Executing++;
        var seat = new Seat(this, gate, queue, classification, arrived, DateTime.UtcNow);
        seat.Node = gate.Running.AddLast(seat);
        return seat;
    }

    private void Release(Seat seat)
    {
        var (gate, queue) = (seat.Gate!, seat.Queue);
        lock (_lock)
        {
            gate.Running.Remove(seat.Node!);
            gate.Executing--;
            if (queue is not null) queue.Executing--;
            if (gate.Executing >= gate.Limits.MinCL) _poolUsed--;
            if (_waiting > 0) DispatchWaiting(gate);
            if (gate.Retired && gate.Executing == 0 && gate.Waiting == 0 && _gates.TryGetValue(gate.Limits.Name, out var current) && current == gate)
                _gates.Remove(gate.Limits.Name);
        }
    }

    /// <summary>Hands free seats to waiting requests: first of <paramref name="first"/>, then of every level.</summary>
    private void DispatchWaiting(LevelGate? first)
    {
        if (first is not null) DispatchWaiting1(first);
        if (_waiting == 0) return;
        foreach (var gate in _gates.Values)
            if (gate.Waiting > 0) DispatchWaiting1(gate);
    }

    private void DispatchWaiting1(LevelGate gate)
    {
        while (gate.Waiting > 0 && CanDispatch(gate))
        {
            var queue = gate.NextQueue();
            var waiter = queue.Waiting.First!.Value;
            queue.Waiting.RemoveFirst();
            waiter.Node = null;
            gate.Waiting--;
            _waiting--;
            waiter.Result.TrySetResult(Admit(gate, queue, waiter.Classification, waiter.Arrived));
        }
    }

    /// <summary>The running and waiting requests of a level (for tests and diagnostics).</summary>
    public (int Executing, int Waiting) Usage(string level)
    {
        lock (_lock) return _gates.TryGetValue(level, out var gate) ? (gate.Executing, gate.Waiting) : (0, 0);
    }

    /// <summary>What the debug dumps show (kube's /debug/api_priority_and_fairness/*): every level of the configuration
    /// in name order — exempt ones too, with nothing counted, as kube's exempt levels — and each limited level's queues
    /// and its waiting and running requests. Taken under the lock, so it is one consistent moment.</summary>
    public FlowControlDump Dump()
    {
        var configuration = _configuration;
        lock (_lock)
        {
            var levels = new List<LevelDump>();
            foreach (var name in configuration.Levels.Keys.Concat(_gates.Keys).Distinct().Order(StringComparer.Ordinal))
            {
                if (!_gates.TryGetValue(name, out var gate) || (configuration.Levels.TryGetValue(name, out var limits) && limits.Exempt))
                {
                    levels.Add(new LevelDump(name, Exempt: true, Retired: false, 0, 0, 0, 0, 0, 0, [], []));
                    continue;
                }
                var queues = gate.Queues.Select(q => new QueueDump(q.Waiting.Count, q.Executing,
                    q.Waiting.Select(w => RequestDumpOf(w.Classification, w.Arrived, null)).ToList())).ToList();
                var running = gate.Running.Select(seat => (Queue: seat.Queue is null ? -1 : Array.IndexOf(gate.Queues, seat.Queue),
                    Request: RequestDumpOf(seat.Classification, seat.Arrived, seat.Started))).ToList();
                levels.Add(new LevelDump(name, Exempt: false, gate.Retired, gate.Waiting, gate.Executing, gate.Dispatched, gate.Rejected,
                    gate.TimedOut, gate.Cancelled, queues, running));
            }
            return new FlowControlDump(levels);
        }
    }

    private static RequestDump RequestDumpOf(Classification classification, DateTime arrived, DateTime? started) =>
        new(classification.Schema.Metadata.Name, classification.Distinguisher, arrived, started, classification.Request);

    /// <summary>A request's place in its level; disposing gives it back (once).</summary>
    internal sealed class Seat : IDisposable
    {
        public static readonly Seat Unlimited = new(null, null, null, null!, default, default);

        private readonly FlowControlLimiter? _owner;
        private int _released;

        internal Seat(FlowControlLimiter? owner, LevelGate? gate, Queue? queue, Classification classification, DateTime arrived, DateTime started) =>
            (_owner, Gate, Queue, Classification, Arrived, Started) = (owner, gate, queue, classification, arrived, started);

        public LevelGate? Gate { get; }
        public Queue? Queue { get; }
        public Classification Classification { get; }
        public DateTime Arrived { get; }
        public DateTime Started { get; }
        public LinkedListNode<Seat>? Node { get; set; }

        public void Dispose()
        {
            if (_owner is null || Interlocked.Exchange(ref _released, 1) == 1) return;
            _owner.Release(this);
        }
    }

    internal sealed class Queue
    {
        public readonly LinkedList<Waiter> Waiting = new();
        public int Executing;
    }

    internal sealed class Waiter(LevelGate gate, Queue queue, Classification classification, DateTime arrived)
    {
        public LevelGate Gate { get; } = gate;
        public Queue Queue { get; set; } = queue;
        public Classification Classification { get; } = classification;
        public DateTime Arrived { get; } = arrived;
        public LinkedListNode<Waiter>? Node { get; set; }
        public TaskCompletionSource<Seat?> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>One priority level's running requests and queues.</summary>
    internal sealed class LevelGate
    {
        public PriorityLevelLimits Limits { get; private set; } = null!;
        public Queue[] Queues { get; private set; } = [];
        public readonly LinkedList<Seat> Running = new();
        public int Executing;
        public int Waiting;
        public bool Retired;

        // kube's queueSet counters, since the level was made: requests given a seat, refused at once, given up in
        // their queue when the wait ran out, and given up because the client went away
        public long Dispatched;
        public long Rejected;
        public long TimedOut;
        public long Cancelled;
        private int _next;

        public LevelGate(PriorityLevelLimits limits) => Configure(limits);

        /// <summary>New limits; when the number of queues changes, waiting requests move to queue (index mod count) in order.</summary>
        public void Configure(PriorityLevelLimits limits)
        {
            Limits = limits;
            Retired = false;
            var count = limits.Queuing?.Queues ?? (Waiting > 0 ? 1 : 0);
            if (count == Queues.Length) return;
            var queues = Enumerable.Range(0, count).Select(_ => new Queue()).ToArray();
            for (var i = 0; i < Queues.Length; i++)
                foreach (var waiter in Queues[i].Waiting)
                {
                    waiter.Queue = queues[i % count];
                    waiter.Node = waiter.Queue.Waiting.AddLast(waiter);
                }
            Queues = queues;
            _next = 0;
        }

        /// <summary>The shortest queue (waiting plus running) of the flow's hand.</summary>
        public Queue ChooseQueue(ulong flowHash, int handSize)
        {
            var hand = ShuffleSharding.Deal(flowHash, Queues.Length, Math.Min(handSize, Queues.Length));
            var best = Queues[hand[0]];
            foreach (var index in hand.AsSpan(1))
            {
                var queue = Queues[index];
                if (queue.Waiting.Count + queue.Executing < best.Waiting.Count + best.Executing) best = queue;
            }
            return best;
        }

        /// <summary>The next queue with a waiting request after the last one served.</summary>
        public Queue NextQueue()
        {
            for (var i = 0; i < Queues.Length; i++)
            {
                var index = (_next + i) % Queues.Length;
                if (Queues[index].Waiting.Count == 0) continue;
                _next = (index + 1) % Queues.Length;
                return Queues[index];
            }
            throw new InvalidOperationException("no waiting request although the level counts some");
        }
    }
}
