using System.Text;
using System.Text.Json;
using k8s;
using k8s.Models;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Api.Rest;

/// <summary>
/// The selection part of list, watch and deletecollection requests: labelSelector, fieldSelector, and
/// limit/continue paging (pages are cut from a fresh list sorted by namespace and name; the continue token
/// carries the last key served).
/// </summary>
internal sealed record ListQuery(LabelSelector Labels, FieldSelector Fields, int Limit, string? ContinueAfter,
    string ResourceVersion = "", string ResourceVersionMatch = "")
{
    public static ListQuery From(HttpContext context, ResourceDescription resource)
    {
        var query = context.Request.Query;
        LabelSelector labels;
        try
        {
            labels = LabelSelector.Parse(query["labelSelector"]);
        }
        catch (FormatException e)
        {
            throw ApiException.BadRequest($"unable to parse requirement: {e.Message}");
        }
        var fields = FieldSelector.Parse(query["fieldSelector"], resource);
        var limit = 0;
        if (query["limit"].ToString() is { Length: > 0 } limitText && (!int.TryParse(limitText, out limit) || limit < 0))
            throw ApiException.BadRequest($"invalid limit \"{limitText}\"");
        var continueAfter = query["continue"].ToString() is { Length: > 0 } token ? DecodeContinue(token) : null;
        return new ListQuery(labels, fields, limit, continueAfter, query["resourceVersion"].ToString(),
            query["resourceVersionMatch"].ToString());
    }

    /// <summary>
    /// The API server's checks of list options (ValidateListOptions): resourceVersionMatch only with a resourceVersion,
    /// never with continue, Exact or NotOlderThan (Exact not for "0"); on a watch only NotOlderThan and only with
    /// sendInitialEvents; sendInitialEvents only on a watch. A violation is 422 Invalid naming ListOptions.
    /// </summary>
    public void Validate(HttpContext context, bool watch)
    {
        var query = context.Request.Query;
        var sendInitialEvents = query.ContainsKey("sendInitialEvents");
        var continued = query["continue"].ToString().Length > 0;
        var errors = new List<(string Field, string Reason, string Message)>();
        void Forbidden(string field, string message) => errors.Add((field, "FieldValueForbidden", $"Forbidden: {message}"));
        var match = ResourceVersionMatch;
        if (watch)
        {
            if (sendInitialEvents && match != "NotOlderThan")
                Forbidden("resourceVersionMatch", "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan");
            if (match.Length > 0)
            {
                if (!sendInitialEvents)
                    Forbidden("resourceVersionMatch", "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided");
                if (match != "NotOlderThan")
                    errors.Add(("resourceVersionMatch", "FieldValueNotSupported",
                        $"Unsupported value: \"{match}\": supported values: \"NotOlderThan\""));
                if (continued) Forbidden("resourceVersionMatch", "resourceVersionMatch is forbidden when continue is provided");
            }
        }
        else
        {
            if (match.Length > 0)
            {
                if (ResourceVersion.Length == 0)
                    Forbidden("resourceVersionMatch", "resourceVersionMatch is forbidden unless resourceVersion is provided");
                if (continued) Forbidden("resourceVersionMatch", "resourceVersionMatch is forbidden when continue is provided");
                if (match is not ("Exact" or "NotOlderThan"))
                    errors.Add(("resourceVersionMatch", "FieldValueNotSupported",
                        $"Unsupported value: \"{match}\": supported values: \"Exact\", \"NotOlderThan\", \"\""));
                if (match == "Exact" && ResourceVersion == "0")
                    Forbidden("resourceVersionMatch", "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"");
            }
            if (sendInitialEvents) Forbidden("sendInitialEvents", "sendInitialEvents is forbidden for list");
        }
        if (errors.Count == 0) return;
        var details = errors.Select(e => $"{e.Field}: {e.Message}").ToList();
        throw new ApiException(422, "Invalid",
            $"ListOptions.meta.k8s.io \"\" is invalid: {(details.Count == 1 ? details[0] : $"[{string.Join(", ", details)}]")}",
            new V1StatusDetails
            {
                Group = "meta.k8s.io", Kind = "ListOptions",
                Causes = errors.Select(e => new V1StatusCause { Field = e.Field, Reason = e.Reason, Message = e.Message }).ToList(),
            });
    }

    /// <summary>
    /// A list's resourceVersion against the store's current one: unset or "0" is any (the current state); N with
    /// NotOlderThan (the default) needs the store to have reached N — a version it has not reached is 504 "Too large
    /// resource version", as the API server answers once its wait runs out; Exact N is served when N is the current
    /// version. The store keeps no older states to list from, so an older Exact N is 410 Expired, as a compacted one is.
    /// </summary>
    private void CheckResourceVersion(long current)
    {
        if (ResourceVersion is "" or "0") return;
        if (!long.TryParse(ResourceVersion, out var requested) || requested < 0)
            throw ApiException.BadRequest($"invalid resourceVersion \"{ResourceVersion}\"");
        if (requested > current)
            throw new ApiException(504, "Timeout", $"Too large resource version: {requested}, current: {current}",
                new V1StatusDetails
                {
                    Causes = [new V1StatusCause { Reason = "ResourceVersionTooLarge", Message = "Too large resource version" }],
                    RetryAfterSeconds = 1,
                });
        if (ResourceVersionMatch == "Exact" && requested < current)
            throw new ApiException(410, "Expired", $"too old resource version: {requested} ({current})");
    }

    public bool Matches(IKubernetesObject<V1ObjectMeta> obj) =>
        Labels.Matches(obj.Metadata?.Labels) && Fields.Matches(obj);

    public bool IsFiltered => !Labels.IsEmpty || !Fields.IsEmpty;

    public static string SortKey(IKubernetesObject<V1ObjectMeta> obj) =>
        $"{obj.Metadata?.NamespaceProperty}/{obj.Metadata?.Name}";

    /// <summary>The matching items of a full list, sorted, cut to one page.</summary>
    public (IReadOnlyList<IKubernetesObject<V1ObjectMeta>> Page, V1ListMeta Metadata) Select(ObjectsListed listed)
    {
        CheckResourceVersion(listed.ResourceVersion);
        var matching = listed.Items.Where(Matches)
            .OrderBy(SortKey, StringComparer.Ordinal)
            .Where(o => ContinueAfter is null || string.CompareOrdinal(SortKey(o), ContinueAfter) > 0)
            .ToList();
        var metadata = new V1ListMeta { ResourceVersion = listed.ResourceVersion.ToString() };
        if (Limit <= 0 || matching.Count <= Limit) return (matching, metadata);

        var page = matching.Take(Limit).ToList();
        metadata.ContinueProperty = EncodeContinue(SortKey(page[^1]));
        metadata.RemainingItemCount = matching.Count - Limit;
        return (page, metadata);
    }

    private static string EncodeContinue(string lastKey) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new ContinueToken(lastKey))));

    private static string DecodeContinue(string token)
    {
        try
        {
            return JsonSerializer.Deserialize<ContinueToken>(Convert.FromBase64String(token))?.After
                   ?? throw new FormatException();
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            throw ApiException.BadRequest("continue key is not valid: incorrect encoded start resourceVersion");
        }
    }

    private sealed record ContinueToken(string After);
}
