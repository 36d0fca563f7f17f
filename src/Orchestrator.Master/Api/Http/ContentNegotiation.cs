namespace Orchestrator.Master.Api.Http;

/// <summary>What form of answer the client's Accept header asks for, when it admits JSON (see <see cref="ProtobufAccept"/>
/// for one that takes only protobuf). Public only because test theories take it as a parameter.</summary>
public enum ResponseForm { Object, Table, PartialObjectMetadata }

/// <summary>Whether an answer is protobuf (<see cref="ContentNegotiation.Protobuf"/>).</summary>
internal enum ProtobufAccept
{
    /// <summary>The client admits JSON, or names neither JSON nor protobuf: the answers as before (JSON, Tables).</summary>
    No,
    /// <summary>The client takes only protobuf, and takes the object itself: the answer is protobuf.</summary>
    Object,
    /// <summary>The client takes only protobuf, and only as a Table or PartialObjectMetadata: 406 (not written as protobuf).</summary>
    Converted,
}

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

    public const string ProtobufMediaType = "application/vnd.kubernetes.protobuf";

    /// <summary>
    /// Whether to answer in protobuf. kube-apiserver takes the first Accept range (by q, then specificity) that it can
    /// serve, and serves protobuf for built-in kinds; we answer protobuf only where the choice cannot matter to a client
    /// that also admits JSON: when a range admits protobuf and none admits JSON — kubectl and client-go list JSON as
    /// well, and keep their JSON answers. A range with q=0 admits nothing (RFC 9110; kube 1.32 still takes it as a
    /// lowest choice); <c>*/*</c> and <c>application/*</c> admit JSON; an unparseable q counts as 1. Ranges naming
    /// neither (text/html) change nothing: the answer stays JSON as before. A protobuf range asking for a conversion
    /// (<c>as=Table</c>, <c>as=PartialObjectMetadata</c>) is one we cannot write: <see cref="ProtobufAccept.Converted"/>.
    /// </summary>
    public static ProtobufAccept Protobuf(string? accept)
    {
        // (nearly every request: no parse)
        if (accept is null || !accept.Contains("protobuf", StringComparison.OrdinalIgnoreCase)) return ProtobufAccept.No;
        var plain = false;
        var converted = false;
        foreach (var range in ParseAccept(accept))
        {
            if (range["q"] is { } q && double.TryParse(q, System.Globalization.NumberStyles.Float,
                    System.Globalization.CultureInfo.InvariantCulture, out var quality) && quality <= 0) continue;
            switch (range.Type)
            {
                case "*/*" or "application/*" or "application/json" or "application/yaml":
                    return ProtobufAccept.No;
                case ProtobufMediaType when range["as"] is null:
                    plain = true;
                    break;
                case ProtobufMediaType:
                    converted = true;
                    break;
            }
        }
        return plain ? ProtobufAccept.Object : converted ? ProtobufAccept.Converted : ProtobufAccept.No;
    }

    public const string YamlMediaType = "application/yaml";

    /// <summary>
    /// Whether kube-apiserver would answer in YAML: its NegotiateMediaTypeOptions takes the Accept ranges in goautoneg's
    /// order (by q, then the specific before the wildcard; otherwise as sent) and answers the first one it serves —
    /// JSON for <c>*/*</c> and <c>application/*</c>, JSON when no range matches — skipping a range whose parameters it
    /// cannot honour: a <c>stream=</c> (YAML has no stream serializer) or a conversion (<c>as=</c>) that is not a
    /// meta.k8s.io Table or PartialObjectMetadata(List) nor aggregated discovery. A range with q=0 admits nothing, as in
    /// <see cref="Protobuf"/>. kubectl and client-go never ask for YAML: their answers do not change.
    /// </summary>
    public static bool Yaml(string? accept)
    {
        // (nearly every request: no parse)
        if (accept is null || !accept.Contains("yaml", StringComparison.OrdinalIgnoreCase)) return false;
        foreach (var range in ByPreference(ParseAccept(accept)))
        {
            switch (range.Type)
            {
                case YamlMediaType when Honoured(range):
                    return true;
                case "*/*" or "application/*" or "application/json" or ProtobufMediaType when Honoured(range):
                    return false;
            }
        }
        return false;
    }

    /// <summary>Whether a range's parameters can be served (acceptMediaTypeOptions): no stream, and a known conversion.</summary>
    private static bool Honoured(MediaRange range)
    {
        if (range["stream"] is { Length: > 0 } && range.Type == YamlMediaType) return false;
        if (range["as"] is null && range["g"] is null && range["v"] is null) return true;
        return (range["g"], range["v"], range["as"]) switch
        {
            ("meta.k8s.io", "v1" or "v1beta1", "Table" or "PartialObjectMetadata" or "PartialObjectMetadataList") => true,
            ("apidiscovery.k8s.io", "v2" or "v2beta1", "APIGroupDiscoveryList") => true,
            _ => false,
        };
    }

    /// <summary>The ranges a client admits (q above 0; an unparseable q counts as 1), in goautoneg's order: its sort's
    /// comparison (a higher q first; else a specific type before <c>*</c>, a specific subtype before <c>*</c>) over an
    /// insertion sort, which keeps the order as sent where the comparison does not decide.</summary>
    private static List<MediaRange> ByPreference(IReadOnlyList<MediaRange> ranges)
    {
        var sorted = new List<MediaRange>(ranges.Count);
        foreach (var range in ranges)
            if (Quality(range) > 0) sorted.Add(range);
        for (var i = 1; i < sorted.Count; i++)
            for (var j = i; j > 0 && PreferredTo(sorted[j], sorted[j - 1]); j--)
                (sorted[j], sorted[j - 1]) = (sorted[j - 1], sorted[j]);
        return sorted;
    }

    private static bool PreferredTo(MediaRange a, MediaRange b)
    {
        if (Quality(a) > Quality(b)) return true;
        var (aType, aSub) = Split(a.Type);
        var (bType, bSub) = Split(b.Type);
        if (aType != "*" && bType == "*") return true;
        return aSub != "*" && bSub == "*";
    }

    private static (string Type, string SubType) Split(string mediaType)
    {
        var slash = mediaType.IndexOf('/');
        return slash < 0 ? (mediaType, "*") : (mediaType[..slash], mediaType[(slash + 1)..]);
    }

    private static double Quality(MediaRange range) =>
        range["q"] is { } q && double.TryParse(q, System.Globalization.NumberStyles.Float,
            System.Globalization.CultureInfo.InvariantCulture, out var quality) ? quality : 1;

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
