using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Api.Http;

/// <summary>
/// A refused API request, carrying what the Kubernetes <c>Status</c> answer needs (HTTP code, reason, message,
/// details). Thrown anywhere below the endpoint and turned into a Status by <see cref="StatusResponses"/>.
/// </summary>
internal sealed class ApiException(int code, string reason, string message, V1StatusDetails? details = null)
    : Exception(message)
{
    public int Code { get; } = code;
    public string Reason { get; } = reason;
    public V1StatusDetails? Details { get; } = details;

    /// <summary>The Status' <c>metadata.continue</c>: the token of an inconsistent remainder a 410 for an expired
    /// continue token offers.</summary>
    public string? Continue { get; init; }

    public static ApiException NotFound(ResourceDescription resource, string name) =>
        new(404, "NotFound", $"{resource.QualifiedResource} \"{name}\" not found", DetailsFor(resource, name));

    /// <summary>What the real server says for a path it does not serve.</summary>
    public static ApiException UnknownPath() =>
        new(404, "NotFound", "the server could not find the requested resource", new V1StatusDetails());

    public static ApiException BadRequest(string message) => new(400, "BadRequest", message);

    public static ApiException MethodNotAllowed(string method) =>
        new(405, "MethodNotAllowed", $"the server does not allow this method on the requested resource ({method})",
            new V1StatusDetails());

    /// <summary>kube-apiserver's 415, naming the media types the endpoint decodes (protobuf only where it does).</summary>
    public static ApiException UnsupportedMediaType(string contentType, bool protobuf = true) =>
        new(415, "UnsupportedMediaType", $"the body of the request was in an unknown format - accepted media types include: " +
            $"application/json, application/yaml{(protobuf ? ", application/vnd.kubernetes.protobuf" : "")} (got \"{contentType}\")");

    /// <summary>kube-apiserver's 406 (negotiation.NewNotAcceptableError) when no form the client accepts can be written;
    /// it names the media types of the endpoint's serializers (built-in kinds and custom resources list the same three).</summary>
    public static ApiException NotAcceptable() =>
        new(406, "NotAcceptable", "only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf");

    /// <summary>kube-apiserver's 406 for a watch in a form without a stream serializer (YAML): NegotiateOutputMediaTypeStream
    /// names the stream types, built-in kinds' and custom resources' alike.</summary>
    public static ApiException NotAcceptableStream() =>
        new(406, "NotAcceptable",
            "only the following media types are accepted: application/json;stream=watch, application/vnd.kubernetes.protobuf;stream=watch");

    /// <summary>kube-apiserver's answer to a body over its limit.</summary>
    public static ApiException TooLarge(long limit) =>
        new(413, "RequestEntityTooLarge", $"Request entity too large: limit is {limit}");

    /// <summary>A body that did not arrive in time (too slowly, or not within <see cref="BodyLimits.BodyReadTimeout"/>).</summary>
    public static ApiException BodyTimeout() =>
        new(408, "Timeout", "the request body did not arrive in time: the client sent it too slowly");

    public static ApiException Invalid(ResourceDescription resource, string name, string field, string message) =>
        Invalid(resource.Group, resource.Kind, name, field, message);

    /// <summary>An object of <paramref name="group"/>/<paramref name="kind"/> that is no resource of its own here (an
    /// autoscaling Scale) is invalid.</summary>
    public static ApiException Invalid(string group, string kind, string name, string field, string message) =>
        new(422, "Invalid", $"{(group.Length == 0 ? kind : $"{kind}.{group}")} \"{name}\" is invalid: {field}: {message}",
            new V1StatusDetails
            {
                Name = name, Group = group, Kind = kind,
                Causes = [new V1StatusCause { Field = field, Reason = CauseReason(message), Message = message }],
            });

    /// <summary>Several causes, as errors.NewInvalid words them: one as <c>field: message</c>, more in brackets.</summary>
    public static ApiException Invalid(string group, string kind, string name, IReadOnlyList<StoreErrorCause> causes) =>
        new(422, "Invalid", StoreErrors.InvalidMessage(group.Length == 0 ? kind : $"{kind}.{group}", name, causes),
            new V1StatusDetails
            {
                Name = name, Group = group, Kind = kind,
                Causes = [.. causes.Select(c => new V1StatusCause { Field = c.Field, Reason = c.Reason, Message = c.Message })],
            });

    /// <summary>The cause's reason for a message in field.Error's words ("Required value", "Unsupported value: …"), as
    /// kube-apiserver derives it from the error's type.</summary>
    internal static string CauseReason(string message) =>
        message.StartsWith("Required value", StringComparison.Ordinal) ? "FieldValueRequired"
        : message.StartsWith("Unsupported value", StringComparison.Ordinal) ? "FieldValueNotSupported"
        : message.StartsWith("Forbidden", StringComparison.Ordinal) ? "FieldValueForbidden"
        : message.StartsWith("Duplicate value", StringComparison.Ordinal) ? "FieldValueDuplicate"
        : "FieldValueInvalid";

    /// <summary>A query parameter kube-apiserver validates as part of the request's options (CreateOptions,
    /// DeleteOptions, ListOptions, …): 422 "CreateOptions.meta.k8s.io \"\" is invalid: dryRun: …".</summary>
    public static ApiException InvalidOptions(string optionsKind, string field, string message, string reason = "FieldValueNotSupported") =>
        new(422, "Invalid", $"{optionsKind}.meta.k8s.io \"\" is invalid: {field}: {message}",
            new V1StatusDetails
            {
                Group = "meta.k8s.io", Kind = optionsKind,
                Causes = [new V1StatusCause { Field = field, Reason = reason, Message = message }],
            });

    public static ApiException Unauthorized() => new(401, "Unauthorized", "Unauthorized");

    public static ApiException Timeout(string message) => new(504, "Timeout", message);

    public static ApiException Unavailable(string message) => new(503, "ServiceUnavailable", message);

    /// <summary>The store's refusal, with details naming the object the request was about.</summary>
    public static ApiException FromStore(StoreError error, ResourceDescription? resource, string? name) =>
        new(error.Code, error.Reason, error.Message,
            error.Subject is { } subject
                ? new V1StatusDetails
                {
                    Name = subject.Name, Group = subject.Group, Kind = subject.Kind,
                    Causes = error.Causes?.Select(c => new V1StatusCause { Field = c.Field, Reason = c.Reason, Message = c.Message }).ToList(),
                }
            : resource is null && error.Causes is null && error.ClientRetryAfterSeconds is null
                ? null
                : new V1StatusDetails
                {
                    Name = name,
                    Group = resource?.Group,
                    // Invalid names the kind (kubectl prints "The Deployment "x" is invalid"); others the resource.
                    Kind = error.Reason == "Invalid" ? resource?.Kind : resource?.Resource,
                    Causes = error.Causes?.Select(c => new V1StatusCause { Field = c.Field, Reason = c.Reason, Message = c.Message })
                        .ToList(),
                    RetryAfterSeconds = error.ClientRetryAfterSeconds,
                });

    private static V1StatusDetails DetailsFor(ResourceDescription resource, string name, IList<V1StatusCause>? causes = null) =>
        new() { Name = name, Group = resource.Group, Kind = resource.Resource, Causes = causes };
}
