using System.Runtime.InteropServices;
using Orchestrator.Master;
using Orchestrator.Node;
using Orchestrator.Shared.Hosting;

namespace Orchestrator.AllInOne;

/// <summary>
/// <c>orchestrator-all-in-one [master flags] [-- node flags]</c>: the master and one node in one process (issue 19;
/// k3s' server runs its agent the same way). Each keeps its own host, Kestrel, configuration and actor system, and the
/// node joins the master over the same cluster protocol as a node process would (Akka remoting, loopback TLS); what they
/// share is the runtime, the mapped assemblies and the JIT's code. The node starts once the master is Up in its own
/// cluster (its cluster port listens, cluster.pfx exists), while the master's API still starts. SIGTERM/SIGINT stop the node first, then the
/// master. When either ends by itself (an error, or its host stopped by a failed background service) the other is
/// stopped and the process exits non-zero, its last line naming the half and its error; an exception nothing caught
/// ends it at once the same way.
/// </summary>
internal static class AllInOneProgram
{
    public static async Task<int> Main(string[] args)
    {
        AppDomain.CurrentDomain.UnhandledException += (_, e) => Crash(e.ExceptionObject);
        var (masterArgs, nodeArgs, error) = AllInOneArguments.Split(args);
        if (error is not null)
        {
            Console.Error.WriteLine($"{AllInOneArguments.Program}: {error}");
            return 2;
        }
        if (AllInOneArguments.WantsHelp(masterArgs)) return Help();

        // Both command lines checked before anything starts: a bad node flag must not leave a master running.
        var masterFlags = MasterFlags.Definition.Resolve(masterArgs);
        if (masterFlags.Exit is { } masterExit) return masterExit;
        var certificate = Path.Combine(masterFlags["data-dir"]!, Master.Api.Security.ClusterCertificate.FileName);
        var (node, nodeExit) = NodeProgram.Parse(AllInOneArguments.NodeArgs(nodeArgs, masterFlags["cluster-address"]!,
            masterFlags["cluster-port"]!, certificate));
        if (node is null) return nodeExit;

        using var stopNode = new CancellationTokenSource();
        using var stopMaster = new CancellationTokenSource();
        // the process's signals are ours (the hosts' own console lifetimes are off): the node leaves first; before
        // the node runs, the master (perhaps still starting) stops at once
        var gate = new object();
        var nodeRunning = false;
        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            lock (gate)
            {
                stopNode.Cancel();
                if (!nodeRunning) stopMaster.Cancel();
            }
        }
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var quit = PosixSignalRegistration.Create(PosixSignal.SIGQUIT, Stop);

        // the first error of either half (the one line its program writes), repeated as the process's last line
        string? masterError = null, nodeError = null;
        var masterStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // the master keeps the idle trim: it measures the whole process's allocations and heap
        var master = Guard("master", () => MasterProgram.RunAsync(masterArgs,
            new Embedding("[master] ", stopMaster.Token, TrimsMemory: true)
            {
                Started = () => masterStarted.TrySetResult(),
                Failed = e => Interlocked.CompareExchange(ref masterError, e, null),
            }), e => Interlocked.CompareExchange(ref masterError, e, null));

        // The node starts once the master is Up. Its host started beside the master's host build (at the master's
        // Prepared, startfast2) took longer to Ready on 2 cores, not shorter: the two starts share the cores, and the
        // master's path (its actor system, then the store's recovery) waited for the node's (bench/startup.md "startup3").
        if (await Task.WhenAny(master, masterStarted.Task) == master)
            return await master; // it ended before it could be joined (its error is written, the last line)
        if (NodeProgram.CheckClusterCertificate(node) is { } refused)
            return await StopMaster(stopMaster, master, refused);
        bool stopping;
        lock (gate)
        {
            stopping = stopNode.IsCancellationRequested;
            nodeRunning = !stopping;
        }
        if (stopping) return await StopMaster(stopMaster, master, 0);
        var nodeRun = Guard("node", () => NodeProgram.RunAsync(node, new Embedding("[node] ", stopNode.Token, TrimsMemory: false)
        {
            JoinAfter = masterStarted.Task,
            Failed = e => Interlocked.CompareExchange(ref nodeError, e, null),
        }), e => Interlocked.CompareExchange(ref nodeError, e, null));

