using System.Text.Json;
using System.Text.Json.Nodes;
using Orchestrator.Master.Api.Authorization;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Api.Security;

namespace Orchestrator.Master.Api.Audit;

/// <summary>The audit configuration of the API: the policy and the log it writes to (both flags given), or none.</summary>
internal sealed record AuditConfiguration(AuditPolicy Policy, AuditLogFile Log);

/// <summary>
/// kube-apiserver's audit filter, after authentication: the policy decides each request's level; at Metadata and above
/// one audit.k8s.io/v1 Event per stage (RequestReceived; ResponseStarted for watches; ResponseComplete; Panic when the
/// handler throws) goes to the log, with the user (and the impersonated one), verb, objectRef, response status,
/// timestamps and the annotations of authorization and admission; at Request the request body, at RequestResponse the
/// response body too. Writing never blocks the request (<see cref="AuditLogFile"/>). Requests refused by authentication
/// (401) are not logged.
/// </summary>
internal sealed class RequestAuditing(RequestDelegate next, AuditConfiguration? audit)
{
    /// <summary>Quotes as \" and non-ASCII as is, as Go's encoder writes them (not \u0022).</summary>
    private static readonly JsonSerializerOptions LineOptions =
        new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private const int RequestResponseLimit = 1024 * 1024, StatusLimit = 16 * 1024;

    public async Task InvokeAsync(HttpContext context)
    {
        if (audit is null)
        {
            await next(context);
            return;
        }
        var received = DateTime.UtcNow;
        var authenticated = RequestUser.Get(context) ?? new UserInfo(UserInfo.Anonymous, "", [UserInfo.AllUnauthenticated], UserInfo.NoExtra);
        var path = context.Request.Path.Value ?? "";
        var attributes = AuthorizationAttributes.Of(authenticated, context.Request.Method, path, context.Request.Query);
        var decision = audit.Policy.Decide(new AuditRequest(authenticated.Name, authenticated.Groups, attributes.Verb,
            attributes.IsResourceRequest, path, attributes.ApiGroup, attributes.Resource, attributes.Subresource,
            attributes.Namespace, attributes.Name));
        if (decision.Level == AuditLevel.None)
        {
            await next(context);
            return;
        }
        var auditId = context.Response.Headers[AuditId.Header].ToString();
        var watch = attributes.Verb == "watch";
        if (decision.Level >= AuditLevel.Request && context.Request.ContentLength is not 0) context.Request.EnableBuffering();
        Capture? capture = null;
        if (!watch)
        {
            capture = new Capture(context.Response.Body, decision.Level == AuditLevel.RequestResponse ? RequestResponseLimit : StatusLimit);
            context.Response.Body = capture;
        }
        Emit("RequestReceived", null);
        if (watch)
            context.Response.OnStarting(() =>
            {
                Emit("ResponseStarted", null);
                return Task.CompletedTask;
            });
        try
        {
            await next(context);
        }
        catch (Exception e) when (!context.RequestAborted.IsCancellationRequested)
        {
            Emit("Panic", new JsonObject
            {
                ["metadata"] = new JsonObject(), ["status"] = "Failure", ["code"] = 500,
                ["message"] = $"APIServer panic'd: {e.GetType().Name}", ["reason"] = "InternalError",
            });
            throw;
        }
        finally
        {
            if (capture is not null) context.Response.Body = capture.Inner;
        }
        Emit("ResponseComplete", null);

        void Emit(string stage, JsonObject? status)
        {
            if (decision.OmitStages.Contains(stage)) return;
            var user = RequestUser.Get(context) ?? authenticated;
            var ev = new JsonObject
            {
                ["kind"] = "Event", ["apiVersion"] = "audit.k8s.io/v1", ["level"] = decision.Level.ToString(),
                ["auditID"] = auditId, ["stage"] = stage,
                ["requestURI"] = context.Request.Path.Value + context.Request.QueryString.Value,
                ["verb"] = attributes.Verb, ["user"] = User(authenticated),
            };
            if (!ReferenceEquals(user, authenticated) && user != authenticated) ev["impersonatedUser"] = User(user);
            ev["sourceIPs"] = new JsonArray(SourceIps(context).Select(ip => (JsonNode)ip).ToArray());
            if (context.Request.Headers.UserAgent.ToString() is { Length: > 0 } agent) ev["userAgent"] = agent;
            if (attributes.IsResourceRequest) ev["objectRef"] = ObjectRef(context, attributes);
            if (stage != "RequestReceived")
                ev["responseStatus"] = status ?? ResponseStatus(context.Response.StatusCode, capture);
            if (decision.Level >= AuditLevel.Request && RequestObject(context, decision.OmitManagedFields) is { } request)
                ev["requestObject"] = request;
            if (decision.Level == AuditLevel.RequestResponse && stage == "ResponseComplete" && capture?.Json(context.Response) is { } response)
                ev["responseObject"] = decision.OmitManagedFields ? WithoutManagedFields(response) : response;
            ev["requestReceivedTimestamp"] = MicroTime(received);
            ev["stageTimestamp"] = MicroTime(DateTime.UtcNow);
            if (stage != "RequestReceived" && AuditAnnotations.Of(context) is { Count: > 0 } annotations)
            {
                var map = new JsonObject();
                foreach (var (key, value) in annotations.OrderBy(a => a.Key, StringComparer.Ordinal)) map[key] = value;
                ev["annotations"] = map;
            }
            audit.Log.Write(ev.ToJsonString(LineOptions));
        }
    }

