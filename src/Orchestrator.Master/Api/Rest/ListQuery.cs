using System.Text;
using System.Buffers.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using k8s;
using k8s.Models;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Api.Rest;

/// <summary>
/// The selection part of list, watch and deletecollection requests: labelSelector, fieldSelector, and
/// limit/continue paging. Pages are cut from one list sorted by namespace and name (<see cref="ListSnapshot"/>); the
/// continue token is kube-apiserver's — base64 of {"v":"meta.k8s.io/v1","rv":…,"start":…} — with the list's
/// resourceVersion and the key to start from (the last key served and a NUL), rv -1 for an inconsistent remainder.
/// </summary>
internal sealed record ListQuery(LabelSelector Labels, FieldSelector Fields, int Limit, string? ContinueFrom)
{
    /// <summary>The resourceVersion of the list a continue token continues (-1: the current state).</summary>
    public long ContinueVersion { get; init; }

    /// <summary><c>resourceVersion</c> and <c>resourceVersionMatch</c> of a list (Exact is served only for the
    /// current version: no older lists are kept).</summary>
    public long? ResourceVersion { get; init; }
    public string ResourceVersionMatch { get; init; } = "";

    public static ListQuery From(HttpContext context, ResourceDescription resource)
    {
        var query = context.Request.Query;
        var watching = QueryParameters.Bool(query, "watch");
        var resourceVersion = ParseResourceVersion(context);
        var match = query["resourceVersionMatch"].ToString();
        // As kube's list handler: the selectors are parsed with the other parameters (a 400 with the parser's message),
        // then the options are validated (422), then the field selector's fields are checked against the resource. A
        // parameter given twice counts once, by its first value, as kube's query conversion takes it.
        LabelSelector labels;
        IReadOnlyList<FieldSelectorSyntax.Term> fieldTerms;
        try
        {
            labels = LabelSelector.Parse(query["labelSelector"].FirstOrDefault());
            fieldTerms = FieldSelectorSyntax.Parse(query["fieldSelector"].FirstOrDefault());
        }
        catch (FormatException e)
        {
            throw ApiException.BadRequest(e.Message);
        }
        ValidateOptions(query, watching, resourceVersion, match);
        var fields = FieldSelector.For(fieldTerms, resource);
        var limit = 0;
        if (query["limit"].ToString() is { Length: > 0 } limitText && (!int.TryParse(limitText, out limit) || limit < 0))
            throw ApiException.BadRequest($"invalid limit \"{limitText}\"");
        var (continueFrom, continueVersion) = query["continue"].ToString() is { Length: > 0 } token ? DecodeContinue(token) : (null, 0);
        if (continueFrom is not null && !watching && resourceVersion is > 0)
            throw ApiException.BadRequest("specifying resource version is not allowed when using continue");
        if (query["timeoutSeconds"].ToString() is { Length: > 0 } timeoutText && !long.TryParse(timeoutText, out _))
            throw ApiException.BadRequest($"strconv.ParseInt: parsing \"{timeoutText}\": invalid syntax");
        return new ListQuery(labels, fields, limit, continueFrom)
        {
            ResourceVersion = resourceVersion, ResourceVersionMatch = match, ContinueVersion = continueVersion,
        };
    }

    /// <summary>
    /// The API server's checks of list options (ValidateListOptions), the first violation as 422 Invalid naming
    /// ListOptions: on a list, resourceVersionMatch only with a resourceVersion and never with continue, Exact or
    /// NotOlderThan (Exact not for "0"), and no sendInitialEvents; on a watch, resourceVersionMatch only NotOlderThan and
    /// only with sendInitialEvents, which needs it.
    /// </summary>
    private static void ValidateOptions(IQueryCollection query, bool watching, long? resourceVersion, string match)
    {
        var sendInitialEvents = query.ContainsKey("sendInitialEvents");
        var continued = query["continue"].ToString().Length > 0;
        string? problem;
        if (watching)
        {
            problem = sendInitialEvents && match != "NotOlderThan"
                    ? "Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"
                : match.Length == 0 ? null
                : !sendInitialEvents ? "Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided"
                : match != "NotOlderThan" ? $"Unsupported value: \"{match}\": supported values: \"NotOlderThan\""
                : continued ? "Forbidden: resourceVersionMatch is forbidden when continue is provided"
                : null;
        }
        else
        {
            problem = match.Length == 0 ? null
                : resourceVersion is null ? "Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided"
                : continued ? "Forbidden: resourceVersionMatch is forbidden when continue is provided"
                : match is not ("Exact" or "NotOlderThan") ? $"Unsupported value: \"{match}\": supported values: \"Exact\", \"NotOlderThan\", \"\""
                : match == "Exact" && resourceVersion == 0 ? "Forbidden: resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\""
                : null;
            if (problem is null && sendInitialEvents)
                throw ApiException.InvalidOptions("ListOptions", "sendInitialEvents", "Forbidden: sendInitialEvents is forbidden for list");
        }
        if (problem is not null) throw ApiException.InvalidOptions("ListOptions", "resourceVersionMatch", problem);
    }

