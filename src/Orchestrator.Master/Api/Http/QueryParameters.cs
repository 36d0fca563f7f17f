namespace Orchestrator.Master.Api.Http;

/// <summary>Query parameters read as the API server's conversion reads them.</summary>
internal static class QueryParameters
{
    /// <summary>A boolean parameter as the API server's parameter codec reads it (apimachinery's
    /// Convert_Slice_string_To_bool): absent is false; "0" and "false" in any case are false; every other value — the
    /// Python client's <c>watch=True</c>, an empty <c>?watch</c> — is true.</summary>
    public static bool Bool(HttpContext context, string name) => Bool(context.Request.Query, name);

    public static bool Bool(IQueryCollection query, string name)
    {
        var values = query[name];
        if (values.Count == 0) return false;
        var first = values[0] ?? "";
        return first != "0" && !first.Equals("false", StringComparison.OrdinalIgnoreCase);
    }
}
