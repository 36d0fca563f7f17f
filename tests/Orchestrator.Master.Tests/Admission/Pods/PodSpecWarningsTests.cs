using k8s;
using k8s.Models;
using Orchestrator.Master.Admission.Pods;
using Orchestrator.Master.Registry.Kinds.Apps;
using Orchestrator.Master.Registry.Kinds.Core;
using Orchestrator.Master.Store;
using Xunit;

namespace Orchestrator.Master.Tests.Admission.Pods;

/// <summary>The warnings kube-apiserver 1.32 gives for the docs' pods and pod templates (kubectl prints them).</summary>
public sealed class PodSpecWarningsTests
{
    private sealed class NoObjects : IAdmissionContext
    {
        public IReadOnlyList<IKubernetesObject<V1ObjectMeta>> List(string storeName, string? @namespace = null) => [];
    }

    private static IReadOnlyList<string> Warnings(IStoredResource resource, IKubernetesObject<V1ObjectMeta> obj,
        IKubernetesObject<V1ObjectMeta>? old = null) =>
        new PodSpecWarnings().Validate(new AdmissionAttributes(resource, old is null ? AdmissionAttributes.Create : AdmissionAttributes.Update,
            null, obj, old), new NoObjects())?.Warnings ?? [];

    private static V1Pod Pod(Dictionary<string, string>? annotations = null, Action<V1PodSpec>? spec = null)
    {
        var pod = new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = "p", NamespaceProperty = "default", Annotations = annotations },
            Spec = new V1PodSpec { Containers = [new V1Container { Name = "hello", Image = "busybox:1.28" }] },
        };
        spec?.Invoke(pod.Spec);
        return pod;
    }

    [Fact]
    public void The_deprecated_AppArmor_and_seccomp_annotations_are_warned_about()
    {
        // content/en/examples/pods/security/hello-apparmor.yaml and seccomp/alpha/audit-pod.yaml: no warning before.
        // A pod's AppArmor annotation is warned of by the pod strategy, before it syncs the field (AppArmorWarningApiTests);
        // a template's here.
        Assert.Empty(Warnings(CoreResources.Pods, Pod(new() { ["container.apparmor.security.beta.kubernetes.io/hello"] = "localhost/k8s-apparmor-example-deny-write" })));
        var template = new V1PodTemplateSpec
        {
            Metadata = new V1ObjectMeta { Annotations = new Dictionary<string, string> { ["container.apparmor.security.beta.kubernetes.io/hello"] = "runtime/default" } },
            Spec = new V1PodSpec { Containers = [new V1Container { Name = "hello", Image = "busybox:1.28" }] },
        };
        Assert.Equal(["spec.template.metadata.annotations[container.apparmor.security.beta.kubernetes.io/hello]: deprecated since v1.30; use the \"appArmorProfile\" field instead"],
            Warnings(AppsResources.Deployments, new V1Deployment
            {
                Metadata = new V1ObjectMeta { Name = "d", NamespaceProperty = "default" },
                Spec = new V1DeploymentSpec { Selector = new V1LabelSelector(), Template = template },
            }));
        Assert.Equal(["metadata.annotations[seccomp.security.alpha.kubernetes.io/pod]: non-functional in v1.27+; use the \"seccompProfile\" field instead"],
            Warnings(CoreResources.Pods, Pod(new() { ["seccomp.security.alpha.kubernetes.io/pod"] = "localhost/profiles/audit.json" })));
        // with the field set the annotation says nothing more
        Assert.Empty(Warnings(CoreResources.Pods, Pod(new() { ["container.apparmor.security.beta.kubernetes.io/hello"] = "runtime/default" },
            s => s.SecurityContext = new V1PodSecurityContext { AppArmorProfile = new V1AppArmorProfile { Type = "RuntimeDefault" } })));
    }

    [Fact]
    public void Deprecated_node_labels_and_annotations_of_a_template_are_warned_about_with_the_template_path()
    {
        // content/en/examples/debug/fluentd-gcp-ds.yaml (a DaemonSet) and windows/hostpath-volume-pod.yaml (a pod)
        var template = new V1PodTemplateSpec
        {
            Metadata = new V1ObjectMeta { Annotations = new Dictionary<string, string> { ["scheduler.alpha.kubernetes.io/critical-pod"] = "" } },
            Spec = new V1PodSpec
            {
                Containers = [new V1Container { Name = "fluentd-gcp", Image = "fluentd" }],
                NodeSelector = new Dictionary<string, string> { ["beta.kubernetes.io/fluentd-ds-ready"] = "true", ["beta.kubernetes.io/os"] = "linux" },
            },
        };
        var ds = new V1DaemonSet { Metadata = new V1ObjectMeta { Name = "fluentd" }, Spec = new V1DaemonSetSpec { Template = template } };
        Assert.Equal(
        [
            "spec.template.spec.nodeSelector[beta.kubernetes.io/os]: deprecated since v1.14; use \"kubernetes.io/os\" instead",
            "spec.template.metadata.annotations[scheduler.alpha.kubernetes.io/critical-pod]: non-functional in v1.16+; use the \"priorityClassName\" field instead",
        ], Warnings(AppsResources.DaemonSets, ds));

        // an update that leaves the template alone says nothing again; a pod's update never does
        Assert.Empty(Warnings(AppsResources.DaemonSets, ds, ds));
        var pod = Pod(spec: s => s.NodeSelector = new Dictionary<string, string> { ["beta.kubernetes.io/os"] = "windows" });
        Assert.Equal(["spec.nodeSelector[beta.kubernetes.io/os]: deprecated since v1.14; use \"kubernetes.io/os\" instead"],
            Warnings(CoreResources.Pods, pod));
        Assert.Empty(Warnings(CoreResources.Pods, pod, pod));
    }

    [Fact]
    public void Duplicates_fractions_and_null_selectors_are_warned_about()
    {
        var pod = Pod(spec: s =>
        {
            s.Containers[0].Env = [new V1EnvVar { Name = "A", Value = "1" }, new V1EnvVar { Name = "A", Value = "2" }];
            s.Containers[0].Ports = [new V1ContainerPort { ContainerPort = 80, Protocol = "TCP" }, new V1ContainerPort { ContainerPort = 80, Protocol = "TCP" }];
            s.Containers[0].Resources = new V1ResourceRequirements { Requests = new Dictionary<string, ResourceQuantity> { ["memory"] = new("1500m") } };
            s.ImagePullSecrets = [new V1LocalObjectReference { Name = "regcred" }, new V1LocalObjectReference { Name = "regcred" }];
            s.TopologySpreadConstraints = [new V1TopologySpreadConstraint { MaxSkew = 1, TopologyKey = "zone", WhenUnsatisfiable = "DoNotSchedule" }];
        });
        Assert.Equal(
        [
            "spec.topologySpreadConstraints[0].labelSelector: a null labelSelector results in matching no pod",
            "spec.imagePullSecrets[1].name: duplicate name \"regcred\"",
            "spec.containers[0].resources.requests[memory]: fractional byte value \"1500m\" is invalid, must be an integer",
            "spec.containers[0].env[1]: hides previous definition of \"A\", which may be dropped when using apply",
            "spec.containers[0].ports[1]: duplicate port definition with spec.containers[0].ports[0]",
        ], Warnings(CoreResources.Pods, pod));
    }

    [Fact]
    public void A_plain_pod_gets_no_warning() => Assert.Empty(Warnings(CoreResources.Pods, Pod()));
}
