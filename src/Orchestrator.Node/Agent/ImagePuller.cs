using System.Collections.Concurrent;
using System.Diagnostics;
using Orchestrator.Node.Runtime;

namespace Orchestrator.Node.Agent;

/// <summary>The node's image pull settings: the kubelet's <c>--serialize-image-pulls</c> (one pull at a time, the
/// default) and a Docker Hub mirror (host[:port]) tried before Docker Hub.</summary>
internal sealed record ImagePullSettings(bool Serialize = true, string? Mirror = null)
{
    public static ImagePullSettings Default { get; } = new();
}

/// <summary>A finished pull as one pod saw it: the pull's own duration, and the time since the pod asked for it.</summary>
internal sealed record ImagePulled(LocalImage Image, TimeSpan Pulling, TimeSpan IncludingWaiting);

/// <summary>
/// The node's image puller, shared by its pods: a pull of an image that is already under way (with the same
/// credentials) is joined rather than started again, and with <see cref="ImagePullSettings.Serialize"/> pulls run one
/// at a time, as the kubelet's serial puller. It never decides whether to pull — the pod's supervisor does, from the
/// pull policy — and holds no state once a pull ends.
/// </summary>
internal sealed class ImagePuller(IContainerRuntime runtime, ImagePullSettings settings)
{
    private readonly ConcurrentDictionary<string, Lazy<Task<(LocalImage Image, TimeSpan Pulling)>>> _inFlight = new();
    private readonly SemaphoreSlim? _serial = settings.Serialize ? new SemaphoreSlim(1, 1) : null;
    private readonly ConcurrentDictionary<string, DateTime> _fellBack = new();

    /// <summary>How long an image built on this node whose pull failed is used without another pull attempt: an
    /// offline machine whose resolver times out would otherwise pay that timeout on every start of a stand-in image.</summary>
    public static readonly TimeSpan FallbackMemory = TimeSpan.FromMinutes(5);

    /// <summary>The pull of a locally built image failed and the local copy was used instead.</summary>
    public void FellBack(string image, DateTime now) => _fellBack[image] = now;

    /// <summary>When the image last fell back to its local copy within <see cref="FallbackMemory"/>, else null.</summary>
    public DateTime? RecentFallback(string image, DateTime now) =>
        _fellBack.TryGetValue(image, out var at) && now - at < FallbackMemory ? at : null;

    public async Task<ImagePulled> PullAsync(string image, IReadOnlyList<RegistryAuth> auths, CancellationToken ct = default)
    {
        var asked = Stopwatch.GetTimestamp();
        var key = string.Join('\n', auths.Select(a => $"{a.ServerAddress}\t{a.Username}\t{a.Password}").Prepend(image));
        var pull = _inFlight.GetOrAdd(key, k => new Lazy<Task<(LocalImage, TimeSpan)>>(() => RunAsync(k, new ImagePullRequest(image, auths, settings.Mirror))));
        var (pulled, pulling) = await pull.Value.WaitAsync(ct);
        return new ImagePulled(pulled, pulling, Stopwatch.GetElapsedTime(asked));
    }

    private async Task<(LocalImage, TimeSpan)> RunAsync(string key, ImagePullRequest request)
    {
        try
        {
            await Task.Yield(); // the Lazy is stored before the pull can end and remove it
            if (_serial is not null) await _serial.WaitAsync();
            try
            {
                var started = Stopwatch.GetTimestamp();
                var image = await runtime.PullImageAsync(request);
                return (image, Stopwatch.GetElapsedTime(started));
            }
            finally { _serial?.Release(); }
        }
        finally { _inFlight.TryRemove(key, out _); }
    }

    /// <summary>Go's duration text as the kubelet's messages show it, to the millisecond: "523ms", "1.2s", "1m5.25s".</summary>
    public static string GoDuration(TimeSpan duration)
    {
        var ms = (long)duration.TotalMilliseconds;
        if (ms < 1000) return $"{ms}ms";
        var minutes = ms / 60000;
        var seconds = (ms % 60000 / 1000m).ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);
        return minutes == 0 ? $"{seconds}s" : minutes < 60 ? $"{minutes}m{seconds}s" : $"{minutes / 60}h{minutes % 60}m{seconds}s";
    }
}