    /// <summary><c>?resourceVersion=</c> of a get, list or watch: absent, or a non-negative integer (400 otherwise, as
    /// kube-apiserver's storage answers).</summary>
    public static long? ParseResourceVersion(HttpContext context)
    {
        var text = context.Request.Query["resourceVersion"].ToString();
        if (text.Length == 0) return null;
        if (text.All(char.IsAsciiDigit) && ulong.TryParse(text, out var parsed) && parsed <= long.MaxValue) return (long)parsed;
        throw ApiException.BadRequest($"invalid resource version: resourceVersion: Invalid value: \"{text}\": " +
                                      $"strconv.ParseUint: parsing \"{text}\": invalid syntax");
    }

    /// <summary>
    /// A list's resourceVersion against the store's current one: unset or 0 is any (the current state); N with
    /// NotOlderThan (the default) needs the store to have reached N — a version it has not reached is 504 "Too large
    /// resource version", as the API server answers once its wait runs out; Exact N is served when N is the current
    /// version. The store keeps no older lists, so an older Exact N is 410 Expired, as a compacted version answers.
    /// </summary>
    public void CheckListedVersion(long listed)
    {
        if (ResourceVersion is not { } requested || requested == 0) return;
        if (requested > listed)
            throw new ApiException(504, "Timeout", $"Too large resource version: {requested}, current: {listed}",
                new V1StatusDetails
                {
                    Causes = [new V1StatusCause { Reason = "ResourceVersionTooLarge", Message = "Too large resource version" }],
                    RetryAfterSeconds = 1,
                });
        if (ResourceVersionMatch == "Exact" && requested != listed)
            throw new ApiException(410, "Expired", $"too old resource version: {requested} ({listed})");
    }

    public bool Matches(IKubernetesObject<V1ObjectMeta> obj) =>
        Labels.Matches(obj.Metadata?.Labels) && Fields.Matches(obj);

    public bool IsFiltered => !Labels.IsEmpty || !Fields.IsEmpty;

    public static string SortKey(IKubernetesObject<V1ObjectMeta> obj) =>
        $"{obj.Metadata?.NamespaceProperty}/{obj.Metadata?.Name}";

    /// <summary>The matching items of a full list, sorted, cut to one page.</summary>
    public (IReadOnlyList<IKubernetesObject<V1ObjectMeta>> Page, V1ListMeta Metadata) Select(ObjectsListed listed) =>
        Select(ListSnapshot.Of(listed));

    /// <summary>The matching items of the list from the continue token's key on, cut to one page; the page's metadata
    /// carries the list's resourceVersion, and when more match, a continue token and how many more
    /// (remainingItemCount).</summary>
    public (IReadOnlyList<IKubernetesObject<V1ObjectMeta>> Page, V1ListMeta Metadata) Select(ListSnapshot list)
    {
        var metadata = new V1ListMeta { ResourceVersion = list.ResourceVersion.ToString() };
        if (ContinueFrom is null && !IsFiltered && (Limit <= 0 || list.Listed.Count <= Limit)) return (list.Listed, metadata);
        var items = list.Items;
        var start = ContinueFrom is null ? 0 : list.IndexFrom(ContinueFrom);
        if (!IsFiltered && (Limit <= 0 || items.Count - start <= Limit)) return (Slice(items, start, items.Count - start), metadata);

        var page = new List<IKubernetesObject<V1ObjectMeta>>(Limit > 0 ? Math.Min(Limit, items.Count - start) : 0);
        var last = -1;
        var remaining = 0;
        for (var i = start; i < items.Count; i++)
        {
            if (IsFiltered && !Matches(items[i])) continue;
            if (Limit <= 0 || page.Count < Limit)
            {
                page.Add(items[i]);
                last = i;
            }
            else if (IsFiltered) remaining++;
            else
            {
                remaining = items.Count - i;
                break;
            }
        }
        if (remaining == 0) return (page, metadata);
        metadata.ContinueProperty = EncodeContinue(list.Key(last) + "\0", list.ResourceVersion);
        metadata.RemainingItemCount = remaining;
        return (page, metadata);
    }

    private static List<IKubernetesObject<V1ObjectMeta>> Slice(IReadOnlyList<IKubernetesObject<V1ObjectMeta>> items, int start, int count)
    {
        var slice = new List<IKubernetesObject<V1ObjectMeta>>(count);
        for (var i = start; i < start + count; i++) slice.Add(items[i]);
        return slice;
    }

    /// <summary>A continue token: the list's resourceVersion (-1 for the current state) and the key to start from.</summary>
    public static string EncodeContinue(string start, long resourceVersion) =>
        Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(new ContinueToken("meta.k8s.io/v1", resourceVersion, start)));

    private const string InvalidContinue = "continue key is not valid: incorrect encoded start resourceVersion";

    private static (string Start, long ResourceVersion) DecodeContinue(string token)
    {
        ContinueToken? decoded;
        try
        {
            // kube writes the token unpadded in the URL alphabet; older tokens were padded standard base64.
            var text = token.TrimEnd('=').Replace('+', '-').Replace('/', '_');
            decoded = JsonSerializer.Deserialize<ContinueToken>(Base64Url.DecodeFromChars(text));
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            throw ApiException.BadRequest(InvalidContinue);
        }
        if (decoded is null || decoded.ResourceVersion == 0 || decoded.Version != "meta.k8s.io/v1" || string.IsNullOrEmpty(decoded.Start))
            throw ApiException.BadRequest(InvalidContinue);
        return (decoded.Start, decoded.ResourceVersion);
    }

    private sealed record ContinueToken(
        [property: JsonPropertyName("v")] string Version,
        [property: JsonPropertyName("rv")] long ResourceVersion,
        [property: JsonPropertyName("start")] string Start);
}
