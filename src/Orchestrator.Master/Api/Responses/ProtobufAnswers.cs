using System.Text.Json.Nodes;
using Google.Protobuf.Reflection;
using k8s;
using k8s.Models;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Api.Protobuf;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Api.Responses;

/// <summary>
/// Answers as <c>application/vnd.kubernetes.protobuf</c> for a client that takes only protobuf
/// (<see cref="ContentNegotiation.Protobuf"/>; the Java client's ProtoClient): each object is its JSON answer
/// (<see cref="EncodedObjects.Json"/>, so both forms say the same) written as its kind's 1.32 message by
/// <see cref="ProtobufEncoder"/>. Which requests may be answered so is decided before they run
/// (<see cref="Answerable"/>): a request refused there changes nothing.
/// </summary>
internal static class ProtobufAnswers
{
    public static bool Wanted(HttpContext context) =>
        ContentNegotiation.Protobuf(context.Request.Headers.Accept) == ProtobufAccept.Object;

    /// <summary>Null when the request may run: the client admits JSON, or its answer can be protobuf; else the 406
    /// kube-apiserver gives (its NegotiateOutputMediaType runs before the verb does). The answer's wire message is
    /// <see cref="AnswerMessage"/> of <paramref name="resource"/> (and <paramref name="subresource"/>); a null resource
    /// has none (a view that answers JSON only). The message is looked up only for a client that takes protobuf alone:
    /// the first lookup builds the registry of every .proto file of the API (about 0.2 s of CPU), which a JSON client
    /// — kubectl, curl, deploy/up.sh's first poll of the node — never needs (issue 19).</summary>
    public static ApiException? Answerable(HttpContext context, ResourceDescription? resource,
        SubresourceDescription? subresource = null) =>
        ContentNegotiation.Protobuf(context.Request.Headers.Accept) switch
        {
            ProtobufAccept.No => null,
            ProtobufAccept.Object when resource is not null && AnswerMessage(resource, subresource) is not null => null,
            _ => ApiException.NotAcceptable(),
        };

    /// <summary>The wire message of the answer of a resource's path, or of one of its subresources; null when we write it
    /// as JSON only (a custom resource; the pods' log, exec, attach and port-forward streams, which are not objects). A
    /// subresource answers its parent's kind (status, a namespace's finalize, a CSR's approval), an autoscaling/v1 Scale,
    /// a service account's TokenRequest, or the Status a pod's binding or eviction answers.</summary>
    public static MessageDescriptor? AnswerMessage(ResourceDescription resource, SubresourceDescription? subresource = null) =>
        subresource switch
        {
            null => ProtobufBodyDecoder.MessageOf(resource),
            { Name: "binding" or "eviction" } => Protobuf.Wire.Meta.Status.Descriptor,
            { Name: "scale" } => Scale,
            { Name: "token", Kind: "TokenRequest" } => TokenRequest,
            { Name: "log" or "exec" or "attach" or "portforward" } => null,
            _ when subresource.Kind == resource.Kind => ProtobufBodyDecoder.MessageOf(resource),
            _ => null,
        };

    /// <summary>The object's whole protobuf answer, made once per resourceVersion (<see cref="EncodedObjects.ProtobufObject"/>):
    /// a protobuf watch's many watchers encode each change once.</summary>
    public static byte[] Object(IKubernetesObject<V1ObjectMeta> obj, ResourceDescription resource) =>
        EncodedObjects.ProtobufObject(obj, resource, json => FromJson(json, resource),
            message => ProtobufEncoder.Envelope(resource.GroupVersion, resource.Kind, message));

    /// <summary>The object's message bytes (the raw of its envelope, an item of a list), made once per resourceVersion.</summary>
    private static byte[] Message(IKubernetesObject<V1ObjectMeta> obj, ResourceDescription resource) =>
        EncodedObjects.ProtobufMessage(obj, resource, json => FromJson(json, resource));

    private static byte[] FromJson(byte[] json, ResourceDescription resource) =>
        ProtobufEncoder.Encode(JsonNode.Parse(json)!.AsObject(), MessageOf(resource));

    private static MessageDescriptor MessageOf(ResourceDescription resource) =>
        ProtobufBodyDecoder.MessageOf(resource) ??
        throw new InvalidOperationException($"{resource.GroupVersion} {resource.Kind} has no protobuf message; the request should have been refused");

