using k8s;
using k8s.Models;
using Orchestrator.Master.Api.Protobuf;
using Orchestrator.Master.Tests.Registry;
using Orchestrator.Shared.Api;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Protobuf;

/// <summary>Bodies kubectl 1.32 really sent (captured by Fixtures/capture.py; headers in Fixtures/headers.txt).</summary>
internal static class Fixtures
{
    public static byte[] Read(string name) =>
        File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Api", "Protobuf", "Fixtures", name + ".bin"));

    public static T Decode<T>(string name) where T : IKubernetesObject<V1ObjectMeta> =>
        Decode<T>(Read(name));

    public static T Decode<T>(byte[] body) where T : IKubernetesObject<V1ObjectMeta>
    {
        var ok = ProtobufBodyDecoder.TryDecode(body, BuiltIn.For<T>(), out var obj, out var error);
        Assert.True(ok, error);
        Assert.Null(error);
        return Assert.IsType<T>(obj);
    }
}
