namespace Orchestrator.Master.Store;

/// <summary>The store's refusals, worded exactly as the Kubernetes API server words them.</summary>
internal static class StoreErrors
{
    /// <summary>"deployments.apps" or "pods": how Kubernetes names a resource in NotFound/AlreadyExists/Conflict.</summary>
    public static string QualifiedResource(IStoredResource r) => r.Group.Length == 0 ? r.Resource : $"{r.Resource}.{r.Group}";

    /// <summary>"Deployment.apps" or "Pod": how Kubernetes names a kind in Invalid.</summary>
    public static string QualifiedKind(IStoredResource r) => r.Group.Length == 0 ? r.Kind : $"{r.Kind}.{r.Group}";

    public static StoreError NotFound(IStoredResource r, string name) =>
        new(404, "NotFound", $"{QualifiedResource(r)} \"{name}\" not found");

    public static StoreError NamespaceNotFound(string ns) =>
        new(404, "NotFound", $"namespaces \"{ns}\" not found", Subject: new StoreErrorSubject("", "namespaces", ns));

    /// <summary>403: the NamespaceLifecycle admission's refusal of new content in a namespace being deleted.</summary>
    public static StoreError NamespaceTerminating(IStoredResource r, string? name, string ns)
    {
        var subject = string.IsNullOrEmpty(name) ? QualifiedResource(r) : $"{QualifiedResource(r)} \"{name}\"";
        return new StoreError(403, "Forbidden",
            $"{subject} is forbidden: unable to create new content in namespace {ns} because it is being terminated",
            [new StoreErrorCause("metadata.namespace", "NamespaceTerminating", $"namespace {ns} is being terminated")]);
    }

    /// <summary>Kubernetes' HasStatusCause(err, NamespaceTerminatingCause): controllers neither report nor retry it.</summary>
    public static bool IsNamespaceTerminating(StoreError e) => e.Causes?.Any(c => c.Reason == "NamespaceTerminating") == true;

    /// <summary>403 Forbidden: <c>namespaces "default" is forbidden: reason</c>.</summary>
    public static StoreError Forbidden(IStoredResource r, string name, string reason) =>
        new(403, "Forbidden", $"{QualifiedResource(r)} \"{name}\" is forbidden: {reason}");

    /// <summary>409 Conflict with the server's own reason: <c>Operation cannot be fulfilled on namespaces "x": reason</c>.</summary>
    public static StoreError Conflict(IStoredResource r, string name, string reason) =>
        new(409, "Conflict", $"Operation cannot be fulfilled on {QualifiedResource(r)} \"{name}\": {reason}");

    public static StoreError AlreadyExists(IStoredResource r, string name) =>
        new(409, "AlreadyExists", $"{QualifiedResource(r)} \"{name}\" already exists");

    public static StoreError Conflict(IStoredResource r, string name) =>
        new(409, "Conflict", $"Operation cannot be fulfilled on {QualifiedResource(r)} \"{name}\": the object has been " +
                             "modified; please apply your changes to the latest version and try again");

    public static StoreError PreconditionFailed(IStoredResource r, string name, string detail) =>
        new(409, "Conflict", $"Operation cannot be fulfilled on {QualifiedResource(r)} \"{name}\": Precondition failed: {detail}");

    public static StoreError UnknownResource(string resource) =>
        new(404, "NotFound", $"the server could not find the requested resource ({resource})");

    public static StoreError BadRequest(string message) => new(400, "BadRequest", message);

    public static StoreError Expired(long requested, long oldest) =>
        new(410, "Expired", $"too old resource version: {requested} ({oldest})");

    /// <summary>The journal refused this write (disk full, I/O error): it was not stored and not acknowledged.</summary>
    public static StoreError WriteFailed(string reason) => new(500, "InternalError", $"Internal error occurred: {reason}");

    /// <summary>The journal cannot take writes at the moment; reads and watches still work.</summary>
    public static StoreError Unavailable(string reason) => new(503, "ServiceUnavailable", reason);

    /// <summary>Too many writes are waiting for the journal (kube-apiserver's max-in-flight answer, with its Retry-After: 1,
    /// which client-go honours by asking again).</summary>
    public static StoreError TooManyRequests() =>
        new(429, "TooManyRequests", "Too many requests, please try again later.") { ClientRetryAfterSeconds = 1 };

    /// <summary>An object above the store's size limit. kube-apiserver passes etcd's answer through unchanged (500,
    /// no reason), and clients recognise it by this text.</summary>
    public static StoreError RequestTooLarge() => new(500, "", "etcdserver: request is too large");

    /// <summary>422 Invalid: <c>Kind.group "name" is invalid: cause</c>, or <c>[cause1, cause2]</c> for several.</summary>
    public static StoreError Invalid(IStoredResource r, string name, IReadOnlyList<StoreErrorCause> causes) =>
        new(422, "Invalid", InvalidMessage(QualifiedKind(r), name, causes), causes);

    /// <summary>errors.NewInvalid's message: <c>Kind.group "name" is invalid: field: message</c>, several in brackets.</summary>
    public static string InvalidMessage(string qualifiedKind, string name, IReadOnlyList<StoreErrorCause> causes)
    {
        var details = causes.Select(c => $"{c.Field}: {c.Message}").ToList();
        return $"{qualifiedKind} \"{name}\" is invalid: {(details.Count == 1 ? details[0] : $"[{string.Join(", ", details)}]")}";
    }
}
