using System.Reflection;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using k8s;
using k8s.Models;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Api.Protobuf;

/// <summary>
/// Decodes request bodies sent as <c>application/vnd.kubernetes.protobuf</c> (what kubectl's typed clients send for
/// <c>kubectl create deployment|service|namespace|configmap|secret</c> and the like). The body is the 4-byte magic
/// "k8s\0" followed by a runtime.Unknown envelope whose <c>raw</c> field holds the object's own message — the wire
/// message the resource's description names (<see cref="ResourceDescription.ProtobufMessage"/>), found among our
/// messages (Api/Protobuf/Messages), decoded and turned into the object's JSON by <see cref="ProtobufJson"/>. Adding a
/// kind is adding its messages and naming the root one in its description. It never throws: any malformed body
/// yields false and a message the API server returns as 400 BadRequest.
/// </summary>
internal static class ProtobufBodyDecoder
{
    public const string MediaType = "application/vnd.kubernetes.protobuf";

    private static ReadOnlySpan<byte> Magic => "k8s\0"u8;

    /// <summary>Every message of our .proto files (the generated *Reflection classes of the Wire namespaces).</summary>
    private static readonly Lazy<TypeRegistry> Messages = new(() => TypeRegistry.FromFiles(typeof(ProtobufBodyDecoder).Assembly
        .GetTypes()
        .Where(t => t.Namespace?.StartsWith(typeof(Wire.WireReflection).Namespace!, StringComparison.Ordinal) == true &&
                    t.Name.EndsWith("Reflection", StringComparison.Ordinal))
        .Select(t => t.GetProperty("Descriptor", BindingFlags.Public | BindingFlags.Static)?.GetValue(null))
        .OfType<FileDescriptor>()
        .ToArray()));

    /// <summary>The wire message of a resource's protobuf bodies, or null when the kind is served as JSON only.</summary>
    public static MessageDescriptor? MessageOf(ResourceDescription resource) =>
        resource.ProtobufMessage is { } name ? Messages.Value.Find(name) : null;

    /// <summary>Whether protobuf bodies of this resource's kind can be decoded at all.</summary>
    public static bool Supports(ResourceDescription resource) => MessageOf(resource) is not null;

    public static bool TryDecode(ReadOnlySpan<byte> body, ResourceDescription resource,
        out IKubernetesObject<V1ObjectMeta>? obj, out string? error)
    {
        obj = null;
        error = null;
        if (!body.StartsWith(Magic))
        {
            error = "the protobuf body does not start with the Kubernetes prefix \"k8s\\x00\"";
            return false;
        }

        Wire.Runtime.Unknown envelope;
        try
        {
            envelope = Wire.Runtime.Unknown.Parser.ParseFrom(body[Magic.Length..]);
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
        if (MessageOf(resource) is not { } descriptor)
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
            var json = ProtobufJson.ToJson(descriptor.Parser.ParseFrom(envelope.Raw));
            json["apiVersion"] = apiVersion;
            json["kind"] = kind;
            obj = ObjectJson.FromJson(json, resource);
            return true;
        }
        catch (Exception e) when (e is InvalidProtocolBufferException or MalformedBodyException or ApiException)
        {
            error = $"the protobuf body does not hold a valid {kind}: {e.Message}";
            return false;
        }
    }
}