    public static Task WriteObjectAsync(HttpContext context, int statusCode, ResourceDescription resource, IKubernetesObject<V1ObjectMeta> obj) =>
        WriteAsync(context, statusCode, Object(obj, resource));

    public static Task WriteListAsync(HttpContext context, ResourceDescription resource, IReadOnlyList<IKubernetesObject<V1ObjectMeta>> items,
        V1ListMeta metadata)
    {
        var messages = new byte[items.Count][];
        for (var i = 0; i < items.Count; i++) messages[i] = Message(items[i], resource);
        var listMeta = JsonNode.Parse(KubeObjects.Serialize(metadata))!.AsObject();
        return WriteAsync(context, 200, ProtobufEncoder.EncodeList(resource.GroupVersion, resource.ListKind, listMeta, messages));
    }

    /// <summary>A v1 Status that is the answer itself (a binding's, an eviction's 201).</summary>
    public static Task WriteStatusAsync(HttpContext context, int statusCode, JsonObject status) =>
        WriteAsync(context, statusCode, ProtobufEncoder.EncodeStatus(status));

    /// <summary>The message of a service account's token subresource (authentication.k8s.io/v1 TokenRequest).</summary>
    public static readonly MessageDescriptor TokenRequest = ProtobufBodyDecoder.Find("k8s.io.api.authentication.v1.TokenRequest")!;

    /// <summary>An answer that is no stored object (a review's, a TokenRequest's) as JSON, or as <paramref name="message"/> for a
    /// client that takes only protobuf: the same JSON written by <see cref="ProtobufEncoder"/>, so both forms say the same.</summary>
    public static Task WriteAnswerAsync(HttpContext context, int statusCode, JsonObject json, MessageDescriptor message,
        string apiVersion, string kind) =>
        Wanted(context)
            ? WriteAsync(context, statusCode, ProtobufEncoder.EncodeObject(json, message, apiVersion, kind))
            : ApiResponses.WriteJsonAsync(context, statusCode, json);

    /// <summary>A view's answer of its resource's kind (<see cref="WriteAnswerAsync"/>).</summary>
    public static Task WriteAnswerAsync(HttpContext context, int statusCode, JsonObject json, ResourceDescription resource) =>
        WriteAnswerAsync(context, statusCode, json, MessageOf(resource), resource.GroupVersion, resource.Kind);

    /// <summary>The message of the scale subresource's answer, for every kind that has one (custom resources too).</summary>
    public static readonly MessageDescriptor Scale = ProtobufBodyDecoder.Find("k8s.io.api.autoscaling.v1.Scale")!;

    /// <summary>An autoscaling/v1 Scale, as JSON or protobuf.</summary>
    public static Task WriteScaleAsync(HttpContext context, V1Scale scale) =>
        Wanted(context)
            ? WriteAsync(context, 200, ProtobufEncoder.EncodeObject(JsonNode.Parse(KubeObjects.Serialize(scale))!.AsObject(), Scale,
                "autoscaling/v1", "Scale"))
            : ApiResponses.WriteJsonAsync(context, 200, scale);

    /// <summary>A protobuf watch's frame of a change to <paramref name="obj"/>.</summary>
    public static byte[] WatchFrame(string type, IKubernetesObject<V1ObjectMeta> obj, ResourceDescription resource) =>
        ProtobufEncoder.WatchFrame(type, Object(obj, resource));

    /// <summary>A protobuf watch's frame of a bookmark (an empty object of the resource's kind with its metadata), or, with no
    /// resource, of an ERROR's Status.</summary>
    public static byte[] WatchFrame(string type, JsonObject obj, ResourceDescription? resource = null) =>
        ProtobufEncoder.WatchFrame(type, resource is null
            ? ProtobufEncoder.EncodeStatus(obj)
            : ProtobufEncoder.EncodeObject(obj, MessageOf(resource), resource.GroupVersion, resource.Kind));

    private static async Task WriteAsync(HttpContext context, int statusCode, byte[] body)
    {
        context.Response.StatusCode = statusCode;
        context.Response.ContentType = ContentNegotiation.ProtobufMediaType;
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body, context.RequestAborted);
    }
}
