using System.Diagnostics;
using System.Formats.Tar;
using System.Net;
using System.Net.Sockets;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Orchestrator.Node.Runtime;

namespace Orchestrator.Node.Tests.Runtime;

/// <summary>
/// Builds the tiny test image (busybox from the machine, imported with `docker import`) once, and removes every
/// container labelled with this run's node name at the end. Requires Docker (CI installs it) and busybox-static.
/// </summary>
public sealed class DockerFixture : IAsyncLifetime
{
    public const string Image = "orchestrator-test/busybox:latest";
    public string NodeName { get; } = $"test-node-{Guid.NewGuid():N}"[..20];
    internal DockerRuntime Runtime { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Runtime = new DockerRuntime(new DockerRuntimeOptions("unix:///var/run/docker.sock", NodeName, "orchestrator", "127.0.0.1"),
            NullLogger<DockerRuntime>.Instance);
        await Runtime.EnsureNetworkAsync();
        if (await Runtime.FindImageAsync(Image) is null) await ImportBusyboxImage();
    }

    public async Task DisposeAsync()
    {
        foreach (var c in await Runtime.ListContainersAsync()) await Runtime.RemoveContainerAsync(c.Id);
        Runtime.Dispose();
    }

    private static async Task ImportBusyboxImage()
    {
        var busybox = new[] { "/bin/busybox", "/usr/bin/busybox" }.FirstOrDefault(File.Exists)
                      ?? throw new InvalidOperationException("busybox is required to build the test image: apt-get install -y busybox-static");
        using var tar = new MemoryStream();
        await using (var writer = new TarWriter(tar, leaveOpen: true))
        {
            await writer.WriteEntryAsync(busybox, "busybox");
            await writer.WriteEntryAsync(new PaxTarEntry(TarEntryType.Directory, "www/") { Mode = (UnixFileMode)0b111_101_101 });
        }
        tar.Position = 0;
        var import = Process.Start(new ProcessStartInfo("docker",
            ["import", "--change", "CMD [\"/busybox\",\"httpd\",\"-f\",\"-p\",\"80\",\"-h\",\"/www\"]", "-", Image])
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
        })!;
        await tar.CopyToAsync(import.StandardInput.BaseStream);
        import.StandardInput.Close();
        await import.WaitForExitAsync();
        if (import.ExitCode != 0) throw new InvalidOperationException("docker import failed: " + await import.StandardError.ReadToEndAsync());
    }
}

public sealed class DockerRuntimeTests(DockerFixture docker) : IClassFixture<DockerFixture>
{
    private readonly DockerRuntime _runtime = docker.Runtime;

