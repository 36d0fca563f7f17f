using k8s;
using k8s.Models;
using Orchestrator.Master.Registry.Kinds.Core;
using Orchestrator.Master.Store;
using Xunit;

namespace Orchestrator.Master.Tests.Registry.Kinds;

/// <summary>Pod fields the nodes cannot honour are refused, never accepted and skipped: volume types the nodes do not
/// mount, and runtime classes (kube-apiserver's RuntimeClass admission, plus the handlers these nodes run).</summary>
public sealed class PodVolumeTypeAndRuntimeClassTests
{
    private sealed class Context(params V1RuntimeClass[] classes) : IAdmissionContext
    {
        public IReadOnlyList<IKubernetesObject<V1ObjectMeta>> List(string storeName, string? @namespace = null) =>
            storeName == "runtimeclasses" ? classes : [];
    }

    private static V1Pod Pod(Action<V1PodSpec> change)
    {
        var pod = new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = "p", NamespaceProperty = "default" },
            Spec = new V1PodSpec { Containers = [new V1Container { Name = "c", Image = "busybox" }] },
        };
        change(pod.Spec);
        return pod;
    }

    [Fact]
    public void A_volume_type_the_nodes_do_not_mount_is_refused_naming_it()
    {
        var causes = Strategies.Admit(CoreResources.Pods, Pod(s => s.Volumes =
            [new V1Volume { Name = "data", Nfs = new V1NFSVolumeSource { Server = "nfs", Path = "/export" } }]));
        var cause = Assert.Single(causes);
        Assert.Equal("spec.volumes[0].nfs", cause.Field);
        Assert.StartsWith("Forbidden: nfs volumes are not supported", cause.Message);
    }

    [Fact]
    public void A_volume_may_not_have_two_types()
    {
        // one naming none is an emptyDir (SetDefaults_Volume; ConfigStrategyTests.A_volume_without_a_source_is_an_empty_dir)
        var two = Strategies.Admit(CoreResources.Pods, Pod(s => s.Volumes =
            [new V1Volume { Name = "v", EmptyDir = new V1EmptyDirVolumeSource(), HostPath = new V1HostPathVolumeSource { Path = "/tmp" } }]));
        Assert.Contains(two, c => c.Message.Contains("may not specify more than 1 volume type"));
    }

    [Fact]
    public void The_volume_types_the_nodes_mount_are_admitted()
    {
        Assert.Empty(Strategies.Admit(CoreResources.Pods, Pod(s => s.Volumes =
        [
            new V1Volume { Name = "a", EmptyDir = new V1EmptyDirVolumeSource() },
            new V1Volume { Name = "b", ConfigMap = new V1ConfigMapVolumeSource { Name = "cm" } },
            new V1Volume { Name = "c", Secret = new V1SecretVolumeSource { SecretName = "s" } },
            new V1Volume { Name = "d", PersistentVolumeClaim = new V1PersistentVolumeClaimVolumeSource { ClaimName = "data" } },
            new V1Volume
            {
                Name = "e", Ephemeral = new V1EphemeralVolumeSource
                {
                    VolumeClaimTemplate = new V1PersistentVolumeClaimTemplate
                    {
                        Spec = new V1PersistentVolumeClaimSpec
                        {
                            AccessModes = ["ReadWriteOnce"],
                            Resources = new V1VolumeResourceRequirements { Requests = new Dictionary<string, ResourceQuantity> { ["storage"] = new("1Gi") } },
                        },
                    },
                },
            },
        ])));
    }

    [Fact]
    public void A_missing_runtime_class_is_refused_as_the_admission_plugin_refuses_it()
    {
        var cause = Assert.Single(Strategies.Admit(CoreResources.Pods, Pod(s => s.RuntimeClassName = "gvisor"), context: new Context()));
        Assert.Equal(("spec.runtimeClassName", "Forbidden: pod rejected: RuntimeClass \"gvisor\" not found"), (cause.Field, cause.Message));
    }

    [Fact]
    public void A_runtime_class_whose_handler_the_nodes_lack_is_refused_and_a_runc_one_adds_its_scheduling()
    {
        var gvisor = new V1RuntimeClass { Metadata = new V1ObjectMeta { Name = "gvisor" }, Handler = "runsc" };
        var cause = Assert.Single(Strategies.Admit(CoreResources.Pods, Pod(s => s.RuntimeClassName = "gvisor"), context: new Context(gvisor)));
        Assert.Contains("handler \"runsc\"", cause.Message);

        var runc = new V1RuntimeClass
        {
            Metadata = new V1ObjectMeta { Name = "plain" }, Handler = "runc",
            Scheduling = new V1Scheduling { NodeSelector = new Dictionary<string, string> { ["pool"] = "a" } },
        };
        var pod = Pod(s => s.RuntimeClassName = "plain");
        Assert.Empty(Strategies.Admit(CoreResources.Pods, pod, context: new Context(runc)));
        Assert.Equal("a", pod.Spec.NodeSelector["pool"]);
    }
}
