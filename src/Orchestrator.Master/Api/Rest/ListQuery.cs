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
internal sealed record ListQuery(LabelSelector Labels, FieldSelector Fields, int Limit, string? ContinueAfter)
{
    /// <summary><c>resourceVersion</c> and <c>resourceVersionMatch</c> of a list (Exact is served only for the
    /// current version: no older lists are kept).</summary>
    public long? ResourceVersion { get; init; }
    public string ResourceVersionMatch { get; init; } = "";

    public static ListQuery From(HttpContext context, ResourceDescription resource)
    {
        var query = context.Request.Query;
        var watching = query["watch"].ToString() is "true" or "1";
        var resourceVersion = ParseResourceVersion(context);
        var match = query["resourceVersionMatch"].ToString();
        if (match.Length > 0)
        {
            var problem = watching ? "Forbidden: resourceVersionMatch is forbidden for watch"
                : resourceVersion is null ? "Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided"
                : query["continue"].ToString().Length > 0 ? "Forbidden: resourceVersionMatch is forbidden when continue is provided"
                : match is not ("Exact" or "NotOlderThan") ? $"Unsupported value: \"{match}\": supported values: \"Exact\", \"NotOlderThan\", \"\""
                : match == "Exact" && resourceVersion == 0 ? "Forbidden: resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\""
                : null;
            if (problem is not null) throw ApiException.InvalidOptions("ListOptions", "resourceVersionMatch", problem);
        }
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
        if (query["timeoutSeconds"].ToString() is { Length: > 0 } timeoutText && !long.TryParse(timeoutText, out _))
            throw ApiException.BadRequest($"strconv.ParseInt: parsing \"{timeoutText}\": invalid syntax");
        return new ListQuery(labels, fields, limit, continueAfter) { ResourceVersion = resourceVersion, ResourceVersionMatch = match };
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

    /// <summary>resourceVersionMatch=Exact asks for a list at one version; only the current one exists here, an older
    /// one has expired (410, as a compacted version answers).</summary>
    public void CheckListedVersion(long listed)
    {
        if (ResourceVersionMatch == "Exact" && ResourceVersion is { } exact && exact != listed)
            throw new ApiException(410, "Expired", $"too old resource version: {exact} ({listed})");
    }

    public bool Matches(IKubernetesObject<V1ObjectMeta> obj) =>
        Labels.Matches(obj.Metadata?.Labels) && Fields.Matches(obj);

    public bool IsFiltered => !Labels.IsEmpty || !Fields.IsEmpty;

    public static string SortKey(IKubernetesObject<V1ObjectMeta> obj) =>
        $"{obj.Metadata?.NamespaceProperty}/{obj.Metadata?.Name}";

    /// <summary>The matching items of a full list, sorted, cut to one page.</summary>
    public (IReadOnlyList<IKubernetesObject<V1ObjectMeta>> Page, V1ListMeta Metadata) Select(ObjectsListed listed)
    {
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
