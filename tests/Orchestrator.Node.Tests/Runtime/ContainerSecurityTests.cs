using Docker.DotNet.Models;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Orchestrator.Node.Host;
using Orchestrator.Node.Runtime;
using Orchestrator.Node.Tests.Agent;

namespace Orchestrator.Node.Tests.Runtime;

/// <summary>Each security field of a pod and its containers as the container's Docker configuration (no Docker call):
/// honoured exactly, or failing the container with the kubelet's CreateContainerConfigError message.</summary>
public sealed class ContainerSecurityTests : IDisposable
{
    private readonly DockerRuntime _runtime;
    private readonly string _seccomp = Directory.CreateTempSubdirectory("seccomp-").FullName;

    public ContainerSecurityTests()
    {
        var pods = PodNetwork.FromCidr("172.28.0.0/16");
        _runtime = new DockerRuntime(new DockerRuntimeOptions("unix:///var/run/docker.sock", "node-a", "orchestrator", "10.0.0.11",
            pods, new PodDns(pods.Gateway, "cluster.local")) { SeccompProfileRoot = _seccomp }, NullLogger<DockerRuntime>.Instance);
    }

    public void Dispose()
    {
        _runtime.Dispose();
        Directory.Delete(_seccomp, true);
    }

    private CreateContainerParameters Build(Action<V1Pod> change, ImageUser? image = null)
    {
        var pod = TestPods.Pod("web-1");
        change(pod);
        return _runtime.BuildCreateParameters(new ContainerRequest(pod, pod.Spec.Containers[0], "node-a", "10.0.0.11", 0, SandboxId: "sbx", PodIp: "172.28.0.7"),
            image ?? ImageUser.Root);
    }

    private static V1SecurityContext Context(V1Pod pod) => pod.Spec.Containers[0].SecurityContext ??= new V1SecurityContext();

    private static V1PodSecurityContext PodContext(V1Pod pod) => pod.Spec.SecurityContext ??= new V1PodSecurityContext();

    [Fact]
    public void Without_a_security_context_the_container_runs_as_dockers_default()
    {
        var p = Build(_ => { });
        Assert.False(p.HostConfig.Privileged);
        Assert.False(p.HostConfig.ReadonlyRootfs);
        Assert.Null(p.User);
        Assert.Null(p.HostConfig.CapAdd);
        Assert.Null(p.HostConfig.SecurityOpt);
        Assert.Null(p.HostConfig.PidMode);
        Assert.Null(p.HostConfig.IpcMode);
    }

    [Fact]
    public void Privileged_capabilities_and_a_read_only_root_file_system_are_dockers()
    {
        var p = Build(pod =>
        {
            Context(pod).Privileged = true;
            Context(pod).ReadOnlyRootFilesystem = true;
            Context(pod).Capabilities = new V1Capabilities { Add = ["NET_ADMIN", "SYS_TIME"], Drop = ["ALL"] };
        });
        Assert.True(p.HostConfig.Privileged);
        Assert.True(p.HostConfig.ReadonlyRootfs);
        Assert.Equal(["NET_ADMIN", "SYS_TIME"], p.HostConfig.CapAdd);
        Assert.Equal(["ALL"], p.HostConfig.CapDrop);
    }

    [Fact]
    public void RunAsUser_and_runAsGroup_make_the_user_the_containers_winning_over_the_pods()
    {
        Assert.Equal("1000:3000", Build(pod =>
        {
            PodContext(pod).RunAsUser = 1;
            PodContext(pod).RunAsGroup = 3000;
            Context(pod).RunAsUser = 1000;
        }).User);
        Assert.Equal("1", Build(pod => PodContext(pod).RunAsUser = 1).User);
        // a group alone goes with the image's user (or root)
        Assert.Equal("nginx:5", Build(pod => Context(pod).RunAsGroup = 5, new ImageUser("nginx:nginx")).User);
        Assert.Equal("0:5", Build(pod => Context(pod).RunAsGroup = 5).User);
    }

    [Fact]
    public void Supplemental_groups_and_the_fsGroup_are_added_groups()
    {
        var p = Build(pod =>
        {
            PodContext(pod).SupplementalGroups = [3000, 4000];
            PodContext(pod).FsGroup = 2000;
        });
        Assert.Equal(["3000", "4000", "2000"], p.HostConfig.GroupAdd);
    }

    [Fact]
    public void AllowPrivilegeEscalation_false_is_no_new_privileges()
    {
        Assert.Equal(["no-new-privileges"], Build(pod => Context(pod).AllowPrivilegeEscalation = false).HostConfig.SecurityOpt);
        Assert.Null(Build(pod => Context(pod).AllowPrivilegeEscalation = true).HostConfig.SecurityOpt);
    }

