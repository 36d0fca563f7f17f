using System.Text.Json.Nodes;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Api.Http;

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
            ["metadata"] = new JsonObject(),
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

    public static async Task WriteAsync(HttpContext context, ApiException error)
    {
        if (context.Response.HasStarted) return;
        context.Response.StatusCode = error.Code;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(ObjectJson.Write(Failure(error)), context.RequestAborted);
    }

    /// <summary>Runs a request handler, answering refusals and unexpected failures with a Status.</summary>
    public static async Task GuardAsync(HttpContext context, Func<Task> handler, ILogger logger)
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
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            await WriteAsync(context, new ApiException(413, "RequestEntityTooLarge", e.Message));
        }
        catch (Exception e)
        {
            logger.LogError(e, "{Method} {Path} failed", context.Request.Method, context.Request.Path);
            await WriteAsync(context, new ApiException(500, "InternalError",
                $"Internal error occurred: {e.GetType().Name}: {e.Message}"));
        }
    }
}
