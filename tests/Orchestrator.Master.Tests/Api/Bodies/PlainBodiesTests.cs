using System.Text;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Http;
using Orchestrator.Master.Api.Bodies;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Tests.Registry;
using Orchestrator.Shared.Api;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Bodies;

/// <summary>Bodies decoded straight from their text decode to what the tree makes of them; the others are left to the
/// tree (its warnings, removals, zero values and messages).</summary>
public sealed class PlainBodiesTests
{
    private static (IKubernetesObject<V1ObjectMeta> Object, string? Kind, string? ApiVersion) ThroughTree(string body, ResourceDescription resource)
    {
        var context = new DefaultHttpContext();
        var json = RequestBodies.ParseObject(context, Encoding.UTF8.GetBytes(body), "application/json", resource.Kind,
            resource.Version, FieldValidation.Warn, acceptsProtobuf: true);
        var kind = json["kind"]?.ToString();
        var apiVersion = json["apiVersion"]?.ToString();
        var obj = RequestBodies.ToObject(context, json, resource, FieldValidation.Warn);
        Assert.False(context.Response.Headers.ContainsKey("Warning"));
        return (obj, kind, apiVersion);
    }

    public static TheoryData<string, string> Plain => new()
    {
        { "configmaps", """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","labels":{"bench":"api"}},"data":{"key":"value"}}""" },
        { "configmaps", """ { "metadata" : { "name" : "b\u0041\n", "annotations": {"x\"y": "<>&'+ é \u2028 \ud83d\ude00"}, "creationTimestamp": null }, "data": {} } """ },
        { "configmaps", """{"kind":null,"apiVersion":"v1","metadata":{"name":"c","finalizers":["a","b"]},"binaryData":{"k":"AAEC"},"immutable":true}""" },
        { "secrets", """{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"},"data":{"a":"aGVsbG8="},"stringData":{"b":"c"},"type":"Opaque"}""" },
        { "pods", """
          {"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","labels":{"app":"x"}},
           "spec":{"containers":[{"name":"c","image":"nginx","ports":[{"containerPort":80,"protocol":"TCP"}],
             "resources":{"limits":{"cpu":"500m","memory":"1Gi"},"requests":{"cpu":0.25}},
             "livenessProbe":{"httpGet":{"port":"http","path":"/"},"initialDelaySeconds":5},
             "readinessProbe":{"tcpSocket":{"port":8080}},"env":[{"name":"A","value":"1.50"}]}],
             "tolerations":[{"key":"k","operator":"Exists","tolerationSeconds":100}],"terminationGracePeriodSeconds":30,
             "nodeSelector":{"a":"b"},"securityContext":{"runAsUser":1000}}}
          """ },
        { "deployments", """
          {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},
           "spec":{"replicas":3,"selector":{"matchLabels":{"app":"x"}},"strategy":{"rollingUpdate":{"maxSurge":"25%","maxUnavailable":1}},
             "template":{"metadata":{"labels":{"app":"x"},"creationTimestamp":null},"spec":{"containers":[{"name":"c","image":"i"}]}}}}
          """ },
    };

    [Theory]
    [MemberData(nameof(Plain))]
    public void A_plain_body_decodes_to_what_the_tree_makes_of_it(string plural, string body)
    {
        var resource = BuiltIn.All.First(r => r.Resource == plural);
        var plain = PlainBodies.TryDecode(Encoding.UTF8.GetBytes(body), resource, out var kind, out var apiVersion);
        Assert.NotNull(plain);
        var tree = ThroughTree(body, resource);
        Assert.Equal(resource.ObjectType, plain.GetType());
        Assert.Equal(KubeObjects.Serialize(tree.Object), KubeObjects.Serialize(plain));
        Assert.Equal(tree.Kind, kind);
        Assert.Equal(tree.ApiVersion, apiVersion);
    }

    public static TheoryData<string, string> NotPlain => new()
    {
        // the tree reports (or drops) these
        { "configmaps", """{"metadata":{"name":"a"},"data":{"a":"1"},"data":{"b":"2"}}""" },
        { "configmaps", """{"metadata":{"name":"a","labels":{"x":"1","x":"2"}}}""" },
        { "configmaps", """{"metadata":{"name":"a"},"extra":1}""" },
        { "configmaps", """{"metadata":{"name":"a","nameX":"b"}}""" },
        { "pods", """{"metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"i","restartPolicyRules":[]}]}}""" },
        { "pods", """{"metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"i","unknown":{"a":[1]}}]}}""" },
        // nulls the tree gives Go's zero value
        { "configmaps", """{"metadata":{"name":"a","labels":{"x":null}}}""" },
        { "configmaps", """{"metadata":{"name":"a","finalizers":[null]}}""" },
        { "pods", """{"metadata":{"name":"p"},"spec":{"containers":[null]}}""" },
        // apiVersion and kind the tree reads with ToString
        { "configmaps", """{"kind":5,"metadata":{"name":"a"}}""" },
        { "configmaps", """{"apiVersion":{"a":"v1"},"metadata":{"name":"a"}}""" },
        // refused: the tree's message
        { "configmaps", """{"metadata":"a"}""" },
        { "configmaps", """{"metadata":{"name":"a"},"data":{"k":1}}""" },
        { "configmaps", """{"metadata":{"name":"a"}""" },
        { "configmaps", """["a"]""" },
        { "configmaps", "" },
        { "configmaps", "\uFEFF{\"metadata\":{\"name\":\"a\"}}" },
    };

    [Theory]
    [MemberData(nameof(NotPlain))]
    public void Other_bodies_are_left_to_the_tree(string plural, string body)
    {
        var resource = BuiltIn.All.First(r => r.Resource == plural);
        Assert.Null(PlainBodies.TryDecode(Encoding.UTF8.GetBytes(body), resource, out _, out _));
    }

    [Fact]
    public void A_resource_with_a_schema_of_its_own_is_left_to_the_tree()
    {
        var widgets = new ResourceDescription
        {
            Group = "example.com", Version = "v1", Resource = "widgets", Kind = "Widget", Namespaced = true,
            ObjectType = typeof(CustomObject), Strategy = new ModelStrategy<V1ConfigMap>(),
        };
        Assert.Null(PlainBodies.TryDecode("""{"metadata":{"name":"a"}}"""u8.ToArray(), widgets, out _, out _));
    }
}