    [Fact]
    public void Seccomp_apparmor_and_selinux_become_security_options()
    {
        File.WriteAllText(Path.Combine(_seccomp, "audit.json"), """{"defaultAction":"SCMP_ACT_LOG"}""");
        var p = Build(pod =>
        {
            PodContext(pod).SeccompProfile = new V1SeccompProfile { Type = "Unconfined" };
            Context(pod).SeccompProfile = new V1SeccompProfile { Type = "Localhost", LocalhostProfile = "audit.json" };
            Context(pod).AppArmorProfile = new V1AppArmorProfile { Type = "Unconfined" };
            PodContext(pod).SeLinuxOptions = new V1SELinuxOptions { Type = "spc_t", Level = "s0:c1,c2" };
        });
        Assert.Equal(["seccomp={\"defaultAction\":\"SCMP_ACT_LOG\"}", "apparmor=unconfined", "label=type:spc_t", "label=level:s0:c1,c2"],
            p.HostConfig.SecurityOpt);
        Assert.Equal(["seccomp=unconfined"], Build(pod => PodContext(pod).SeccompProfile = new V1SeccompProfile { Type = "Unconfined" }).HostConfig.SecurityOpt);
        var missing = Assert.Throws<ContainerConfigException>(() =>
            Build(pod => Context(pod).SeccompProfile = new V1SeccompProfile { Type = "Localhost", LocalhostProfile = "none.json" }));
        Assert.StartsWith("failed to load seccomp profile", missing.Message);
    }

    [Fact]
    public void Host_namespaces_and_a_shared_process_namespace_are_pid_and_ipc_modes()
    {
        var host = Build(pod => { pod.Spec.HostPID = true; pod.Spec.HostIPC = true; });
        Assert.Equal(("host", "host"), (host.HostConfig.PidMode, host.HostConfig.IpcMode));
        Assert.Equal("container:sbx", Build(pod => pod.Spec.ShareProcessNamespace = true).HostConfig.PidMode);
    }

    [Fact]
    public void Unmasked_proc_clears_the_masked_paths()
    {
        var p = Build(pod => Context(pod).ProcMount = "Unmasked");
        Assert.Empty(p.HostConfig.MaskedPaths);
        Assert.Empty(p.HostConfig.ReadonlyPaths);
        Assert.Null(Build(pod => Context(pod).ProcMount = "Default").HostConfig.MaskedPaths);
    }

    [Fact]
    public void IPC_sysctls_go_to_the_container_and_network_sysctls_to_the_sandbox()
    {
        void Sysctls(V1Pod pod) => PodContext(pod).Sysctls =
            [new V1Sysctl { Name = "kernel.shm_rmid_forced", Value = "1" }, new V1Sysctl { Name = "net.ipv4.ip_local_port_range", Value = "1024 65000" }];
        Assert.Equal(new Dictionary<string, string> { ["kernel.shm_rmid_forced"] = "1" }, Build(Sysctls).HostConfig.Sysctls);
        var pod = TestPods.Pod("web-1");
        Sysctls(pod);
        var sandbox = _runtime.BuildSandboxParameters(new SandboxRequest(pod, "node-a", "10.0.0.11", 0), "172.28.0.7");
        Assert.Equal(new Dictionary<string, string> { ["net.ipv4.ip_local_port_range"] = "1024 65000" }, sandbox.HostConfig.Sysctls);
    }

    [Fact]
    public void RunAsNonRoot_refuses_a_root_image_with_the_kubelets_messages()
    {
        void NonRoot(V1Pod pod) => PodContext(pod).RunAsNonRoot = true;
        var pod = TestPods.Pod("web-1");
        var format = $"web-1_default({pod.Metadata.Uid})";

        var root = Assert.Throws<ContainerConfigException>(() => Build(NonRoot));
        Assert.StartsWith("container has runAsNonRoot and image will run as root (pod: \"web-1_default(", root.Message);
        Assert.EndsWith("container: app)", root.Message);
        Assert.Contains("image will run as root", Assert.Throws<ContainerConfigException>(() => Build(NonRoot, new ImageUser("0:0"))).Message);
        Assert.Contains("image has non-numeric user (nginx), cannot verify user is non-root",
            Assert.Throws<ContainerConfigException>(() => Build(NonRoot, new ImageUser("nginx"))).Message);
        Assert.StartsWith("container's runAsUser breaks non-root policy",
            Assert.Throws<ContainerConfigException>(() => Build(p => { NonRoot(p); Context(p).RunAsUser = 0; })).Message);
        Assert.Equal("101", Build(NonRoot, new ImageUser("101")).User ?? "101");
        Assert.Equal("1000", Build(p => { NonRoot(p); PodContext(p).RunAsUser = 1000; }).User);
    }

    [Fact]
    public void A_hostNetwork_sandbox_is_in_the_nodes_network_without_an_address_of_its_own()
    {
        var pod = TestPods.Pod("web-1");
        pod.Spec.HostNetwork = true;
        pod.Spec.HostPID = true;
        var p = _runtime.BuildSandboxParameters(new SandboxRequest(pod, "node-a", "10.0.0.11", 0), "172.28.0.7");

        Assert.Equal("host", p.HostConfig.NetworkMode);
        Assert.Null(p.NetworkingConfig);
        Assert.Null(p.Hostname); // the node's host name, as a hostNetwork pod has
        Assert.Null(p.HostConfig.PortBindings); // its ports are the node's
        Assert.Null(p.HostConfig.DNS); // ClusterFirst on the host network is Default
        Assert.Equal("host", p.HostConfig.PidMode);
        pod.Spec.DnsPolicy = "ClusterFirstWithHostNet";
        var withClusterDns = _runtime.BuildSandboxParameters(new SandboxRequest(pod, "node-a", "10.0.0.11", 0), null);
        Assert.Equal(["172.28.0.1"], withClusterDns.HostConfig.DNS);
    }
}
