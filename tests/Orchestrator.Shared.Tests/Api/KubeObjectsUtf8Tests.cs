using System.Text;
using k8s.Models;
using Orchestrator.Shared.Api;
using Xunit;

namespace Orchestrator.Shared.Tests.Api;

/// <summary>The UTF-8 methods write and read exactly what the string methods do (KubernetesJson's options, its and our
/// converters), so that text made either way is the same bytes.</summary>
public class KubeObjectsUtf8Tests
{
    private static V1Pod Pod() => new()
    {
        ApiVersion = "v1",
        Kind = "Pod",
        Metadata = new V1ObjectMeta
        {
            Name = "p", NamespaceProperty = "default", CreationTimestamp = new DateTime(2026, 12, 6, 10, 0, 0, DateTimeKind.Utc),
            Annotations = new Dictionary<string, string> { ["text"] = "say \"hi\" <b>&'+ é 日本 😀 \n end" },
        },
        Spec = new V1PodSpec
        {
            Containers =
            [
                new V1Container
                {
                    Name = "c", Image = "i",
                    Resources = new V1ResourceRequirements { Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("100m"), ["memory"] = new("1Gi") } },
                    Ports = [new V1ContainerPort { ContainerPort = 80 }],
                    LivenessProbe = new V1Probe { HttpGet = new V1HTTPGetAction { Port = "http", Path = "/" } },
                },
            ],
        },
        Status = new V1PodStatus
        {
            Phase = "Running",
            Conditions = [new V1PodCondition { Type = "Ready", Status = "True", LastTransitionTime = new DateTime(2026, 12, 6, 10, 0, 1, DateTimeKind.Utc) }],
        },
    };

    private static V1Secret Secret() => new()
    {
        Metadata = new V1ObjectMeta { Name = "s" },
        Data = new Dictionary<string, byte[]> { ["k"] = [0, 1, 2, 255] },
    };

    private static Corev1Event Event() => new()
    {
        Metadata = new V1ObjectMeta { Name = "e" },
        EventTime = new DateTime(2026, 12, 6, 10, 0, 0, 123, DateTimeKind.Utc).AddTicks(4560),
        InvolvedObject = new V1ObjectReference { Name = "p" },
    };

    public static TheoryData<object> Values() => [Pod(), Secret(), Event(), new V1ConfigMap()];

    [Theory]
    [MemberData(nameof(Values))]
    public void The_UTF8_text_is_the_strings_and_reads_back_as_it_does(object value)
    {
        var text = KubeObjects.Serialize(value);
        var utf8 = KubeObjects.SerializeToUtf8Bytes(value);
        Assert.Equal(Encoding.UTF8.GetBytes(text), utf8);
        var fromText = KubeObjects.Deserialize(text, value.GetType());
        var fromUtf8 = KubeObjects.Deserialize(utf8, value.GetType());
        Assert.IsType(value.GetType(), fromUtf8);
        Assert.Equal(KubeObjects.Serialize(fromText), KubeObjects.Serialize(fromUtf8));
        Assert.Equal(text, KubeObjects.Serialize(KubeObjects.Clone(value)));
    }

    [Fact]
    public void Same_json_compares_the_texts()
    {
        var pod = Pod();
        Assert.True(KubeObjects.SameJson(pod, KubeObjects.Clone(pod)));
        Assert.True(KubeObjects.SameJson(null, null));
        Assert.False(KubeObjects.SameJson(pod, null));
        var other = KubeObjects.Clone(pod);
        other.Metadata.Annotations["text"] += "!";
        Assert.False(KubeObjects.SameJson(pod, other));
    }

    [Fact]
    public void Null_text_is_refused_either_way()
    {
        Assert.Throws<System.Text.Json.JsonException>(() => KubeObjects.Deserialize("null", typeof(V1Pod)));
        Assert.Throws<System.Text.Json.JsonException>(() => KubeObjects.Deserialize("null"u8, typeof(V1Pod)));
    }
}
