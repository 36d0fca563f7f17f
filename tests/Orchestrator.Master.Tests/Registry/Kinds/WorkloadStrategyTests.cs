using k8s.Models;
using Orchestrator.Master.Registry.Kinds.Apps;
using Orchestrator.Master.Registry.Kinds.Core;
using Orchestrator.Master.Registry.Validation;
using Orchestrator.Master.Store;
using Orchestrator.Master.Tests.Store;
using Xunit;

namespace Orchestrator.Master.Tests.Registry.Kinds;

public class WorkloadAdmissionTests
{
    private static List<StoreErrorCause> Admit(Orchestrator.Master.Registry.Catalog.ResourceDescription resource,
        k8s.IKubernetesObject<V1ObjectMeta> obj, k8s.IKubernetesObject<V1ObjectMeta>? old = null) =>
        Strategies.Admit(resource, obj, old);

    [Fact]
    public void Deployment_gets_kubernetes_defaults()
    {
        var d = Objects.Deployment("web");
        d.Spec.Replicas = null;
        d.Spec.Template.Spec.Containers[0].Image = "katacoda/docker-http-server:latest";
        d.Spec.Template.Spec.Containers[0].Ports = [new V1ContainerPort { ContainerPort = 80 }];

        Assert.Empty(Admit(AppsResources.Deployments, d));

        Assert.Equal(1, d.Spec.Replicas);
        Assert.Equal("RollingUpdate", d.Spec.Strategy.Type);
        Assert.Equal("25%", d.Spec.Strategy.RollingUpdate.MaxSurge.Value);
        Assert.Equal("25%", d.Spec.Strategy.RollingUpdate.MaxUnavailable.Value);
        Assert.Equal(10, d.Spec.RevisionHistoryLimit);
        Assert.Equal(600, d.Spec.ProgressDeadlineSeconds);
        var pod = d.Spec.Template.Spec;
        Assert.Equal("Always", pod.RestartPolicy);
        Assert.Equal("ClusterFirst", pod.DnsPolicy);
        Assert.Equal("default-scheduler", pod.SchedulerName);
        Assert.Equal(30, pod.TerminationGracePeriodSeconds);
        var c = pod.Containers[0];
        Assert.Equal("Always", c.ImagePullPolicy);
        Assert.Equal("/dev/termination-log", c.TerminationMessagePath);
        Assert.Equal("File", c.TerminationMessagePolicy);
        Assert.Equal("TCP", c.Ports[0].Protocol);
    }

    [Fact]
    public void Deployment_selector_must_match_template_labels()
    {
        var d = Objects.Deployment("web");
        d.Spec.Template.Metadata.Labels = new Dictionary<string, string> { ["app"] = "other" };

        var cause = Assert.Single(Admit(AppsResources.Deployments, d));
        Assert.Equal("spec.template.metadata.labels", cause.Field);
        Assert.Equal("Invalid value: map[string]string{\"app\":\"other\"}: `selector` does not match template `labels`", cause.Message);
    }

    [Fact]
    public void Deployment_requires_a_selector_and_containers_with_name_and_image()
    {
        var d = Objects.Deployment("web");
        d.Spec.Selector = null;
        d.Spec.Template.Spec.Containers = [new V1Container()];

        var fields = Admit(AppsResources.Deployments, d).Select(c => c.Field).ToList();
        Assert.Equal(["spec.selector", "spec.template.spec.containers[0].name", "spec.template.spec.containers[0].image"], fields);
    }

    [Fact]
    public void Deployment_selector_is_immutable()
    {
        var old = Objects.Deployment("web");
        var d = Objects.Deployment("web");
        d.Spec.Selector.MatchLabels["tier"] = "x";
        d.Spec.Template.Metadata.Labels["tier"] = "x";

        var cause = Assert.Single(Admit(AppsResources.Deployments, d, old));
        Assert.Equal("spec.selector", cause.Field);
        Assert.EndsWith("field is immutable", cause.Message);
    }

    [Theory]
    [InlineData("nginx", "Always")]
    [InlineData("nginx:latest", "Always")]
    [InlineData("nginx:1.27", "IfNotPresent")]
    [InlineData("localhost:5000/nginx", "Always")]
    [InlineData("nginx@sha256:abc", "IfNotPresent")]
    public void Pull_policy_defaults_by_tag(string image, string policy) =>
        Assert.Equal(policy, PodSpecs.PullPolicyFor(image));

    [Fact]
    public void ReplicaSet_defaults_replicas_and_checks_its_selector()
    {
        var rs = new V1ReplicaSet
        {
            Metadata = new V1ObjectMeta { Name = "rs", NamespaceProperty = "default" },
            Spec = new V1ReplicaSetSpec
            {
                Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "a" } },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = "b" } },
                    Spec = new V1PodSpec { Containers = [new V1Container { Name = "c", Image = "i" }] },
                },
            },
        };
        var cause = Assert.Single(Admit(AppsResources.ReplicaSets, rs));
        Assert.Equal("spec.template.metadata.labels", cause.Field);
        Assert.Equal(1, rs.Spec.Replicas);
    }

    [Fact]
    public void ReplicationController_selector_defaults_to_template_labels()
    {
        var rc = new V1ReplicationController
        {
            Metadata = new V1ObjectMeta { Name = "rc", NamespaceProperty = "default" },
            Spec = new V1ReplicationControllerSpec
            {
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = "a" } },
                    Spec = new V1PodSpec { Containers = [new V1Container { Name = "c", Image = "i" }] },
                },
            },
        };
        Assert.Empty(Admit(CoreResources.ReplicationControllers, rc));
        Assert.Equal("a", rc.Spec.Selector["app"]);
        Assert.Equal(1, rc.Spec.Replicas);
    }

    [Fact]
    public void Pod_requires_containers_and_starts_pending()
    {
        var empty = Objects.Pod("p");
        empty.Spec.Containers = [];
        Assert.Equal("spec.containers", Assert.Single(Admit(CoreResources.Pods, empty)).Field);

        var pod = Objects.Pod("p");
        Assert.Empty(Admit(CoreResources.Pods, pod));
        Assert.Equal("Pending", pod.Status.Phase);
        Assert.Equal("BestEffort", pod.Status.QosClass);
    }

    [Fact]
    public void Namespace_is_active_and_labelled_with_its_name()
    {
        var ns = Objects.Namespace("team");
        Assert.Empty(Admit(CoreResources.Namespaces, ns));
        Assert.Equal("Active", ns.Status.Phase);
        Assert.Equal("team", ns.Metadata.Labels["kubernetes.io/metadata.name"]);
    }
}
