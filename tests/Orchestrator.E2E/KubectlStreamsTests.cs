using Xunit;
using Xunit.Abstractions;

namespace Orchestrator.E2E;

/// <summary>
/// The kubectl commands that stream into containers, against a real cluster with the busybox stand-in:
/// <c>kubectl attach</c> (the container's main process, WebSocket channel protocol relayed to the node, Docker's attach
/// there), <c>kubectl run -it --rm</c> driven in a pseudo-terminal, <c>kubectl cp</c> both ways (tar over exec) and
/// <c>kubectl debug -it</c> with an ephemeral container in the target container's process namespace.
/// Every pod has a unique name and is deleted at the end.
/// </summary>
[TestCaseOrderer(StepOrderer.TypeName, StepOrderer.AssemblyName)]
[Collection(SharedClusterCollection.Name)]
public sealed class KubectlStreamsTests(ClusterFixture cluster, ITestOutputHelper output)
{
    private static readonly string Suffix = Guid.NewGuid().ToString("N")[..6];

    [Fact, Step(1)]
    public async Task Run_it_rm_gives_a_terminal_whose_commands_answer_and_deletes_the_pod_after_exit()
    {
        var name = $"debug-{Suffix}";
        // terminationGracePeriodSeconds 1 (--overrides): the pod's shell is PID 1 and ignores SIGTERM, so with the
        // default 30 s the test only waited out the grace period before the pod was gone; what is tested here is that
        // kubectl deletes it after the session, not the grace period.
        var session = await Terminal.Run(cluster.Environment,
        [
            new("If you don't see a command prompt, try pressing enter.", "\r"),
            new("# ", "echo answer-$((6*7))\r"),
            new("answer-42", "exit\r"),
        ], "kubectl", "--context", ClusterFixture.Context, "run", "-it", "--rm", name, "--image=busybox",
            "--overrides={\"apiVersion\":\"v1\",\"spec\":{\"terminationGracePeriodSeconds\":1}}", "--", "sh");
        output.WriteLine(session.ToString());
        Assert.True(session.ExitCode == 0, session.ToString());
        Assert.Contains($"pod \"{name}\" deleted", session.Output);
        await cluster.Eventually(async () =>
        {
            var get = await cluster.Kubectl("get", "pod", name);
            Assert.Contains("NotFound", get.Error);
        }, "the pod is gone after the session");
    }

    [Fact, Step(2)]
    public async Task Attach_sends_stdin_to_the_main_process_and_returns_its_output()
    {
        var name = $"attach-{Suffix}";
        Assert.Equal(0, (await cluster.KubectlWithInput($$"""
            apiVersion: v1
            kind: Pod
            metadata: { name: {{name}} }
            spec:
              restartPolicy: Never
              containers:
              - name: echo
                image: busybox:1.36
                imagePullPolicy: IfNotPresent
                stdin: true
                stdinOnce: true
                command: [sh, -c, 'while read line; do echo "got-$line"; done; echo "stdin closed"']
            """, "apply", "-f", "-")).ExitCode);
        try
        {
            await cluster.Eventually(async () =>
                Assert.Equal("Running", (await cluster.Kubectl("get", "pod", name, "-o", "jsonpath={.status.phase}")).Output), "the pod runs");
            var missing = await cluster.Kubectl("attach", name, "-c", "nope");
            Assert.NotEqual(0, missing.ExitCode);
            Assert.Contains("nope", missing.Error);

            var attach = await cluster.KubectlWithInput("one\ntwo\n", "attach", "-i", name);
            output.WriteLine(attach.ToString());
            Assert.True(attach.ExitCode == 0, attach.ToString());
            Assert.Contains("got-one\ngot-two\nstdin closed\n", attach.Output.Replace("\r\n", "\n"));
            await cluster.Eventually(async () =>
                Assert.Equal("Succeeded", (await cluster.Kubectl("get", "pod", name, "-o", "jsonpath={.status.phase}")).Output),
                "the container ends when its stdin closes (stdinOnce)");

        }
        finally
        {
            await cluster.Kubectl("delete", "pod", name, "--wait=false");
        }
    }

