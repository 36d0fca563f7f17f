using System.Text.Json.Nodes;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Api.Http;

/// <summary>A v1 Status (its JSON, <see cref="StatusResponses.Failure"/>) as a protobuf answer. An interface because the wire
/// messages are a layer above this one (Api/Protobuf); the API registers the encoder as a service.</summary>
internal interface IProtobufStatusEncoder
{
    byte[] Encode(JsonObject status);
}

/// <summary>Writes Kubernetes <c>Status</c> objects: every error the API returns is one (never an HTML page).</summary>
internal static class StatusResponses
{
    // Built as JSON by hand: the KubernetesClient package's V1Status converter cannot write.
    public static JsonObject Failure(ApiException error)
    {
        var status = new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = error.Continue is { } token ? new JsonObject { ["continue"] = token } : new JsonObject(),
            ["status"] = "Failure",
            ["message"] = error.Message,
        };
        // An empty reason (StatusReasonUnknown) is left out, as Kubernetes' omitempty does.
        if (error.Reason.Length > 0) status["reason"] = error.Reason;
        if (error.Details is not null) status["details"] = JsonNode.Parse(KubeObjects.Serialize(error.Details));
        status["code"] = error.Code;
        return status;
    }

    public static JsonObject Success(int code) => new()
    {
        ["kind"] = "Status",
        ["apiVersion"] = "v1",
        ["metadata"] = new JsonObject(),
        ["status"] = "Success",
        ["code"] = code,
    };

    private static readonly System.Text.Json.JsonWriterOptions StreamOptions = new() { Encoder = ObjectJson.WriteOptions.Encoder };

    /// <summary>Writes the Status straight to the response: a refusal can name many causes (an object with 50,000 invalid
    /// labels), and building it as a tree and a string first would cost many times its size.</summary>
    public static async Task WriteAsync(HttpContext context, ApiException error)
    {
        if (context.Response.HasStarted) return;
        context.Response.StatusCode = error.Code;
        // kube's responsewriters set the header from the Status' retryAfterSeconds: client-go reads the header, not the
        // body, to retry a 429 or 5xx by itself
        if (error.Details?.RetryAfterSeconds is { } retryAfter && retryAfter > 0)
            context.Response.Headers.RetryAfter = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var ct = context.RequestAborted;
        // kube negotiates an error's Status like any answer (ErrorNegotiated, with no conversion): a client that takes only
        // protobuf gets it as protobuf, whatever the path (a 406 for a custom resource too)
        if (ContentNegotiation.Protobuf(context.Request.Headers.Accept) == ProtobufAccept.Object &&
            context.RequestServices?.GetService<IProtobufStatusEncoder>() is { } protobuf)
        {
            var body = protobuf.Encode(Failure(error));
            context.Response.ContentType = ContentNegotiation.ProtobufMediaType;
            context.Response.ContentLength = body.Length;
            await context.Response.Body.WriteAsync(body, ct);
            return;
        }
        context.Response.ContentType = "application/json";
        await using var writer = new System.Text.Json.Utf8JsonWriter(context.Response.Body, StreamOptions);
        writer.WriteStartObject();
        writer.WriteString("kind", "Status");
        writer.WriteString("apiVersion", "v1");
        writer.WriteStartObject("metadata");
        if (error.Continue is { } token) writer.WriteString("continue", token);
        writer.WriteEndObject();
        writer.WriteString("status", "Failure");
        writer.WriteString("message", error.Message);
        WriteIfSet(writer, "reason", error.Reason); // omitempty, as in Failure
        if (error.Details is { } details)
        {
            writer.WriteStartObject("details");
            WriteIfSet(writer, "name", details.Name);
            WriteIfSet(writer, "group", details.Group);
            WriteIfSet(writer, "kind", details.Kind);
            WriteIfSet(writer, "uid", details.Uid);
            if (details.Causes is { Count: > 0 } causes)
            {
                writer.WriteStartArray("causes");
                foreach (var cause in causes)
                {
                    writer.WriteStartObject();
                    WriteIfSet(writer, "reason", cause.Reason);
                    WriteIfSet(writer, "message", cause.Message);
                    WriteIfSet(writer, "field", cause.Field);
                    writer.WriteEndObject();
                    if (writer.BytesPending > 32 * 1024) await writer.FlushAsync(ct);
                }
                writer.WriteEndArray();
            }
            if (details.RetryAfterSeconds is { } retry) writer.WriteNumber("retryAfterSeconds", retry);
            writer.WriteEndObject();
        }
        writer.WriteNumber("code", error.Code);
        writer.WriteEndObject();
        await writer.FlushAsync(ct);
        await context.Response.Body.WriteAsync("\n"u8.ToArray(), ct); // as Go's json.Encoder ends every document
    }

    private static void WriteIfSet(System.Text.Json.Utf8JsonWriter writer, string name, string? value)
    {
        if (!string.IsNullOrEmpty(value)) writer.WriteString(name, value);
    }

    /// <summary>Runs a request handler, answering refusals and unexpected failures with a Status. A 500 names no internal
    /// type or message: the details go to the log (<paramref name="logger"/>, or when null the API's logger of the
    /// request's services, looked up only when there is something to log: not on every request).</summary>
    public static async Task GuardAsync(HttpContext context, Func<Task> handler, ILogger? logger = null)
    {
        try
        {
            await handler();
        }
        catch (ApiException e)
        {
            await WriteAsync(context, e);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away: nothing to answer.
        }
        catch (BadHttpRequestException e)
        {
            // Kestrel's own refusals while the body is read: too large, too slow, malformed chunking.
            await WriteAsync(context, FromKestrel(e));
        }
        catch (InsufficientExecutionStackException e)
        {
            // A recursion the body limits should have prevented: refuse the request rather than lose the process.
            (logger ?? ApiLogger(context)).LogError(e, "{Method} {Path} nested too deeply", context.Request.Method, context.Request.Path);
            await WriteAsync(context, ApiException.BadRequest($"the request nests deeper than the server handles (limit {BodyLimits.MaxDepth})"));
        }
        catch (Exception e)
        {
            (logger ?? ApiLogger(context)).LogError(e, "{Method} {Path} failed", context.Request.Method, context.Request.Path);
            await WriteAsync(context, new ApiException(500, "InternalError",
                "Internal error occurred: the server could not handle the request; its log has the details"));
        }
    }

    private static ILogger ApiLogger(HttpContext context) =>
        context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Orchestrator.Master.Api");

    public static ApiException FromKestrel(BadHttpRequestException e) => e.StatusCode switch
    {
        StatusCodes.Status413PayloadTooLarge => ApiException.TooLarge(BodyLimits.MaxBodyBytes),
        StatusCodes.Status408RequestTimeout => ApiException.BodyTimeout(),
        _ => ApiException.BadRequest($"the request body could not be read: {e.Message}"),
    };
}