    private static V1Pod Pod(string name, int hostPort) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default", Uid = Guid.NewGuid().ToString() },
        Spec = new V1PodSpec
        {
            Containers =
            [
                new V1Container
                {
                    Name = "web",
                    Image = DockerFixture.Image,
                    // the page says which pod answered, like the demo image
                    Command = ["/busybox", "sh", "-c"],
                    Args = ["echo \"host $(/busybox hostname) pod $POD_NAME/$POD_NS greeting $GREETING\" > /www/index.html && exec /busybox httpd -f -p 80 -h /www"],
                    Env =
                    [
                        new V1EnvVar { Name = "POD_NAME", ValueFrom = new V1EnvVarSource { FieldRef = new V1ObjectFieldSelector { FieldPath = "metadata.name" } } },
                        new V1EnvVar { Name = "POD_NS", ValueFrom = new V1EnvVarSource { FieldRef = new V1ObjectFieldSelector { FieldPath = "metadata.namespace" } } },
                        new V1EnvVar { Name = "WHO", Value = "world" },
                        new V1EnvVar { Name = "GREETING", Value = "hello-$(WHO)" },
                    ],
                    Ports = [new V1ContainerPort { ContainerPort = 80, HostPort = hostPort }],
                },
            ],
        },
    };

    [Fact]
    public async Task Creates_a_labelled_container_on_the_pod_network_with_its_port_published_on_the_node_address()
    {
        var hostPort = TestNetwork.FreePort();
        var pod = Pod($"web-{Guid.NewGuid():N}"[..12], hostPort);
        var request = new ContainerRequest(pod, pod.Spec.Containers[0], docker.NodeName, "127.0.0.1", RestartCount: 2);

        var id = await _runtime.CreateContainerAsync(request);
        await _runtime.StartContainerAsync(id);

        var listed = Assert.Single(await _runtime.ListContainersAsync(pod.Metadata.Uid));
        Assert.Equal((id, pod.Metadata.Name, "default", "web", 2, true), (listed.Id, listed.PodName, listed.PodNamespace, listed.ContainerName, listed.RestartCount, listed.Running));
        var observed = await _runtime.InspectContainerAsync(id);
        Assert.NotNull(observed);
        Assert.True(observed.Running);
        Assert.NotNull(observed.StartedAt);
        Assert.StartsWith("sha256:", observed.ImageId);
        Assert.False(string.IsNullOrEmpty(observed.IpAddress));

        var expected = $"host {pod.Metadata.Name} pod {pod.Metadata.Name}/default greeting hello-world";
        Assert.Equal(expected, (await TestNetwork.GetWithRetry($"http://127.0.0.1:{hostPort}/", attempts: 50)).Trim());
        Assert.Equal(expected, (await TestNetwork.GetWithRetry($"http://{observed.IpAddress}:80/", attempts: 50)).Trim()); // the host reaches pod IPs

        await _runtime.RemoveContainerAsync(id);
        Assert.Null(await _runtime.InspectContainerAsync(id));
        Assert.Empty(await _runtime.ListContainersAsync(pod.Metadata.Uid));
    }

    [Fact]
    public async Task A_sandbox_holds_the_pods_network_and_the_containers_that_join_it_share_its_address_hostname_and_ports()
    {
        var hostPort = TestNetwork.FreePort();
        var pod = Pod($"pod-{Guid.NewGuid():N}"[..12], hostPort);
        pod.Spec.Containers.Add(new V1Container
        {
            Name = "client",
            Image = DockerFixture.Image,
            Command = ["/busybox", "sleep", "3600"],
            Env = [new V1EnvVar { Name = "POD_IP", ValueFrom = new V1EnvVarSource { FieldRef = new V1ObjectFieldSelector { FieldPath = "status.podIP" } } }],
        });
        var sandbox = await _runtime.RunSandboxAsync(new SandboxRequest(pod, docker.NodeName, "127.0.0.1", 0));
        Assert.False(string.IsNullOrEmpty(sandbox.Ip));
        foreach (var c in pod.Spec.Containers)
        {
            var id = await _runtime.CreateContainerAsync(new ContainerRequest(pod, c, docker.NodeName, "127.0.0.1", 0, sandbox.Id, sandbox.Ip));
            await _runtime.StartContainerAsync(id);
        }
        var listed = await _runtime.ListContainersAsync(pod.Metadata.Uid);
        Assert.Equal(["POD", "client", "web"], listed.Select(c => c.ContainerName).Order());
        Assert.Equal(sandbox.Id, listed.Single(c => c.IsSandbox).Id);
        Assert.All(listed.Where(c => !c.IsSandbox), c => Assert.Equal(sandbox.Id, c.SandboxId));
        var client = listed.Single(c => c.ContainerName == "client").Id;
        Assert.Null((await _runtime.InspectContainerAsync(client))!.IpAddress); // no network of its own
        Assert.Equal(sandbox.Ip, (await _runtime.InspectContainerAsync(sandbox.Id))!.IpAddress);

        var expected = $"host {pod.Metadata.Name} pod {pod.Metadata.Name}/default greeting hello-world";
        Assert.Equal(expected, (await TestNetwork.GetWithRetry($"http://127.0.0.1:{hostPort}/", attempts: 50)).Trim()); // the sandbox's port
        ExecResult fromClient = new(1, "");
        for (var i = 0; i < 50 && fromClient.ExitCode != 0; i++)
        {
            if (i > 0) await Task.Delay(100);
            fromClient = await _runtime.ExecAsync(client, ["/busybox", "sh", "-c", "echo $POD_IP $(/busybox hostname); /busybox wget -qO- http://127.0.0.1:80/"]);
        }
        Assert.Equal((0, $"{sandbox.Ip} {pod.Metadata.Name}\n{expected}\n"), (fromClient.ExitCode, fromClient.Output));

        foreach (var c in listed.OrderBy(c => c.IsSandbox)) await _runtime.RemoveContainerAsync(c.Id);
        Assert.Empty(await _runtime.ListContainersAsync(pod.Metadata.Uid));
    }

    [Fact]
    public async Task A_stopped_container_reports_its_exit_code_and_times()
    {
        var pod = Pod($"job-{Guid.NewGuid():N}"[..12], TestNetwork.FreePort());
        var container = pod.Spec.Containers[0];
        container.Args = ["exit 3"];
        container.Ports = null;
        var id = await _runtime.CreateContainerAsync(new ContainerRequest(pod, container, docker.NodeName, "127.0.0.1", 0));
        await _runtime.StartContainerAsync(id);

        ContainerObservation? observed = null;
        for (var i = 0; i < 100 && observed is not { Running: false }; i++)
        {
            await Task.Delay(50);
            observed = await _runtime.InspectContainerAsync(id);
        }
        Assert.NotNull(observed);
        Assert.False(observed.Running);
        Assert.Equal(3, observed.ExitCode);
        Assert.NotNull(observed.FinishedAt);
        await _runtime.RemoveContainerAsync(id);
    }

    [Fact]
    public async Task Finds_local_images_only_and_adds_the_latest_tag()
    {
        Assert.NotNull(await _runtime.FindImageAsync("orchestrator-test/busybox"));
        Assert.Null(await _runtime.FindImageAsync("orchestrator-test/no-such-image:1.0"));
    }

    [Fact]
    public async Task Removing_or_stopping_a_missing_container_is_not_an_error()
    {
        await _runtime.StopContainerAsync("no-such-container-" + Guid.NewGuid().ToString("N"), TimeSpan.Zero);
        await _runtime.RemoveContainerAsync("no-such-container-" + Guid.NewGuid().ToString("N"));
    }

    [Fact]
    public async Task Exec_runs_in_the_container_limits_apply_and_emptyDir_is_shared_storage()
    {
        var pod = Pod($"exec-{Guid.NewGuid():N}"[..12], TestNetwork.FreePort());
        pod.Spec.Volumes = [new V1Volume { Name = "scratch", EmptyDir = new V1EmptyDirVolumeSource() }];
        var c = pod.Spec.Containers[0];
        c.VolumeMounts = [new V1VolumeMount { Name = "scratch", MountPath = "/scratch" }];
        c.Resources = new V1ResourceRequirements
        {
            Limits = new Dictionary<string, ResourceQuantity> { ["memory"] = new("64Mi"), ["cpu"] = new("500m") },
        };
        var id = await _runtime.CreateContainerAsync(new ContainerRequest(pod, c, docker.NodeName, "127.0.0.1", 0));
        await _runtime.StartContainerAsync(id);

        var written = await _runtime.ExecAsync(id, ["/busybox", "sh", "-c", "echo kept > /scratch/f && /busybox cat /scratch/f; exit 4"]);
        Assert.Equal((4, "kept\n"), (written.ExitCode, written.Output));
        var parameters = _runtime.BuildCreateParameters(new ContainerRequest(pod, c, docker.NodeName, "127.0.0.1", 0));
        Assert.Equal((64L << 20, 64L << 20, 500_000_000L), (parameters.HostConfig.Memory, parameters.HostConfig.MemorySwap, parameters.HostConfig.NanoCPUs));

        await _runtime.RemoveContainerAsync(id);
        await _runtime.RemovePodVolumesAsync(pod.Metadata.Uid);
    }
}
