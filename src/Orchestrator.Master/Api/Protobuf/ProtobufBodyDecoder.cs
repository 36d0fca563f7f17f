using Google.Protobuf;
using k8s;
using k8s.Models;
using Orchestrator.Master.Api.Http;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Api.Protobuf;

/// <summary>
/// Decodes request bodies sent as <c>application/vnd.kubernetes.protobuf</c> (what kubectl's typed client
/// sends for <c>kubectl create deployment|service|namespace|configmap|secret</c>) into KubernetesClient
/// models. The body is the 4-byte magic "k8s\0" followed by a runtime.Unknown envelope whose <c>raw</c>
/// field holds the object's own message. It never throws: any malformed body yields false and a message
/// the API server returns as 400 BadRequest.
/// </summary>
internal static class ProtobufBodyDecoder
{
    public const string MediaType = "application/vnd.kubernetes.protobuf";

    private static ReadOnlySpan<byte> Magic => "k8s\0"u8;

    private static readonly Dictionary<(string ApiVersion, string Kind), Func<ByteString, IKubernetesObject<V1ObjectMeta>>> Decoders = new()
    {
        [("v1", "Namespace")] = raw => CoreMapping.ToModel(Wire.Namespace.Parser.ParseFrom(raw)),
        [("v1", "ConfigMap")] = raw => CoreMapping.ToModel(Wire.ConfigMap.Parser.ParseFrom(raw)),
        [("v1", "Secret")] = raw => CoreMapping.ToModel(Wire.Secret.Parser.ParseFrom(raw)),
        [("v1", "Service")] = raw => CoreMapping.ToModel(Wire.Service.Parser.ParseFrom(raw)),
        [("v1", "Pod")] = raw => CoreMapping.ToModel(Wire.Pod.Parser.ParseFrom(raw)),
        [("v1", "ReplicationController")] = raw => CoreMapping.ToModel(Wire.ReplicationController.Parser.ParseFrom(raw)),
        [("apps/v1", "Deployment")] = raw => AppsMapping.ToModel(Wire.Deployment.Parser.ParseFrom(raw)),
        [("apps/v1", "ReplicaSet")] = raw => AppsMapping.ToModel(Wire.ReplicaSet.Parser.ParseFrom(raw)),
    };

    /// <summary>Whether protobuf bodies of this resource's kind can be decoded at all.</summary>
    public static bool Supports(ApiResource resource) => Decoders.ContainsKey((resource.GroupVersion, resource.Kind));

    public static bool TryDecode(ReadOnlySpan<byte> body, ApiResource resource,
        out IKubernetesObject<V1ObjectMeta>? obj, out string? error)
    {
        obj = null;
        error = null;
        if (!body.StartsWith(Magic))
        {
            error = "the protobuf body does not start with the Kubernetes prefix \"k8s\\x00\"";
            return false;
        }

        Wire.Unknown envelope;
        try
        {
            envelope = Wire.Unknown.Parser.ParseFrom(body[Magic.Length..]);
        }
        catch (InvalidProtocolBufferException e)
        {
            error = $"the protobuf body is not a valid runtime.Unknown envelope: {e.Message}";
            return false;
        }

        if (envelope.ContentEncoding.Length != 0)
        {
            error = $"the protobuf body's content encoding \"{envelope.ContentEncoding}\" is not supported";
            return false;
        }
        if (envelope.ContentType.Length != 0 && envelope.ContentType != MediaType)
        {
            error = $"the protobuf body's content type \"{envelope.ContentType}\" is not supported";
            return false;
        }

        // Like the Kubernetes serializer, an envelope that names no type takes the endpoint's.
        var apiVersion = envelope.TypeMeta?.ApiVersion is { Length: > 0 } v ? v : resource.GroupVersion;
        var kind = envelope.TypeMeta?.Kind is { Length: > 0 } k ? k : resource.Kind;
        if (apiVersion != resource.GroupVersion || kind != resource.Kind)
        {
            error = $"the body is a {apiVersion} {kind}, but {resource.Resource} expects a {resource.GroupVersion} {resource.Kind}";
            return false;
        }
        if (!Decoders.TryGetValue((apiVersion, kind), out var decode))
        {
            error = $"protobuf bodies for {apiVersion} {kind} are not supported; send application/json";
            return false;
        }
        if (!envelope.HasRaw)
        {
            error = $"the protobuf envelope carries no {kind} object";
            return false;
        }

        try
        {
            obj = decode(envelope.Raw);
        }
        catch (InvalidProtocolBufferException e)
        {
            error = $"the protobuf body does not hold a valid {kind}: {e.Message}";
            return false;
        }
        catch (MalformedBodyException e)
        {
            error = $"the protobuf body does not hold a valid {kind}: {e.Message}";
            return false;
        }
        catch (ArgumentOutOfRangeException e)
        {
            // A timestamp outside DateTime's range.
            error = $"the protobuf body does not hold a valid {kind}: {e.Message}";
            return false;
        }

        obj.ApiVersion = apiVersion;
        obj.Kind = kind;
        return true;
    }
}
