using k8s;
using k8s.Models;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Api.Bodies;

/// <summary>
/// The seam to the protobuf decoder (Api/Protobuf, another engineer's work): kubectl sends
/// <c>application/vnd.kubernetes.protobuf</c> bodies for <c>create deployment</c> and <c>create service</c>.
/// Wire the real one with <c>services.AddSingleton&lt;IProtobufBodyDecoder, ProtobufBodyDecoderAdapter&gt;()</c>
/// where the adapter calls <c>Orchestrator.Master.Api.Protobuf.ProtobufBodyDecoder.TryDecode</c>.
/// </summary>
public interface IProtobufBodyDecoder
{
    /// <summary>False when protobuf bodies cannot be read at all (the server answers 415).</summary>
    bool IsAvailable { get; }

    bool TryDecode(ReadOnlySpan<byte> body, ApiResource resource, out IKubernetesObject<V1ObjectMeta>? obj, out string? error);
}

/// <summary>Stands in until the protobuf decoder lands: every protobuf body is an unsupported media type.</summary>
public sealed class UnavailableProtobufBodyDecoder : IProtobufBodyDecoder
{
    public bool IsAvailable => false;

    public bool TryDecode(ReadOnlySpan<byte> body, ApiResource resource, out IKubernetesObject<V1ObjectMeta>? obj,
        out string? error)
    {
        obj = null;
        error = "protobuf request bodies are not supported by this server";
        return false;
    }
}