    private static JsonObject User(UserInfo user)
    {
        var json = new JsonObject { ["username"] = user.Name };
        if (user.Uid is { Length: > 0 }) json["uid"] = user.Uid;
        if (user.Groups is { Count: > 0 }) json["groups"] = new JsonArray(user.Groups.Select(g => (JsonNode)g).ToArray());
        if (user.Extra is { Count: > 0 })
        {
            var extra = new JsonObject();
            foreach (var (key, values) in user.Extra) extra[key] = new JsonArray(values.Select(v => (JsonNode)v).ToArray());
            json["extra"] = extra;
        }
        return json;
    }

    /// <summary>The X-Forwarded-For addresses, then the peer's (kube's SourceIPs).</summary>
    private static IEnumerable<string> SourceIps(HttpContext context)
    {
        var ips = context.Request.Headers["X-Forwarded-For"].ToString().Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .ToList();
        if (context.Connection.RemoteIpAddress is { } remote)
        {
            var text = remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4().ToString() : remote.ToString();
            if (!ips.Contains(text)) ips.Add(text);
        }
        return ips;
    }

    private static JsonObject ObjectRef(HttpContext context, AuthorizationAttributes attributes)
    {
        var written = AuditObjects.Of(context);
        var reference = new JsonObject { ["resource"] = attributes.Resource };
        var ns = attributes.Namespace.Length > 0 ? attributes.Namespace : written?.Namespace ?? "";
        if (ns.Length > 0) reference["namespace"] = ns;
        var name = attributes.Name.Length > 0 ? attributes.Name : written?.Name ?? "";
        if (name.Length > 0) reference["name"] = name;
        if (attributes.ApiGroup.Length > 0) reference["apiGroup"] = attributes.ApiGroup;
        if (attributes.ApiVersion.Length > 0) reference["apiVersion"] = attributes.ApiVersion;
        if (attributes.Subresource.Length > 0) reference["subresource"] = attributes.Subresource;
        return reference;
    }

    /// <summary>A success is its code; a failure carries the Status' status, message and reason, as kube logs it.</summary>
    private static JsonObject ResponseStatus(int code, Capture? capture)
    {
        var status = new JsonObject { ["metadata"] = new JsonObject(), ["code"] = code };
        if (code < 400 || capture?.JsonOrNull() is not JsonObject body || body["kind"]?.ToString() != "Status") return status;
        foreach (var field in new[] { "status", "message", "reason" })
            if (body[field] is JsonValue value) status[field] = value.ToString();
        return status;
    }