        if (await Task.WhenAny(master, nodeRun) == nodeRun)
        {
            var nodeCode = await nodeRun;
            if (stopNode.IsCancellationRequested) return await StopMaster(stopMaster, master, nodeCode); // a signal (0), or failed while stopping
            // The node ended by itself: the master goes too (one process: a master without its node is half a cluster
            // that looks whole), and the process fails, whatever code the node ended with.
            var code = await StopMaster(stopMaster, master, nodeCode != 0 ? nodeCode : 1);
            return Failed(code, AllInOneFailure.Ended("node", nodeError));
        }
        // The master ended first. After a signal that is the stop (Akka's own SIGTERM hook has its actor system leave,
        // and its host stops with it, while the node still stops); else it ended by itself: the node goes too, and the
        // process fails.
        var signalled = stopNode.IsCancellationRequested;
        stopNode.Cancel();
        var nodeEnd = await nodeRun;
        var masterCode = await master;
        if (signalled) return masterCode != 0 ? masterCode : nodeEnd;
        return Failed(masterCode != 0 ? masterCode : 1, AllInOneFailure.Ended("master", masterError));
    }

    /// <summary>Both halves have stopped after one failed: the line saying which and why, then the exit at once. What a
    /// failed half may leave running (a node whose host failed to start leaves its actor system, whose exit handler
    /// would try for seconds to leave a cluster whose master is gone) neither delays the exit nor logs after that line,
    /// which is the log's last (deploy/up.sh shows it when a start fails).</summary>
    private static int Failed(int code, string line)
    {
        Console.Out.Flush();
        Console.Error.WriteLine(line);
        Console.Error.Flush();
        ExitNow(code);
        return code;
    }

    /// <summary>The master stopped after the node: the process exits with <paramref name="code"/> unless the master then
    /// fails.</summary>
    private static async Task<int> StopMaster(CancellationTokenSource stopMaster, Task<int> master, int code)
    {
        stopMaster.Cancel();
        var masterCode = await master;
        return code != 0 ? code : masterCode;
    }

    /// <summary>A run that throws (a port taken when Kestrel or remoting binds: orchestrator-master alone would end
    /// with the runtime's unhandled-exception report) ends with exit code 1 and one line naming the part.</summary>
    private static async Task<int> Guard(string part, Func<Task<int>> run, Action<string> failed)
    {
        try
        {
            return await Task.Run(run);
        }
        catch (OperationCanceledException)
        {
            return 0; // stopped while it started
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"{AllInOneArguments.Program}: the {part} failed: {e.GetBaseException().Message}");
            failed(e.GetBaseException().Message);
            return 1;
        }
    }

    /// <summary>An exception nothing caught, on any thread of either half. The runtime would end the process with its
    /// report and SIGABRT; here the report, then one line naming the half as the log's last, and exit code 1 at once
    /// (as a half that fails): nothing of either half runs on after a state nobody expected.</summary>
    private static void Crash(object exception)
    {
        Console.Error.WriteLine($"Unhandled exception. {exception}");
        Console.Error.WriteLine(exception is Exception e ? AllInOneFailure.Unhandled(e)
            : $"{AllInOneArguments.Program}: an exception nothing caught ({exception}); the process ends, the master and the node with it");
        Console.Error.Flush();
        ExitNow(1);
    }

    /// <summary>_exit(2): ends the process without running exit handlers (Akka's coordinated shutdown on ProcessExit
    /// would wait on actors of a process in a state nobody expected).</summary>
    [DllImport("libc", EntryPoint = "_exit")]
    private static extern void ExitNow(int status);

    private static int Help()
    {
        Console.WriteLine($"""
            The Orchestrator master and one node in one process (as k3s' server with its agent): less memory and a
            faster start than the two processes, the same cluster protocol between them.

            {AllInOneArguments.Usage}

            The master's flags come first, the node's after '--'; each part is read as orchestrator-master and
            orchestrator-node read theirs (with their ORCHESTRATOR_MASTER_* / ORCHESTRATOR_NODE_* variables and --config
            files). The node's --master and --cluster-cert default to this master's --cluster-address:--cluster-port and
            <data-dir>/cluster.pfx. `{AllInOneArguments.Program} -- --help` lists the node's flags.
            SIGTERM or SIGINT stops the node, then the master. If either ends by itself, the other is stopped and the
            process exits non-zero, its last line naming which failed and why.

            The master's flags:
            """);
        MasterFlags.Definition.Resolve(["--help"]);
        return 0;
    }
}
