using k8s;
using k8s.Models;
using Orchestrator.Master.Registry.Kinds.AdmissionRegistration;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;
using Xunit;

namespace Orchestrator.Master.Tests.Store;

/// <summary>metadata.generation as each kind's 1.32 registry strategy (pkg/registry/**/strategy.go) sets it.</summary>
public class GenerationSpec() : StoreSpecBase(new ObjectStoreSettings(SnapshotEvery: 1000, WatchWindow: 50))
{
    private T Update<T>(T changed, string? subresource = null) where T : IKubernetesObject<V1ObjectMeta> =>
        (T)Stored(new UpdateObject(PluralOf(changed), changed, subresource));

    private T Create<T>(string resource, T obj) where T : IKubernetesObject<V1ObjectMeta> => (T)Stored(new CreateObject(resource, obj));

    private static string PluralOf(IKubernetesObject<V1ObjectMeta> o) => o switch
    {
        V1Deployment => "deployments",
        V1PodTemplate => "podtemplates",
        V1PriorityClass => "priorityclasses",
        V1EndpointSlice => "endpointslices",
        V1Pod => "pods",
        _ => throw new ArgumentException(o.GetType().Name),
    };

    [Fact]
    public void A_deployment_bumps_on_annotation_changes_too_but_not_through_status_nor_on_spelled_out_defaults()
    {
        var created = Create("deployments", Objects.Deployment("web"));
        Assert.Equal(1, created.Metadata.Generation);

        // the defaulted spec sent back without its defaults is the same spec
        var undefaulted = Objects.Deployment("web");
        Assert.Equal(1, Update(undefaulted).Metadata.Generation);

        var annotated = KubeObjects.Clone(created);
        annotated.Metadata.Annotations = new Dictionary<string, string> { ["team"] = "a" };
        var afterAnnotation = Update(annotated);
        Assert.Equal(2, afterAnnotation.Metadata.Generation);

        // the controller's revision annotation comes through /status, as kube-controller-manager's UpdateStatus
        var revision = KubeObjects.Clone(afterAnnotation);
        revision.Metadata.Annotations!["deployment.kubernetes.io/revision"] = "1";
        revision.Status = new V1DeploymentStatus { ObservedGeneration = 2 };
        var afterStatus = Update(revision, "status");
        Assert.Equal(2, afterStatus.Metadata.Generation);
        Assert.Equal("1", afterStatus.Metadata.Annotations!["deployment.kubernetes.io/revision"]);

        var labelled = KubeObjects.Clone(afterStatus);
        labelled.Metadata.Labels = new Dictionary<string, string> { ["tier"] = "web" };
        Assert.Equal(2, Update(labelled).Metadata.Generation);
    }

    [Fact]
    public void Pod_templates_and_priority_classes_keep_one_though_they_have_no_spec()
    {
        var template = Create("podtemplates", new V1PodTemplate
        {
            ApiVersion = "v1", Kind = "PodTemplate", Metadata = new V1ObjectMeta { Name = "t", NamespaceProperty = "default" },
            Template = new V1PodTemplateSpec { Spec = Objects.Pod("x").Spec },
        });
        Assert.Equal(1, template.Metadata.Generation);
        var relabelled = KubeObjects.Clone(template);
        relabelled.Metadata.Labels = new Dictionary<string, string> { ["a"] = "b" };
        var afterLabels = Update(relabelled);
        Assert.Equal(1, afterLabels.Metadata.Generation);
        var changed = KubeObjects.Clone(afterLabels);
        changed.Template.Spec.Containers[0].Image = "nginx:1.28";
        Assert.Equal(2, Update(changed).Metadata.Generation);

        var pc = Create("priorityclasses", new V1PriorityClass
        {
            ApiVersion = "scheduling.k8s.io/v1", Kind = "PriorityClass", Metadata = new V1ObjectMeta { Name = "high" }, Value = 1000,
        });
        Assert.Equal(1, pc.Metadata.Generation);
        var described = KubeObjects.Clone(pc);
        described.Description = "for important pods";
        Assert.Equal(1, Update(described).Metadata.Generation);
    }

