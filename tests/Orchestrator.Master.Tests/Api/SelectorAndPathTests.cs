using System.Text.Json.Nodes;
using k8s.Models;
using Orchestrator.Master.Api.Bodies;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Api.Rest;
using Orchestrator.Master.Tests.Registry;
using Orchestrator.Shared.Api;
using Xunit;

namespace Orchestrator.Master.Tests.Api;

public class SelectorAndPathTests
{
    [Theory]
    [InlineData("/api/v1/pods", "", null, "pods", null, null)]
    [InlineData("/api/v1/namespaces/default/pods/p1/status", "", "default", "pods", "p1", "status")]
    [InlineData("/api/v1/namespaces/default", "", null, "namespaces", "default", null)]
    [InlineData("/api/v1/namespaces/kube-system/status", "", null, "namespaces", "kube-system", "status")]
    [InlineData("/apis/apps/v1/namespaces/default/deployments/web/scale", "apps", "default", "deployments", "web", "scale")]
    [InlineData("/api/v1/nodes/n1", "", null, "nodes", "n1", null)]
    public void Paths_parse_like_the_real_request_info_factory(string path, string group, string? ns, string resource, string? name, string? sub)
    {
        var info = RequestInfo.Parse(path)!;
        Assert.Equal((group, ns, resource, name, sub), (info.Group, info.Namespace, info.ResourceName, info.Name, info.Subresource));
    }

    [Fact]
    public void Event_field_selector_matches_involved_object()
    {
        var selector = FieldSelector.Parse("involvedObject.kind=Deployment,involvedObject.name=web,type!=Warning,source=deployment-controller",
            BuiltIn.Events);
        var e = new Corev1Event
        {
            Metadata = new V1ObjectMeta { Name = "e" },
            InvolvedObject = new V1ObjectReference { Kind = "Deployment", Name = "web" },
            Type = "Normal",
            Source = new V1EventSource { Component = "deployment-controller" },
        };
        Assert.True(selector.Matches(e));
        e.InvolvedObject.Name = "other";
        Assert.False(selector.Matches(e));
    }

    [Fact]
    public void Pod_field_selector_on_node_and_phase()
    {
        var selector = FieldSelector.Parse("spec.nodeName=n1,status.phase!=Failed", BuiltIn.Pods);
        Assert.True(selector.Matches(new V1Pod { Metadata = new V1ObjectMeta { Name = "p" }, Spec = new V1PodSpec { NodeName = "n1" } }));
        Assert.False(selector.Matches(new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = "p" }, Spec = new V1PodSpec { NodeName = "n1" }, Status = new V1PodStatus { Phase = "Failed" },
        }));
    }

    [Fact]
    public void Unsupported_field_label_is_a_bad_request()
    {
        var e = Assert.Throws<ApiException>(() => FieldSelector.Parse("spec.replicas=3", BuiltIn.Deployments));
        Assert.Equal(400, e.Code);
        Assert.Contains("field label not supported: spec.replicas", e.Message);
    }

    [Fact]
    public void Strict_validation_names_unknown_fields_with_their_path()
    {
        var json = JsonNode.Parse("""
            {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"x","labelz":{}},
             "spec":{"foo":1,"template":{"spec":{"containers":[{"name":"c","imagee":"i"}]}},
                     "selector":{"matchLabels":{"any-key":"v"}}}}
            """);
        Assert.Equal(["metadata.labelz", "spec.foo", "spec.template.spec.containers[0].imagee"],
            StrictFieldValidator.UnknownFields(json, typeof(V1Deployment)).Order());
    }

    [Fact]
    public void Fields_of_releases_after_1_32_are_unknown_and_dropped()
    {
        // content/en/examples/pods/restart-policy/restart-all-containers.yaml and pods/inject/envars-file-container.yaml:
        // kube-apiserver 1.32 answers "strict decoding error: unknown field ..."; the models know these fields
        var json = JsonNode.Parse("""
            {"spec":{"initContainers":[{"name":"w","image":"i","restartPolicy":"Always",
                "restartPolicyRules":[{"action":"RestartAllContainers","exitCodes":{"operator":"In","values":[88]}}]}],
              "containers":[{"name":"c","image":"i","env":[{"name":"A","valueFrom":{"fileKeyRef":{"path":"p","volumeName":"v","key":"A"}}}],
                "lifecycle":{"stopSignal":"SIGUSR1"}}]}}
            """)!;
        Assert.Equal(["spec.containers[0].env[0].valueFrom.fileKeyRef", "spec.containers[0].lifecycle.stopSignal",
            "spec.initContainers[0].restartPolicyRules"], StrictFieldValidator.UnknownFields(json, typeof(V1Pod)).Order());

        StrictFieldValidator.RemoveLaterFields(json, typeof(V1Pod));
        Assert.Null(json["spec"]!["initContainers"]![0]!["restartPolicyRules"]);
        Assert.Equal("Always", (string?)json["spec"]!["initContainers"]![0]!["restartPolicy"]);
        Assert.Null(json["spec"]!["containers"]![0]!["env"]![0]!["valueFrom"]!["fileKeyRef"]);
        Assert.Empty(StrictFieldValidator.UnknownFields(json, typeof(V1Pod)));
    }

    [Fact]
    public void Strict_validation_accepts_int_or_string_and_quantities()
    {
        var json = JsonNode.Parse("""
            {"spec":{"ports":[{"port":80,"targetPort":"http"}]},"metadata":{"annotations":{"a":"b"}}}
            """);
        Assert.Empty(StrictFieldValidator.UnknownFields(json, typeof(V1Service)));
    }

    [Theory]
    [InlineData("application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json", ResponseForm.Table)]
    [InlineData("application/json", ResponseForm.Object)]
    [InlineData("application/vnd.kubernetes.protobuf,application/json", ResponseForm.Object)]
    [InlineData("application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io", ResponseForm.PartialObjectMetadata)]
    public void Accept_header_picks_the_answer_form(string accept, ResponseForm expected) =>
        Assert.Equal(expected, ContentNegotiation.Negotiate(accept).Form);
}