    /// <summary>The request body as JSON (YAML is converted; protobuf bodies are not logged), read from the buffer the
    /// request kept.</summary>
    private static JsonNode? RequestObject(HttpContext context, bool omitManagedFields)
    {
        var request = context.Request;
        if (!request.Body.CanSeek || request.ContentLength is 0) return null;
        var type = request.ContentType ?? "";
        try
        {
            request.Body.Position = 0;
            using var copy = new MemoryStream();
            request.Body.CopyTo(copy);
            var bytes = copy.ToArray();
            if (bytes.Length == 0) return null;
            JsonNode? node = type.Contains("yaml", StringComparison.OrdinalIgnoreCase) ? YamlBody.Parse(bytes).Root
                : type.Contains("json", StringComparison.OrdinalIgnoreCase) || type.Length == 0 ? JsonNode.Parse(bytes)
                : null;
            return node is not null && omitManagedFields ? WithoutManagedFields(node) : node;
        }
        catch (Exception e) when (e is JsonException or ApiException or IOException or InvalidOperationException)
        {
            return null;
        }
    }

    private static JsonNode WithoutManagedFields(JsonNode node)
    {
        if (node is JsonObject obj)
        {
            (obj["metadata"] as JsonObject)?.Remove("managedFields");
            if (obj["items"] is JsonArray items)
                foreach (var item in items)
                    ((item as JsonObject)?["metadata"] as JsonObject)?.Remove("managedFields");
        }
        return node;
    }

    /// <summary>metav1.MicroTime: RFC 3339 in UTC with microseconds.</summary>
    public static string MicroTime(DateTime time) => time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'",
        System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The response body on its way out, kept up to a limit (a longer one is not logged).</summary>
    private sealed class Capture(Stream inner, int limit) : Stream
    {
        private readonly MemoryStream _kept = new();
        private bool _overflow;
        public Stream Inner { get; } = inner;

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => Inner.Flush();
        public override Task FlushAsync(CancellationToken cancellationToken) => Inner.FlushAsync(cancellationToken);
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        private void Keep(ReadOnlySpan<byte> data)
        {
            if (_overflow) return;
            if (_kept.Length + data.Length > limit)
            {
                _overflow = true;
                _kept.SetLength(0);
                return;
            }
            _kept.Write(data);
        }

        public override void Write(byte[] buffer, int offset, int count)
        {
            Keep(buffer.AsSpan(offset, count));
            Inner.Write(buffer, offset, count);
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Keep(buffer.Span);
            await Inner.WriteAsync(buffer, cancellationToken);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public JsonNode? JsonOrNull()
        {
            if (_overflow || _kept.Length == 0) return null;
            try
            {
                return JsonNode.Parse(_kept.ToArray());
            }
            catch (JsonException)
            {
                return null;
            }
        }

        public JsonNode? Json(HttpResponse response) =>
            (response.ContentType ?? "").Contains("json", StringComparison.OrdinalIgnoreCase) ? JsonOrNull() : null;
    }
}

/// <summary>kube's Audit-ID: every response carries the request's audit id (the client's Audit-ID header when it
/// sent one), whether or not the request is logged.</summary>
internal sealed class AuditId(RequestDelegate next)
{
    public const string Header = "Audit-Id";

    /// <summary>A request's new id: a random version 4 UUID as Guid.NewGuid and kube's uuid.New make, from a buffer of
    /// secure random bytes per thread. Guid.NewGuid reads the kernel's random device for every one: a system call on every
    /// request, about 2% of a get's server CPU (bench/api/README.md, 2026-12-05).</summary>
    [ThreadStatic] private static Store.UidSource? t_ids;

    public Task InvokeAsync(HttpContext context)
    {
        var id = context.Request.Headers[Header].ToString();
        if (id.Length == 0 || id.Length > 128) id = NewId();
        context.Response.Headers[Header] = id;
        return next(context);
    }

    internal static string NewId() => (t_ids ??= new Store.UidSource()).Next();
}