    [Fact]
    public void An_endpoint_slice_bumps_on_any_change_but_of_metadata_and_on_label_changes()
    {
        var slice = Create("endpointslices", new V1EndpointSlice
        {
            ApiVersion = "discovery.k8s.io/v1", Kind = "EndpointSlice", AddressType = "IPv4",
            Metadata = new V1ObjectMeta { Name = "s", NamespaceProperty = "default" },
            Endpoints = [new V1Endpoint { Addresses = ["10.1.0.1"] }],
        });
        Assert.Equal(1, slice.Metadata.Generation);
        var annotated = KubeObjects.Clone(slice);
        annotated.Metadata.Annotations = new Dictionary<string, string> { ["a"] = "b" };
        var afterAnnotation = Update(annotated);
        Assert.Equal(1, afterAnnotation.Metadata.Generation);
        var labelled = KubeObjects.Clone(afterAnnotation);
        labelled.Metadata.Labels = new Dictionary<string, string> { ["a"] = "b" };
        var afterLabels = Update(labelled);
        Assert.Equal(2, afterLabels.Metadata.Generation);
        var moved = KubeObjects.Clone(afterLabels);
        moved.Endpoints[0].Addresses = ["10.1.0.2"];
        Assert.Equal(3, Update(moved).Metadata.Generation);
    }

    [Fact]
    public void Kinds_with_a_spec_whose_strategy_keeps_none_get_none()
    {
        var hpa = Create("horizontalpodautoscalers", new V2HorizontalPodAutoscaler
        {
            ApiVersion = "autoscaling/v2", Kind = "HorizontalPodAutoscaler",
            Metadata = new V1ObjectMeta { Name = "h", NamespaceProperty = "default" },
            Spec = new V2HorizontalPodAutoscalerSpec
            {
                MaxReplicas = 3,
                ScaleTargetRef = new V2CrossVersionObjectReference { ApiVersion = "apps/v1", Kind = "Deployment", Name = "web" },
            },
        });
        Assert.Null(hpa.Metadata.Generation);
        var node = Create("csinodes", new V1CSINode
        {
            ApiVersion = "storage.k8s.io/v1", Kind = "CSINode", Metadata = new V1ObjectMeta { Name = "n1" },
            Spec = new V1CSINodeSpec { Drivers = [] },
        });
        Assert.Null(node.Metadata.Generation);
        var api = Create("apiservices", new V1APIService
        {
            ApiVersion = "apiregistration.k8s.io/v1", Kind = "APIService", Metadata = new V1ObjectMeta { Name = "v1.example.com" },
            Spec = new V1APIServiceSpec { Group = "example.com", Version = "v1", GroupPriorityMinimum = 100, VersionPriority = 10 },
        });
        Assert.Null(api.Metadata.Generation);
    }

    [Fact]
    public void A_kind_without_one_stores_a_clients_generation_as_sent_and_keeps_it_on_updates()
    {
        // BeforeCreate leaves metadata.generation alone; BeforeUpdate copies the stored one
        var sent = Objects.Pod("p");
        sent.Metadata.Generation = 5;
        var pod = Create("pods", sent);
        Assert.Equal(5, pod.Metadata.Generation);
        var changed = KubeObjects.Clone(pod);
        changed.Metadata.Generation = 9;
        changed.Metadata.Labels = new Dictionary<string, string> { ["a"] = "b" };
        Assert.Equal(5, Update(changed).Metadata.Generation);

        var deployment = Objects.Deployment("d");
        deployment.Metadata.Generation = 7;
        Assert.Equal(1, Create("deployments", deployment).Metadata.Generation);
    }

    [Fact]
    public void Webhook_configurations_keep_one_that_follows_their_webhooks()
    {
        var strategy = AdmissionRegistrationResources.ValidatingWebhookConfigurations.Strategy;
        Assert.True(strategy.HasGeneration);
        var old = new V1ValidatingWebhookConfiguration { Metadata = new V1ObjectMeta { Name = "w" }, Webhooks = [] };
        var relabelled = KubeObjects.Clone(old);
        relabelled.Metadata.Labels = new Dictionary<string, string> { ["a"] = "b" };
        Assert.False(strategy.PrepareForUpdate(relabelled, KubeObjects.Clone(old)));
        var more = KubeObjects.Clone(old);
        more.Webhooks = [new V1ValidatingWebhook { Name = "a.example.com" }];
        Assert.True(strategy.PrepareForUpdate(more, KubeObjects.Clone(old)));
        Assert.True(AdmissionRegistrationResources.MutatingWebhookConfigurations.Strategy.HasGeneration);
    }
}
