using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Api.Protobuf;
using Orchestrator.Master.Api.Responses;
using Orchestrator.Master.Api.Protobuf.Wire.Runtime;
using Orchestrator.Master.Tests.Registry;
using Xunit;
using Meta = Orchestrator.Master.Api.Protobuf.Wire.Meta;

namespace Orchestrator.Master.Tests.Api.Protobuf;

/// <summary>
/// A client that takes only protobuf gets protobuf (the Java client's ProtoClient, as its e2e ProtoClientTest uses it:
/// create a namespace with a protobuf body, list, get, delete, every answer parsed as magic + runtime.Unknown); errors as a
/// protobuf v1 Status; 406 where no form it accepts can be written; clients that admit JSON (kubectl, client-go) keep JSON.
/// </summary>
public sealed class ProtobufAnswerApiTests : IAsyncLifetime
{
    private const string Protobuf = "application/vnd.kubernetes.protobuf";
    private ApiTestServer _server = null!;

    public async Task InitializeAsync() => _server = await ApiTestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<(HttpStatusCode Status, string? ContentType, byte[] Body)> SendAsync(HttpMethod method, string path, string accept,
        byte[]? body = null, string contentType = Protobuf)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }
        request.Headers.TryAddWithoutValidation("Accept", accept);
        using var response = await _server.Client.SendAsync(request);
        return (response.StatusCode, response.Content.Headers.ContentType?.ToString(), await response.Content.ReadAsByteArrayAsync());
    }

    /// <summary>What ProtoClient.parse does: the magic, then a runtime.Unknown.</summary>
    private static Unknown Parse(byte[] body)
    {
        Assert.Equal("k8s\0"u8.ToArray(), body[..4]);
        return Unknown.Parser.ParseFrom(body[4..]);
    }

    private static Meta.Status ParseStatus(byte[] body)
    {
        var unknown = Parse(body);
        Assert.Equal(("v1", "Status"), (unknown.TypeMeta.ApiVersion, unknown.TypeMeta.Kind));
        return Meta.Status.Parser.ParseFrom(unknown.Raw);
    }

    private static byte[] NamespaceBody(string name) =>
        ProtoWriter.Envelope("v1", "Namespace", new ProtoWriter().Message(1, m => m.String(1, name)));

    [Fact]
    public async Task The_proto_client_sequence_creates_lists_gets_and_deletes_a_namespace_in_protobuf()
    {
        var (created, type, body) = await SendAsync(HttpMethod.Post, "/api/v1/namespaces", Protobuf, NamespaceBody("proto-ns"));
        Assert.Equal(HttpStatusCode.Created, created);
        Assert.Equal(Protobuf, type);
        var unknown = Parse(body);
        Assert.Equal(("v1", "Namespace"), (unknown.TypeMeta.ApiVersion, unknown.TypeMeta.Kind));
        Assert.Equal("", unknown.ContentEncoding);
        var ns = Namespace(unknown.Raw);
        Assert.Equal("proto-ns", ns["metadata"]!["name"]!.ToString());
        Assert.Equal("Active", ns["status"]!["phase"]!.ToString());

        var (listed, _, listBody) = await SendAsync(HttpMethod.Get, "/api/v1/namespaces", Protobuf);
        Assert.Equal(HttpStatusCode.OK, listed);
        var list = Parse(listBody);
        Assert.Equal(("v1", "NamespaceList"), (list.TypeMeta.ApiVersion, list.TypeMeta.Kind));
        var (listMeta, items) = ReadList(list.Raw);
        Assert.NotEmpty(listMeta.ResourceVersion);
        Assert.Contains("proto-ns", items.Select(i => Namespace(i)["metadata"]!["name"]!.ToString()));

        // the protobuf answer says what the JSON answer says
        var (got, _, getBody) = await SendAsync(HttpMethod.Get, "/api/v1/namespaces/proto-ns", Protobuf);
        Assert.Equal(HttpStatusCode.OK, got);
        var (_, jsonAnswer) = await _server.SendAsync(HttpMethod.Get, "/api/v1/namespaces/proto-ns");
        Assert.True(ProtobufBodyDecoder.TryDecode(getBody, BuiltIn.Namespaces, out var decoded, out var error), error);
        Assert.Equal(ProtobufRoundTrip.Canonical(jsonAnswer), ProtobufRoundTrip.Canonical(ObjectJson.ToJson(decoded!, BuiltIn.Namespaces)));

        var (deleted, _, deleteBody) = await SendAsync(HttpMethod.Delete, "/api/v1/namespaces/proto-ns", Protobuf);
        Assert.Equal(HttpStatusCode.OK, deleted);
        var answer = Parse(deleteBody);
        Assert.Equal("Namespace", answer.TypeMeta.Kind); // the namespace, terminating (kube answers the object)
        Assert.NotNull(Namespace(answer.Raw)["metadata"]!["deletionTimestamp"]);
    }

    [Fact]
    public async Task A_missing_object_is_a_protobuf_not_found_status()
    {
        var (code, type, body) = await SendAsync(HttpMethod.Get, "/api/v1/namespaces/nowhere", Protobuf);

        Assert.Equal(HttpStatusCode.NotFound, code);
        Assert.Equal(Protobuf, type);
        var status = ParseStatus(body);
        Assert.Equal(("Failure", "NotFound", 404), (status.Status_, status.Reason, status.Code));
        Assert.Equal("namespaces \"nowhere\" not found", status.Message);
        Assert.Equal(("nowhere", "namespaces"), (status.Details.Name, status.Details.Kind));
    }

    [Fact]
    public async Task A_protobuf_only_table_is_not_acceptable_and_the_status_is_json()
    {
        var (code, type, body) = await SendAsync(HttpMethod.Get, "/api/v1/namespaces", $"{Protobuf};as=Table;v=v1;g=meta.k8s.io");

        Assert.Equal(HttpStatusCode.NotAcceptable, code);
        Assert.StartsWith("application/json", type);
        var status = JsonNode.Parse(body)!;
        Assert.Equal("NotAcceptable", status["reason"]!.ToString());
        Assert.Equal("only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf",
            status["message"]!.ToString());
    }

    [Fact]
    public async Task A_token_request_is_answered_in_protobuf()
    {
        await _server.SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/serviceaccounts",
            """{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"sa"}}""");
        var (code, type, body) = await SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/serviceaccounts/sa/token", Protobuf,
            """{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{"expirationSeconds":3600}}"""u8.ToArray(), "application/json");

        Assert.Equal(HttpStatusCode.Created, code);
        Assert.Equal(Protobuf, type);
        var unknown = Parse(body);
        Assert.Equal(("authentication.k8s.io/v1", "TokenRequest"), (unknown.TypeMeta.ApiVersion, unknown.TypeMeta.Kind));
        var request = ProtobufJson.ToJson(ProtobufAnswers.TokenRequest.Parser.ParseFrom(unknown.Raw));
        Assert.Equal(("sa", "default"), (request["metadata"]!["name"]!.ToString(), request["metadata"]!["namespace"]!.ToString()));
        Assert.Equal("3600", request["spec"]!["expirationSeconds"]!.ToString());
        Assert.Equal(3, request["status"]!["token"]!.ToString().Split('.').Length); // a JWT
        Assert.NotNull(request["status"]!["expirationTimestamp"]);
    }

    [Theory]
    [InlineData("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", "SelfSubjectAccessReview",
        """{"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview","spec":{"resourceAttributes":{"verb":"get","resource":"pods","namespace":"default"}}}""")]
    [InlineData("/apis/authorization.k8s.io/v1/subjectaccessreviews", "SubjectAccessReview",
        """{"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview","spec":{"user":"nobody","resourceAttributes":{"verb":"list","resource":"secrets"}}}""")]
    [InlineData("/apis/authentication.k8s.io/v1/selfsubjectreviews", "SelfSubjectReview",
        """{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}""")]
    public async Task Reviews_are_answered_in_protobuf_as_they_are_in_json(string path, string kind, string review)
    {
        // the protobuf answer between two equal JSON answers (the server's RBAC cache fills after it starts)
        Task<(HttpStatusCode Status, string? ContentType, byte[] Body)> Json() =>
            SendAsync(HttpMethod.Post, path, "application/json", Encoding.UTF8.GetBytes(review), "application/json");
        var (code, type, body) = (default(HttpStatusCode), default(string), Array.Empty<byte>());
        var (jsonCode, jsonType, json) = await Json();
        for (var attempt = 0; attempt < 50; attempt++)
        {
            (code, type, body) = await SendAsync(HttpMethod.Post, path, Protobuf, Encoding.UTF8.GetBytes(review), "application/json");
            var after = await Json();
            if (after.Body.AsSpan().SequenceEqual(json)) break;
            (jsonCode, jsonType, json) = after;
            await Task.Delay(100);
        }

        Assert.Equal((HttpStatusCode.Created, HttpStatusCode.Created), (code, jsonCode));
        Assert.Equal((Protobuf, "application/json"), (type, jsonType));
        var resource = _server.Catalog.Current.Find(path.Split('/')[2], "v1", path.Split('/')[^1])!;
        Assert.Equal(kind, resource.Kind);
        var unknown = Parse(body);
        Assert.Equal((resource.GroupVersion, kind), (unknown.TypeMeta.ApiVersion, unknown.TypeMeta.Kind));
        Assert.True(ProtobufBodyDecoder.TryDecode(body, resource, out var decoded, out var error), error);
        Assert.Equal(ProtobufRoundTrip.Canonical(JsonNode.Parse(json)), ProtobufRoundTrip.Canonical(ObjectJson.ToJson(decoded!, resource)));
    }

    [Fact]
    public async Task A_rules_review_is_not_acceptable_in_protobuf_only()
    {
        var (code, type, body) = await SendAsync(HttpMethod.Post, "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews", Protobuf,
            """{"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectRulesReview","spec":{"namespace":"default"}}"""u8.ToArray(),
            "application/json");

        Assert.Equal(HttpStatusCode.NotAcceptable, code);
        Assert.Equal(Protobuf, type);
        Assert.Equal(("NotAcceptable", 406), (ParseStatus(body).Reason, ParseStatus(body).Code));
    }

    [Fact]
    public async Task A_custom_resource_is_not_acceptable_in_protobuf_and_is_not_created()
    {
        _server.Catalog.Set("test", [new Orchestrator.Master.Registry.Catalog.ResourceDescription
        {
            Group = "example.com", Version = "v1", Resource = "widgets", Kind = "Widget", Namespaced = true,
            StoreName = "widgets.example.com", ObjectType = typeof(Orchestrator.Master.Registry.Catalog.CustomObject),
            Strategy = new Orchestrator.Master.Registry.Catalog.CustomObjectStrategy(statusSubresource: false),
        }]);

        var (code, type, body) = await SendAsync(HttpMethod.Post, "/apis/example.com/v1/namespaces/default/widgets", Protobuf,
            """{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"}}"""u8.ToArray(), "application/json");

        Assert.Equal(HttpStatusCode.NotAcceptable, code);
        Assert.Equal(Protobuf, type); // the Status itself is a built-in kind: kube writes it in protobuf
        var status = ParseStatus(body);
        Assert.Equal(("NotAcceptable", 406), (status.Reason, status.Code));
        Assert.Equal("only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf",
            status.Message);
        var (after, _) = await _server.SendAsync(HttpMethod.Get, "/apis/example.com/v1/namespaces/default/widgets/w");
        Assert.Equal(HttpStatusCode.NotFound, after);
    }

    [Fact]
    public async Task Clients_that_admit_json_keep_json_answers()
    {
        await _server.SendAsync(HttpMethod.Post, "/api/v1/namespaces", """{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"j"}}""");

        // client-go with the protobuf content type
        var (code, type, body) = await SendAsync(HttpMethod.Get, "/api/v1/namespaces/j", $"{Protobuf}, */*");
        Assert.Equal(HttpStatusCode.OK, code);
        Assert.Equal("application/json", type);
        Assert.Equal("j", JsonNode.Parse(body)!["metadata"]!["name"]!.ToString());

        // kubectl get
        (code, type, body) = await SendAsync(HttpMethod.Get, "/api/v1/namespaces",
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json");
        Assert.Equal(HttpStatusCode.OK, code);
        Assert.Equal("Table", JsonNode.Parse(body)!["kind"]!.ToString());

        // and their errors stay JSON Statuses
        (code, type, _) = await SendAsync(HttpMethod.Get, "/api/v1/namespaces/nowhere", $"{Protobuf}, application/json");
        Assert.Equal(HttpStatusCode.NotFound, code);
        Assert.Equal("application/json", type);
    }

    [Fact]
    public async Task A_protobuf_watch_sends_length_prefixed_watch_events()
    {
        await _server.SendAsync(HttpMethod.Post, "/api/v1/namespaces", """{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"watched"}}""");

        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/namespaces?watch=true&timeoutSeconds=5&fieldSelector=metadata.name%3Dwatched");
        request.Headers.TryAddWithoutValidation("Accept", Protobuf);
        using var response = await _server.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("application/vnd.kubernetes.protobuf;stream=watch", response.Content.Headers.ContentType?.ToString().Replace(" ", ""));
        await using var stream = await response.Content.ReadAsStreamAsync();

        var length = new byte[4];
        await stream.ReadExactlyAsync(length);
        var frame = new byte[BinaryPrimitives.ReadUInt32BigEndian(length)];
        await stream.ReadExactlyAsync(frame);
        var watchEvent = Meta.WatchEvent.Parser.ParseFrom(frame);
        Assert.Equal("ADDED", watchEvent.Type);
        var obj = Parse(watchEvent.Object.Raw.ToByteArray());
        Assert.Equal(("v1", "Namespace"), (obj.TypeMeta.ApiVersion, obj.TypeMeta.Kind));
        Assert.Equal("watched", Namespace(obj.Raw)["metadata"]!["name"]!.ToString());
    }

    private static JsonObject Namespace(ByteString raw) =>
        ProtobufJson.ToJson(ProtobufBodyDecoder.MessageOf(BuiltIn.Namespaces)!.Parser.ParseFrom(raw));

    /// <summary>A …List message: ListMeta (1), then the items (2), read by field number.</summary>
    private static (Meta.ListMeta Meta, List<ByteString> Items) ReadList(ByteString raw)
    {
        var input = raw.CreateCodedInput();
        var meta = new Meta.ListMeta();
        var items = new List<ByteString>();
        while (input.ReadTag() is var tag and not 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1: input.ReadMessage(meta); break;
                case 2: items.Add(input.ReadBytes()); break;
                default: input.SkipLastField(); break;
            }
        }
        return (meta, items);
    }
}
