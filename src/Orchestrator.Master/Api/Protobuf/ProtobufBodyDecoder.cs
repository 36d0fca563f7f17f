using System.Reflection;
using System.Text.Json.Nodes;
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
    private static ReadOnlySpan<byte> Magic => "k8s\0"u8;

    /// <summary>Every message of our .proto files (the generated *Reflection classes of the Wire namespaces).</summary>
    private static readonly Lazy<TypeRegistry> Messages = new(() => TypeRegistry.FromFiles(typeof(ProtobufBodyDecoder).Assembly
        .GetTypes()
        .Where(t => t.Namespace?.StartsWith(typeof(Wire.WireReflection).Namespace!, StringComparison.Ordinal) == true &&
                    t.Name.EndsWith("Reflection", StringComparison.Ordinal))
        .Select(t => t.GetProperty("Descriptor", BindingFlags.Public | BindingFlags.Static)?.GetValue(null))
        .OfType<FileDescriptor>()
        .ToArray()));

    /// <summary>One of our messages by its full name (k8s.io.api.autoscaling.v1.Scale), or null.</summary>
    public static MessageDescriptor? Find(string fullName) => Messages.Value.Find(fullName);

    /// <summary>The wire message of a resource's protobuf bodies, or null when the kind is served as JSON only.</summary>
    public static MessageDescriptor? MessageOf(ResourceDescription resource) =>
        resource.ProtobufMessage is { } name ? Messages.Value.Find(name) : null;

    /// <summary>Whether protobuf bodies of this resource's kind can be decoded at all, and for a write of its status
    /// (<c>status</c>, a CSR's <c>approval</c>) whether its message declares the status: a message without it would
    /// decode a status write as one storing no status. Every built-in kind's message declares it (StatusKindsRoundTripTests).</summary>
    public static bool Supports(ResourceDescription resource, string? subresource = null) =>
        MessageOf(resource) is { } message &&
        (subresource is not ("status" or "approval") || message.FindFieldByName("status") is not null);

    public static bool TryDecode(ReadOnlySpan<byte> body, ResourceDescription resource,
        out IKubernetesObject<V1ObjectMeta>? obj, out string? error)
    {
        obj = null;
        if (!TryOpen(body, out var envelope, out error)) return false;

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
        if (!TryRead(envelope, descriptor, kind, out var json, out error)) return false;
        json["apiVersion"] = apiVersion;
        json["kind"] = kind;
        try
        {
            obj = ObjectJson.FromJson(json, resource);
            return true;
        }
        catch (Exception e) when (e is MalformedBodyException or ApiException)
        {
            error = NotValid(kind, e);
            return false;
        }
    }

    /// <summary>The wire messages of bodies that are not a resource's objects: a DELETE's options and the subresources'
    /// requests, by kind (client-go sends them in its client's content type, as it sends objects).</summary>
    private static readonly Dictionary<string, string> BodyMessages = new(StringComparer.Ordinal)
    {
        ["DeleteOptions"] = "k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions",
        ["Binding"] = "k8s.io.api.core.v1.Binding",
        ["Eviction"] = "k8s.io.api.policy.v1.Eviction",
        ["Scale"] = "k8s.io.api.autoscaling.v1.Scale",
    };

    /// <summary>A protobuf body of a non-resource kind (<see cref="BodyMessages"/>) as the JSON the same body has, with the
    /// envelope's apiVersion and kind (the expected ones where it names none). <paramref name="anyApiVersion"/>: the kind is
    /// registered in every group version (DeleteOptions), so only the kind is checked here; else both are left to the
    /// caller's check against what the endpoint expects. Never throws.</summary>
    public static bool TryDecodeBody(ReadOnlySpan<byte> body, string kind, string apiVersion, bool anyApiVersion,
        out JsonObject? json, out string? error)
    {
        json = null;
        if (!TryOpen(body, out var envelope, out error)) return false;
        var bodyKind = envelope.TypeMeta?.Kind is { Length: > 0 } k ? k : kind;
        var bodyApiVersion = envelope.TypeMeta?.ApiVersion is { Length: > 0 } v ? v : apiVersion;
        if (bodyKind != kind && anyApiVersion)
        {
            error = $"the body is a {bodyApiVersion} {bodyKind}, but this request takes a {kind}";
            return false;
        }
        if (!BodyMessages.TryGetValue(kind, out var name) || Messages.Value.Find(name) is not { } descriptor)
        {
            error = $"protobuf bodies for {kind} are not supported; send application/json";
            return false;
        }
        if (!TryRead(envelope, descriptor, kind, out var read, out error)) return false;
        read["apiVersion"] = bodyApiVersion;
        read["kind"] = bodyKind;
        json = read;
        return true;
    }

    /// <summary>The envelope's object, decoded as <paramref name="descriptor"/>'s message, as its JSON.</summary>
    private static bool TryRead(Wire.Runtime.Unknown envelope, MessageDescriptor descriptor, string kind, out JsonObject json, out string? error)
    {
        json = null!;
        error = null;
        if (!envelope.HasRaw)
        {
            error = $"the protobuf envelope carries no {kind} object";
            return false;
        }
        try
        {
            json = ProtobufJson.ToJson(descriptor.Parser.ParseFrom(envelope.Raw));
            return true;
        }
        catch (Exception e) when (e is InvalidProtocolBufferException or MalformedBodyException or ApiException)
        {
            error = NotValid(kind, e);
            return false;
        }
    }

    private static string NotValid(string kind, Exception e) => $"the protobuf body does not hold a valid {kind}: {e.Message}";

    /// <summary>The runtime.Unknown envelope after the magic prefix, refused when it is not one or is encoded in a way
    /// we do not read.</summary>
    private static bool TryOpen(ReadOnlySpan<byte> body, out Wire.Runtime.Unknown envelope, out string? error)
    {
        envelope = null!;
        error = null;
        if (!body.StartsWith(Magic))
        {
            error = "the protobuf body does not start with the Kubernetes prefix \"k8s\\x00\"";
            return false;
        }
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
        if (envelope.ContentType.Length != 0 && envelope.ContentType != ContentNegotiation.ProtobufMediaType)
        {
            error = $"the protobuf body's content type \"{envelope.ContentType}\" is not supported";
            return false;
        }
        return true;
    }
}
