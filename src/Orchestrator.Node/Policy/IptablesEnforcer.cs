using System.Net;
using Microsoft.Extensions.Logging;
using Orchestrator.Node.Host;
using Orchestrator.Node.Services;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Node.Policy;

/// <summary>
/// Keeps the node's iptables chains (<see cref="IptablesRules"/>) equal to the newest policies for the pods of this
/// node's range: one worker applies the newest view as soon as it arrives (changes that arrive meanwhile collapse into
/// one), and again every <see cref="Resync"/> so a chain or FORWARD jump that someone removed comes back, and a jump that
/// a Docker restart left below the bridge's accepts goes first again. Owns only its own chains, named per node instance; <see cref="Stop"/> removes them.
/// </summary>
internal sealed class IptablesEnforcer : IDisposable
{
    public static readonly TimeSpan Resync = TimeSpan.FromSeconds(30);

    private readonly Iptables _iptables;
    private readonly string _chain;
    private readonly PodNetwork.Cidr _range;
    private readonly string _bridge;
    private readonly ILogger _log;
    private readonly SemaphoreSlim _changed = new(0, 1);
    private readonly CancellationTokenSource _stopping = new();
    private volatile NetworkPoliciesChanged? _newest;
    private Task _worker = Task.CompletedTask;
    private bool _unavailableLogged;

    public IptablesEnforcer(Iptables iptables, string nodeName, PodNetwork network, ILogger<IptablesEnforcer> log)
    {
        _iptables = iptables;
        _range = PodNetwork.Cidr.Parse(network.IpRange);
        _bridge = network.Bridge;
        _chain = IptablesRules.ChainFor(nodeName, network.IpRange);
        _log = log;
    }

    public string Chain => _chain;

    public void Start(NetworkPolicyDirectory directory)
    {
        directory.Subscribe(changed =>
        {
            _newest = changed;
            if (_changed.CurrentCount == 0) try { _changed.Release(); } catch (SemaphoreFullException) { }
        });
        // a thread of its own: every iptables call waits for a process (and up to 5 s for the xtables lock), which on
        // the thread pool would hold one of its few threads while the node starts (issue 19: 2 cores, 2 threads at first)
        _worker = Task.Factory.StartNew(() => Run(_stopping.Token), _stopping.Token, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    private void Run(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try { _changed.Wait(Resync, stopping); }
            catch (OperationCanceledException) { return; }
            if (_newest is { } newest) Apply(newest);
        }
    }

    private bool IsLocal(IPAddress address)
    {
        var value = (uint)IPAddress.NetworkToHostOrder(BitConverter.ToInt32(address.GetAddressBytes(), 0));
        return value >= _range.Network && value < _range.End;
    }

    private void Apply(NetworkPoliciesChanged changed)
    {
        var set = new NetworkPolicySet(changed);
        var listing = _iptables.List();
        var existing = listing is null ? null : IptablesRules.ChainsIn(listing, _chain);
        if (listing is null || existing is null)
        {
            if (!_unavailableLogged) _log.LogWarning("iptables is not usable: NetworkPolicies are not enforced on the pod network of this node");
            _unavailableLogged = true;
            return;
        }
        if (set.IsEmpty && existing.Count == 0) return; // nothing to enforce, nothing to remove
        if (set.IsEmpty)
        {
            Remove(existing);
            return;
        }
        var batch = IptablesRules.Build(_chain, set, IsLocal, existing);
        if (!_iptables.Restore(batch.Text)) return;
        // first in FORWARD, ahead of Docker's accepts (our chains only drop or return); again when Docker's restart put
        // its accepts for the bridge above it
        if (!IptablesRules.JumpsBeforeAccepts(listing, _chain, _bridge))
        {
            var moved = false;
            while (_iptables.Has("FORWARD", "-j", _chain))
                if (!(moved = _iptables.Execute("-D", "FORWARD", "-j", _chain))) break;
            _iptables.Execute("-I", "FORWARD", "1", "-j", _chain);
            if (moved) _log.LogInformation("The FORWARD jump to {Chain} is first again, ahead of the accepts of {Bridge}", _chain, _bridge);
        }
        _log.LogDebug("NetworkPolicies generation {Generation}: {Chains} chains", changed.Generation, batch.Chains.Count);
    }

    private void Remove(IReadOnlyList<string> chains)
    {
        while (_iptables.Has("FORWARD", "-j", _chain))
            if (!_iptables.Execute("-D", "FORWARD", "-j", _chain)) break;
        if (chains.Count > 0) _iptables.Restore(IptablesRules.Removal(chains));
    }

    /// <summary>Stops the worker and removes the node's chains and its FORWARD jump.</summary>
    public void Stop()
    {
        _stopping.Cancel();
        try { _worker.Wait(TimeSpan.FromSeconds(10)); } catch (AggregateException) { }
        if (_iptables.List() is { } listing) Remove(IptablesRules.ChainsIn(listing, _chain));
    }

    public void Dispose()
    {
        _stopping.Dispose();
        _changed.Dispose();
    }
}
