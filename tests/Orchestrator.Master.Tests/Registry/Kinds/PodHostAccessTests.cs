using k8s.Models;
using Orchestrator.Master.Store;
using Orchestrator.Master.Registry.Kinds.Core;
using Orchestrator.Master.Registry.Validation;
using Xunit;

namespace Orchestrator.Master.Tests.Registry.Kinds;

/// <summary>The pod fields that reach into the node: Kubernetes' validation, and 422 for what the nodes cannot honour.</summary>
public sealed class PodHostAccessTests
{
    private static V1Pod Pod(Action<V1PodSpec> change)
    {
        var pod = new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = "p", NamespaceProperty = "default" },
            Spec = new V1PodSpec
            {
                Containers = [new V1Container { Name = "c", Image = "busybox" }],
                Volumes = [new V1Volume { Name = "data", EmptyDir = new V1EmptyDirVolumeSource() }],
            },
        };
        change(pod.Spec);
        return pod;
    }

    private static List<StoreErrorCause> Admit(V1Pod pod)
    {
        return Strategies.Admit(CoreResources.Pods, pod);
    }

    private static StoreErrorCause Single(Action<V1PodSpec> change) => Assert.Single(Admit(Pod(change)));

    private static void Mount(V1PodSpec spec, V1VolumeMount mount) => spec.Containers[0].VolumeMounts = [mount];

    [Theory]
    [InlineData("../../../etc", "Invalid value: \"../../../etc\": must not contain '..'")]
    [InlineData("a/../../b", "Invalid value: \"a/../../b\": must not contain '..'")]
    [InlineData("/etc", "Invalid value: \"/etc\": must be a relative path")]
    public void A_subPath_leaving_its_volume_is_refused_as_the_api_server_refuses_it(string subPath, string message)
    {
        var cause = Single(s => Mount(s, new V1VolumeMount { Name = "data", MountPath = "/d", SubPath = subPath }));
        Assert.Equal(("spec.containers[0].volumeMounts.subPath", "FieldValueInvalid", message), (cause.Field, cause.Reason, cause.Message));
    }

    [Fact]
    public void SubPathExpr_is_checked_the_same_way_and_excludes_subPath()
    {
        var causes = Admit(Pod(s => Mount(s, new V1VolumeMount { Name = "data", MountPath = "/d", SubPath = "a", SubPathExpr = "../$(X)" })));
        Assert.Contains(causes, c => c.Field == "spec.containers[0].volumeMounts[0].subPathExpr" && c.Message.EndsWith("subPathExpr and subPath are mutually exclusive"));
        Assert.Contains(causes, c => c.Field == "spec.containers[0].volumeMounts.subPathExpr" && c.Message.EndsWith("must not contain '..'"));
        Assert.Empty(Admit(Pod(s => Mount(s, new V1VolumeMount { Name = "data", MountPath = "/d", SubPathExpr = "logs/$(POD_NAME)" }))));
    }

    [Fact]
    public void A_subPath_inside_its_volume_and_templates_of_pods_are_accepted()
    {
        Assert.Empty(Admit(Pod(s => Mount(s, new V1VolumeMount { Name = "data", MountPath = "/d", SubPath = "a/b..c/./d" }))));
        var causes = new List<StoreErrorCause>();
        PodSpecs.Validate(Pod(s => Mount(s, new V1VolumeMount { Name = "data", MountPath = "/d", SubPath = ".." })).Spec, "spec.template.spec", causes);
        Assert.Equal("spec.template.spec.containers[0].volumeMounts.subPath", Assert.Single(causes).Field);
    }

    [Fact]
    public void HostPath_needs_a_path_without_backsteps_and_a_known_type()
    {
        Assert.Equal("spec.volumes[0].hostPath.path",
            Single(s => s.Volumes = [new V1Volume { Name = "h", HostPath = new V1HostPathVolumeSource { Path = "/var/../etc" } }]).Field);
        var type = Single(s => s.Volumes = [new V1Volume { Name = "h", HostPath = new V1HostPathVolumeSource { Path = "/", Type = "Anything" } }]);
        Assert.Equal(("spec.volumes[0].hostPath.type", "FieldValueNotSupported"), (type.Field, type.Reason));
        // hostPath / and the Docker socket stay allowed (who may use them is Pod Security's decision)
        Assert.Empty(Admit(Pod(s => s.Volumes = [new V1Volume { Name = "h", HostPath = new V1HostPathVolumeSource { Path = "/var/run/docker.sock", Type = "Socket" } }])));
    }

    [Fact]
    public void Honoured_security_fields_are_accepted()
    {
        Assert.Empty(Admit(Pod(s =>
        {
            s.HostNetwork = true;
            s.HostPID = true;
            s.HostIPC = true;
            s.DnsPolicy = "ClusterFirstWithHostNet";
            s.SecurityContext = new V1PodSecurityContext
            {
                RunAsUser = 1000, RunAsGroup = 1000, RunAsNonRoot = true, FsGroup = 2000, SupplementalGroups = [3000],
                SeccompProfile = new V1SeccompProfile { Type = "RuntimeDefault" },
            };
            s.Containers[0].SecurityContext = new V1SecurityContext
            {
                Privileged = true, ReadOnlyRootFilesystem = true, AllowPrivilegeEscalation = true, ProcMount = "Default",
                Capabilities = new V1Capabilities { Add = ["NET_ADMIN"], Drop = ["ALL"] },
                AppArmorProfile = new V1AppArmorProfile { Type = "Localhost", LocalhostProfile = "k8s-nginx" },
                SeLinuxOptions = new V1SELinuxOptions { Level = "s0:c123,c456" },
            };
        })));
    }

    [Theory]
    [InlineData("windowsOptions")]
    [InlineData("bindMountOptions")]
    public void Fields_the_nodes_cannot_honour_are_refused_naming_the_field(string field)
    {
        var cause = Single(s =>
        {
            switch (field)
            {
                case "windowsOptions": s.SecurityContext = new V1PodSecurityContext { WindowsOptions = new V1WindowsSecurityContextOptions { RunAsUserName = "x" } }; break;
                case "bindMountOptions": Mount(s, new V1VolumeMount { Name = "data", MountPath = "/d", BindMountOptions = ["noexec"] }); break;
            }
        });
        Assert.EndsWith(field, cause.Field);
        Assert.StartsWith("spec.", cause.Field);
    }

    [Fact]
    public void Sysctls_outside_the_safe_set_or_in_a_host_namespace_are_refused()
    {
        Assert.Empty(Admit(Pod(s => s.SecurityContext = new V1PodSecurityContext
        {
            Sysctls = [new V1Sysctl { Name = "kernel.shm_rmid_forced", Value = "1" }, new V1Sysctl { Name = "net.ipv4.tcp_syncookies", Value = "1" }],
        })));
        var unsafeOne = Single(s => s.SecurityContext = new V1PodSecurityContext { Sysctls = [new V1Sysctl { Name = "kernel.msgmax", Value = "1" }] });
        Assert.Equal(("spec.securityContext.sysctls[0].name", "FieldValueForbidden"), (unsafeOne.Field, unsafeOne.Reason));
        Assert.Contains("forbidden sysctl: \"kernel.msgmax\" not allowlisted", unsafeOne.Message);
        var hostNet = Single(s =>
        {
            s.HostNetwork = true;
            s.SecurityContext = new V1PodSecurityContext { Sysctls = [new V1Sysctl { Name = "net.ipv4.tcp_syncookies", Value = "1" }] };
        });
        Assert.EndsWith("may not be specified when 'hostNetwork' is true", hostNet.Message);
    }

    [Fact]
    public void HostNetwork_ports_get_their_containerPort_as_hostPort_and_may_not_differ()
    {
        var pod = Pod(s =>
        {
            s.HostNetwork = true;
            s.Containers[0].Ports = [new V1ContainerPort { ContainerPort = 8080 }];
        });
        Assert.Empty(Admit(pod));
        Assert.Equal(8080, pod.Spec.Containers[0].Ports[0].HostPort);
        var cause = Single(s =>
        {
            s.HostNetwork = true;
            s.Containers[0].Ports = [new V1ContainerPort { ContainerPort = 8080, HostPort = 9090 }];
        });
        Assert.Equal(("spec.containers[0].ports[0].hostPort", "Invalid value: 9090: must match `containerPort` when `hostNetwork` is true"), (cause.Field, cause.Message));
    }

    [Fact]
    public void Mount_propagation_and_recursive_read_only_follow_kubernetes_rules()
    {
        var bidirectional = Single(s => Mount(s, new V1VolumeMount { Name = "data", MountPath = "/d", MountPropagation = "Bidirectional" }));
        Assert.Equal(("spec.containers[0].volumeMounts.mountPropagation", "Forbidden: Bidirectional mount propagation is available only to privileged containers"),
            (bidirectional.Field, bidirectional.Message));
        var rro = Single(s => Mount(s, new V1VolumeMount { Name = "data", MountPath = "/d", RecursiveReadOnly = "Enabled" }));
        Assert.Equal(("spec.containers[0].volumeMounts[0].recursiveReadOnly", "Forbidden: may only be specified when readOnly is true"), (rro.Field, rro.Message));
    }

    [Fact]
    public void Contradicting_security_settings_are_invalid()
    {
        var escalation = Single(s => s.Containers[0].SecurityContext = new V1SecurityContext { Privileged = true, AllowPrivilegeEscalation = false });
        Assert.EndsWith("cannot set `allowPrivilegeEscalation` to false and `privileged` to true", escalation.Message);
        var seccomp = Single(s => s.SecurityContext = new V1PodSecurityContext { SeccompProfile = new V1SeccompProfile { Type = "Localhost" } });
        Assert.Equal("spec.securityContext.seccompProfile.localhostProfile", seccomp.Field);
        var shared = Single(s => { s.HostPID = true; s.ShareProcessNamespace = true; });
        Assert.Equal("spec.shareProcessNamespace", shared.Field);
        var negative = Single(s => s.Containers[0].SecurityContext = new V1SecurityContext { RunAsUser = -1 });
        Assert.Equal(("spec.containers[0].securityContext.runAsUser", "Invalid value: -1: must be between 0 and 2147483647, inclusive"), (negative.Field, negative.Message));
    }
}
