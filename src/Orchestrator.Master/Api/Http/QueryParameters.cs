namespace Orchestrator.Master.Api.Http;

/// <summary>Query parameters read as the API server's conversion reads them.</summary>
internal static class QueryParameters
{
    /// <summary>A boolean parameter as Go's strconv.ParseBool reads it (1, t, T, TRUE, true, True and their false
    /// forms); absent or empty is false, anything else a 400 — the Python client sends <c>watch=True</c>.</summary>
    public static bool Bool(HttpContext context, string name)
    {
        var text = context.Request.Query[name].ToString();
        return text switch
        {
            "" => false,
            "1" or "t" or "T" or "TRUE" or "true" or "True" => true,
            "0" or "f" or "F" or "FALSE" or "false" or "False" => false,
            _ => throw ApiException.BadRequest($"invalid value for {name}: strconv.ParseBool: parsing \"{text}\": invalid syntax"),
        };
    }
}
