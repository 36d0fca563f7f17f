using k8s;
using k8s.Models;
using Orchestrator.Master.Api.Protobuf;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Api.Bodies;

/// <summary>
/// The seam to the protobuf decoder (Api/Protobuf): kubectl sends <c>application/vnd.kubernetes.protobuf</c>
/// bodies for <c>create deployment</c>, <c>create service</c> and the like. A kind it cannot decode is
/// answered 415 Unsupported Media Type, which tells client-go to fall back to JSON.
/// </summary>
internal interface IProtobufBodyDecoder
{
    /// <summary>Whether a protobuf body for this resource (or its <paramref name="subresource"/>) can be decoded whole: a
    /// status write needs a message that declares the status, or the status it carries would be dropped.</summary>
    bool Supports(ResourceDescription resource, string? subresource = null);

    bool TryDecode(ReadOnlySpan<byte> body, ResourceDescription resource, out IKubernetesObject<V1ObjectMeta>? obj, out string? error);
}

/// <summary>The real decoder, <see cref="ProtobufBodyDecoder"/>.</summary>
internal sealed class ProtobufBodies : IProtobufBodyDecoder
{
    public bool Supports(ResourceDescription resource, string? subresource = null) => ProtobufBodyDecoder.Supports(resource, subresource);

    public bool TryDecode(ReadOnlySpan<byte> body, ResourceDescription resource, out IKubernetesObject<V1ObjectMeta>? obj,
        out string? error) =>
        ProtobufBodyDecoder.TryDecode(body, resource, out obj, out error);
}
