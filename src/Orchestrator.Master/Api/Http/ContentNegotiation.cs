namespace Orchestrator.Master.Api.Http;

/// <summary>What form of answer the client's Accept header asks for. Bodies are always JSON: kubectl lists
/// protobuf first but accepts JSON, and decodes by the response's Content-Type. Public only because test theories
/// take it as a parameter.</summary>
public enum ResponseForm { Object, Table, PartialObjectMetadata }

internal static class ContentNegotiation
{
    public sealed record MediaRange(string Type, IReadOnlyDictionary<string, string> Parameters)
    {
        public string? this[string key] => Parameters.GetValueOrDefault(key);
    }

    public static IReadOnlyList<MediaRange> ParseAccept(string? accept) =>
        (accept ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .Select(range =>
        {
            var parts = range.Split(';', StringSplitOptions.TrimEntries);
            var parameters = parts.Skip(1)
                .Select(p => p.Split('=', 2, StringSplitOptions.TrimEntries))
                .Where(p => p.Length == 2)
                .GroupBy(p => p[0].ToLowerInvariant())
                .ToDictionary(g => g.Key, g => g.First()[1].Trim('"'));
            return new MediaRange(parts[0].ToLowerInvariant(), parameters);
        })
        .ToList();

    /// <summary>The first meta.k8s.io form the client accepts (Table or PartialObjectMetadata, v1 or v1beta1),
    /// else the plain object; returns the meta.k8s.io apiVersion to answer with.</summary>
    public static (ResponseForm Form, string MetaApiVersion) Negotiate(string? accept)
    {
        foreach (var range in ParseAccept(accept))
        {
            if (range["g"] != "meta.k8s.io") return (ResponseForm.Object, "");
            var version = range["v"] is "v1beta1" ? "meta.k8s.io/v1beta1" : "meta.k8s.io/v1";
            switch (range["as"])
            {
                case "Table":
                    return (ResponseForm.Table, version);
                case "PartialObjectMetadata" or "PartialObjectMetadataList":
                    return (ResponseForm.PartialObjectMetadata, version);
            }
        }
        return (ResponseForm.Object, "");
    }
}
