using Xunit;
using Xunit.Abstractions;

namespace Orchestrator.E2E;

/// <summary>
/// exec and attach over SPDY/3.1, the fallback of clients without WebSockets: real kubectl with
/// <c>KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false</c> (client-go's SPDY executor), relayed by the master to the node's
/// kubelet endpoint. Output, stdin, a non-zero exit code as kubectl's exit code, and attach to a main process.
/// Every pod has a unique name and is deleted at the end.
/// </summary>
[TestCaseOrderer(StepOrderer.TypeName, StepOrderer.AssemblyName)]
[Collection(SharedClusterCollection.Name)]
public sealed class SpdyStreamsTests(ClusterFixture cluster, ITestOutputHelper output)
{
    private static readonly string Suffix = Guid.NewGuid().ToString("N")[..6];

    private Task<CommandResult> SpdyKubectl(string? input, params string[] args)
    {
        var environment = new Dictionary<string, string>(cluster.Environment) { ["KUBECTL_REMOTE_COMMAND_WEBSOCKETS"] = "false" };
        return Command.Run("kubectl", ["--context", ClusterFixture.Context, .. args], environment, TimeSpan.FromMinutes(2), input);
    }

    private async Task RunPod(string name, string containerLines)
    {
        var apply = await cluster.KubectlWithInput($$"""
            apiVersion: v1
            kind: Pod
            metadata: { name: {{name}} }
            spec:
              restartPolicy: Never
              terminationGracePeriodSeconds: 1
              containers:
            {{containerLines}}
            """, "apply", "-f", "-");
        Assert.True(apply.ExitCode == 0, apply.ToString());
        await cluster.Eventually(async () =>
            Assert.Equal("Running", (await cluster.Kubectl("get", "pod", name, "-o", "jsonpath={.status.phase}")).Output), "the pod runs");
    }

    [Fact, Step(1)]
    public async Task Exec_over_spdy_returns_output_takes_stdin_and_passes_the_exit_code_on()
    {
        var name = $"spdy-exec-{Suffix}";
        await RunPod(name, """
              - name: main
                image: busybox:1.36
                imagePullPolicy: IfNotPresent
                command: [sleep, "600"]
            """);
        try
        {
            var hostname = await SpdyKubectl(null, "exec", name, "--", "hostname");
            output.WriteLine(hostname.ToString());
            Assert.True(hostname.ExitCode == 0, hostname.ToString());
            Assert.Equal(name, hostname.Output.Trim());

            var streams = await SpdyKubectl(null, "exec", name, "--", "sh", "-c", "echo to-stdout; echo to-stderr >&2");
            Assert.True(streams.ExitCode == 0, streams.ToString());
            Assert.Equal("to-stdout", streams.Output.Trim());
            Assert.Contains("to-stderr", streams.Error);

            var piped = await SpdyKubectl("hello through spdy\nsecond line\n", "exec", "-i", name, "--", "cat");
            output.WriteLine(piped.ToString());
            Assert.True(piped.ExitCode == 0, piped.ToString());
            Assert.Equal("hello through spdy\nsecond line\n", piped.Output);

            var failing = await SpdyKubectl(null, "exec", name, "--", "sh", "-c", "exit 3");
            output.WriteLine(failing.ToString());
            Assert.Equal(3, failing.ExitCode);
            Assert.Contains("command terminated with exit code 3", failing.Error);
        }
        finally
        {
            await cluster.Kubectl("delete", "pod", name, "--wait=false");
        }
    }

    [Fact, Step(2)]
    public async Task Attach_over_spdy_sends_stdin_to_the_main_process_and_returns_its_output()
    {
        var name = $"spdy-attach-{Suffix}";
        await RunPod(name, """
              - name: echo
                image: busybox:1.36
                imagePullPolicy: IfNotPresent
                stdin: true
                stdinOnce: true
                command: [sh, -c, 'while read line; do echo "got-$line"; done; echo "stdin closed"']
            """);
        try
        {
            var attach = await SpdyKubectl("one\ntwo\n", "attach", "-i", name);
            output.WriteLine(attach.ToString());
            Assert.True(attach.ExitCode == 0, attach.ToString());
            Assert.Contains("got-one\ngot-two\nstdin closed\n", attach.Output.Replace("\r\n", "\n"));
        }
        finally
        {
            await cluster.Kubectl("delete", "pod", name, "--wait=false");
        }
    }
}
