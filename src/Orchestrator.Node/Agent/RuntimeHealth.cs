namespace Orchestrator.Node.Agent;

/// <summary>
/// What the node knows of its container runtime, for the Ready condition and for pausing pod syncs (the kubelet's
/// runtimeState, pkg/kubelet/runtime.go). A check the engine answers with an error (dockerd gone: the socket refuses)
/// makes the runtime not ready at once, as cri-dockerd's Status answers RuntimeReady=false when Docker's version call
/// fails; a check that is not answered at all (dockerd hung) changes nothing until no check has succeeded for
/// <see cref="Threshold"/> (the kubelet's maxWaitForContainerRuntime, 30 s): then "container runtime is down".
/// Holds no clock and makes no call: the NodeAgent says when a check ended and asks at a time of its choosing.
/// </summary>
internal sealed class RuntimeHealth(TimeSpan threshold)
{
    public const string NotYetChecked = "container runtime status check may not have completed yet";
    public const string Down = "container runtime is down";

    private DateTime? _lastSync;
    private string? _runtimeError;
    private string? _networkError;

    public TimeSpan Threshold { get; } = threshold;

    /// <summary>The engine's version as it last answered (null until it has).</summary>
    public string? Version { get; private set; }

    /// <summary>Some check has ended with an answer (ready or not): the node can say what its runtime is.</summary>
    public bool Answered { get; private set; }

    /// <summary>The engine answered its version and the pod network is there (the kubelet's setRuntimeSync).</summary>
    public void Ready(string version, DateTime now)
    {
        Version = version;
        Answered = true;
        _lastSync = now;
        _runtimeError = null;
        _networkError = null;
    }

    /// <summary>The engine's version call failed with an answer (connection refused, an error status): the runtime is
    /// not ready now, and the last sync stays as it was.</summary>
    public void RuntimeNotReady(string error)
    {
        Answered = true;
        _runtimeError = $"container runtime not ready: RuntimeReady=false reason:DockerDaemonNotReady message:docker: failed to get docker version: {error}";
    }

    /// <summary>The engine answered but the pod network could not be ensured: the runtime itself is up (its sync counts).</summary>
    public void NetworkNotReady(string version, string error, DateTime now)
    {
        Version = version;
        Answered = true;
        _lastSync = now;
        _runtimeError = null;
        _networkError = $"container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:docker: network plugin is not ready: {error}";
    }

    /// <summary>The Ready condition's message when the node is not ready, null when it is: the kubelet's runtimeErrors
    /// and networkErrors, joined as Go's utilerrors.NewAggregate joins them.</summary>
    public string? NotReadyMessage(DateTime now)
    {
        var errors = new List<string>(3);
        if (_lastSync is not { } last) errors.Add(NotYetChecked);
        else if (last + Threshold <= now) errors.Add(Down);
        if (_runtimeError is not null) errors.Add(_runtimeError);
        if (_networkError is not null) errors.Add(_networkError);
        return errors.Count switch
        {
            0 => null,
            1 => errors[0],
            _ => "[" + string.Join(", ", errors) + "]",
        };
    }
}
