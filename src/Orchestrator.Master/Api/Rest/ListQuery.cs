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
        return new ListQuery(labels, fields, limit, continueAfter);
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