    [Fact, Step(3)]
    public async Task Cp_copies_a_directory_into_a_pod_and_back_with_equal_contents()
    {
        var name = $"cp-{Suffix}";
        Assert.Equal(0, (await cluster.Kubectl("run", name, "--image=busybox:1.36", "--image-pull-policy=IfNotPresent", "--restart=Never",
            "--", "sleep", "3600")).ExitCode);
        var local = Directory.CreateTempSubdirectory("orchestrator-cp-").FullName;
        try
        {
            var source = Path.Combine(local, "in");
            Directory.CreateDirectory(Path.Combine(source, "sub", "deeper"));
            await File.WriteAllTextAsync(Path.Combine(source, "a.txt"), "alpha\n");
            await File.WriteAllTextAsync(Path.Combine(source, "sub", "b.txt"), string.Concat(Enumerable.Repeat("bravo ", 20000)));
            await File.WriteAllBytesAsync(Path.Combine(source, "sub", "deeper", "c.bin"), Enumerable.Range(0, 70000).Select(i => (byte)(i * 31)).ToArray());
            await cluster.Eventually(async () =>
                Assert.Equal("Running", (await cluster.Kubectl("get", "pod", name, "-o", "jsonpath={.status.phase}")).Output), "the pod runs");

            var copyIn = await cluster.Kubectl("cp", source, $"{name}:/tmp/copied");
            Assert.True(copyIn.ExitCode == 0, copyIn.ToString());
            Assert.Equal("alpha\n", (await cluster.Kubectl("exec", name, "--", "cat", "/tmp/copied/a.txt")).Output);

            var back = Path.Combine(local, "out");
            var copyOut = await cluster.Kubectl("cp", $"{name}:/tmp/copied", back);
            Assert.True(copyOut.ExitCode == 0, copyOut.ToString());
            var expected = Files(source);
            Assert.Equal(expected.Keys.Order(), Files(back).Keys.Order());
            foreach (var (path, bytes) in Files(back)) Assert.True(expected[path].SequenceEqual(bytes), $"{path} differs");
        }
        finally
        {
            Directory.Delete(local, recursive: true);
            await cluster.Kubectl("delete", "pod", name, "--wait=false");
        }
    }

    [Fact, Step(4)]
    public async Task Debug_adds_an_ephemeral_container_in_the_targets_process_namespace_with_a_terminal()
    {
        var name = $"target-{Suffix}";
        Assert.Equal(0, (await cluster.Kubectl("run", name, "--image=busybox:1.36", "--image-pull-policy=IfNotPresent", "--restart=Never",
            "--", "sleep", "3600")).ExitCode);
        try
        {
            await cluster.Eventually(async () =>
                Assert.Equal("Running", (await cluster.Kubectl("get", "pod", name, "-o", "jsonpath={.status.phase}")).Output), "the pod runs");
            var session = await Terminal.Run(cluster.Environment,
            [
                new("If you don't see a command prompt, try pressing enter.", "\r"),
                new("# ", "ps | grep -q '[s]leep 3600' && echo target-visible-$((2*3))\r"),
                new("target-visible-6", "exit\r"),
            ], "kubectl", "--context", ClusterFixture.Context, "debug", "-it", name, "--image=busybox:1.36", "--image-pull-policy=IfNotPresent",
                $"--target={name}", "--container=debugger", "--", "sh");
            output.WriteLine(session.ToString());
            Assert.True(session.ExitCode == 0, session.ToString());

            await cluster.Eventually(async () =>
                Assert.Equal("debugger=0", (await cluster.Kubectl("get", "pod", name, "-o",
                    "jsonpath={.status.ephemeralContainerStatuses[0].name}={.status.ephemeralContainerStatuses[0].state.terminated.exitCode}")).Output),
                "the ephemeral container's status shows it ended");
            Assert.Equal("Running", (await cluster.Kubectl("get", "pod", name, "-o", "jsonpath={.status.phase}")).Output);

        }
        finally
        {
            await cluster.Kubectl("delete", "pod", name, "--wait=false");
        }
    }

    [Fact, Step(5)]
    public async Task Image_load_makes_a_locally_built_image_runnable_on_the_node_without_a_registry()
    {
        var image = $"orchestrator-test/loaded-{Suffix}:v1";
        var context = Directory.CreateTempSubdirectory("orchestrator-load-").FullName;
        var name = $"loaded-{Suffix}";
        try
        {
            await File.WriteAllTextAsync(Path.Combine(context, "Dockerfile"), "FROM busybox:1.36\nRUN echo loaded-image-content > /marker\n");
            var build = await Command.Run("docker", ["build", "-q", "-t", image, context], new Dictionary<string, string>(), TimeSpan.FromMinutes(3));
            Assert.True(build.ExitCode == 0, build.ToString());

            var orchctl = Path.Combine(cluster.StateDir, "path", "orchctl");
            var load = await Command.Run(orchctl, ["image", "load", image], cluster.Environment, TimeSpan.FromMinutes(1));
            output.WriteLine(load.ToString());
            Assert.True(load.ExitCode == 0, load.ToString());
            Assert.Contains($"{ClusterFixture.NodeName}: {image}", load.Output);

            Assert.Equal(0, (await cluster.Kubectl("run", name, $"--image={image}", "--restart=Never", "--", "cat", "/marker")).ExitCode);
            await cluster.Eventually(async () =>
                Assert.Equal("Succeeded", (await cluster.Kubectl("get", "pod", name, "-o", "jsonpath={.status.phase}")).Output), "the pod ran the loaded image");
            Assert.Equal("loaded-image-content\n", (await cluster.Kubectl("logs", name)).Output);
        }
        finally
        {
            await cluster.Kubectl("delete", "pod", name, "--wait=false");
            await Command.Run("docker", ["rmi", "-f", image], new Dictionary<string, string>(), TimeSpan.FromMinutes(1));
            Directory.Delete(context, recursive: true);
        }
    }

    private static Dictionary<string, byte[]> Files(string root) =>
        Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(root, f), File.ReadAllBytes);
}
