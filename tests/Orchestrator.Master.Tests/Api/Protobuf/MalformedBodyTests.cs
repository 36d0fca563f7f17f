using System.Text;
using k8s.Models;
using Orchestrator.Master.Api.Protobuf;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Tests.Registry;
using Orchestrator.Shared.Api;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Protobuf;

/// <summary>Anything that is not a well-formed body of the endpoint's kind is refused with a message, never thrown.</summary>
public class MalformedBodyTests
{
    private static string Refused(byte[] body, Orchestrator.Master.Registry.Catalog.ResourceDescription resource)
    {
        var ok = ProtobufBodyDecoder.TryDecode(body, resource, out var obj, out var error);
        Assert.False(ok);
        Assert.Null(obj);
        Assert.False(string.IsNullOrWhiteSpace(error));
        return error!;
    }

    [Fact]
    public void An_empty_body_is_refused()
    {
        var error = Refused([], BuiltIn.Deployments);
        Assert.Contains("k8s", error);
    }

    [Fact]
    public void A_json_body_is_refused_for_lacking_the_magic_prefix()
    {
        var error = Refused(Encoding.UTF8.GetBytes("{\"kind\":\"Deployment\"}"), BuiltIn.Deployments);
        Assert.Contains("prefix", error);
    }

    [Fact]
    public void A_body_of_another_kind_is_refused_naming_both_kinds()
    {
        var error = Refused(Fixtures.Read("deployment-http"), BuiltIn.Services);
        Assert.Contains("Deployment", error);
        Assert.Contains("Service", error);
    }

    [Fact]
    public void A_body_of_the_right_kind_but_another_group_version_is_refused()
    {
        var body = ProtoWriter.Envelope("extensions/v1beta1", "Deployment", new ProtoWriter());
        var error = Refused(body, BuiltIn.Deployments);
        Assert.Contains("extensions/v1beta1", error);
    }

    [Fact]
    public void A_truncated_body_is_refused()
    {
        var body = Fixtures.Read("deployment-http");
        Refused(body[..(body.Length / 2)], BuiltIn.Deployments);
    }

    [Fact]
    public void Garbage_in_the_raw_object_is_refused()
    {
        var unknown = new ProtoWriter()
            .Message(1, t => t.String(1, "apps/v1").String(2, "Deployment"))
            .Bytes(2, [0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]);
        var error = Refused([.. "k8s\0"u8.ToArray(), .. unknown.ToArray()], BuiltIn.Deployments);
        Assert.Contains("Deployment", error);
    }

    [Fact]
    public void An_envelope_without_an_object_is_refused()
    {
        var unknown = new ProtoWriter().Message(1, t => t.String(1, "v1").String(2, "Namespace"));
        Refused([.. "k8s\0"u8.ToArray(), .. unknown.ToArray()], BuiltIn.Namespaces);
    }

    [Fact]
    public void A_compressed_object_is_refused_as_unsupported()
    {
        var body = ProtoWriter.Envelope("v1", "Namespace", new ProtoWriter(), contentEncoding: "gzip");
        var error = Refused(body, BuiltIn.Namespaces);
        Assert.Contains("gzip", error);
    }

    [Fact]
    public void An_invalid_quantity_is_refused()
    {
        var container = new ProtoWriter().String(1, "c").String(2, "nginx")
            .Message(8, r => r.QuantityEntry(1, "cpu", "lots"));
        var pod = new ProtoWriter().Message(2, spec => spec.Message(2, container));
        var error = Refused(ProtoWriter.Envelope("v1", "Pod", pod), BuiltIn.Pods);
        Assert.Contains("lots", error);
    }

    [Fact]
    public void A_kind_without_a_protobuf_decoder_is_refused_asking_for_json()
    {
        // custom resources: JSON only, as in Kubernetes (every built-in kind that takes a body has a message)
        var widgets = new ResourceDescription
        {
            Group = "example.com", Version = "v1", Resource = "widgets", Kind = "Widget", Namespaced = true,
            ObjectType = typeof(CustomObject), Strategy = new ModelStrategy<V1ConfigMap>(),
        };
        var body = ProtoWriter.Envelope("example.com/v1", "Widget", new ProtoWriter());
        var error = Refused(body, widgets);
        Assert.Contains("application/json", error);
    }

    [Fact]
    public void Every_truncation_of_every_captured_body_is_answered_without_throwing()
    {
        string[] names =
        [
            "deployment-http", "deployment-web", "deployment-sleeper-command", "service-nodeport-x",
            "service-clusterip-y", "service-externalname-ext", "namespace-demo", "configmap-c", "secret-s",
        ];
        foreach (var name in names)
        {
            var body = Fixtures.Read(name);
            var resource = name.StartsWith("deployment") ? BuiltIn.Deployments
                : name.StartsWith("service") ? BuiltIn.Services
                : name.StartsWith("namespace") ? BuiltIn.Namespaces
                : name.StartsWith("configmap") ? BuiltIn.ConfigMaps
                : BuiltIn.Secrets;
            for (var length = 0; length < body.Length; length++)
            {
                var ok = ProtobufBodyDecoder.TryDecode(body.AsSpan(0, length), resource, out _, out var error);
                Assert.True(ok || error is not null, $"{name} cut at {length}: refused without a message");
            }
        }
    }

    [Fact]
    public void Random_bytes_after_the_prefix_are_answered_without_throwing()
    {
        var random = new Random(20250101);
        for (var i = 0; i < 2000; i++)
        {
            var body = new byte[4 + random.Next(0, 64)];
            random.NextBytes(body);
            "k8s\0"u8.CopyTo(body);
            var ok = ProtobufBodyDecoder.TryDecode(body, BuiltIn.Pods, out var obj, out var error);
            Assert.True(ok ? obj is V1Pod : error is not null);
        }
    }
}
