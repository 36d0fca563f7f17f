using Orchestrator.Master.Api.Security;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Api.Authorization;

/// <summary>What a request asks to do, as k8s.io/apiserver's authorizer.Attributes: a verb on a resource (group,
/// resource, subresource, namespace, name) or on a non-resource path.</summary>
internal sealed record AuthorizationAttributes(UserInfo User, string Verb, bool IsResourceRequest, string Path = "",
    string ApiGroup = "", string ApiVersion = "", string Resource = "", string Subresource = "", string Namespace = "",
    string Name = "", string FieldSelector = "")
{
    private static readonly HashSet<string> SpecialVerbs = ["proxy", "watch"];
    private static readonly HashSet<string> NamespaceSubresources = ["status", "finalize"];

    /// <summary>The attributes of an HTTP request, parsed as kube-apiserver's RequestInfoFactory does.</summary>
    public static AuthorizationAttributes Of(UserInfo user, string method, string path, IQueryCollection query)
    {
        var nonResource = new AuthorizationAttributes(user, method.ToLowerInvariant(), false, path);
        var parts = path.Trim('/').Split('/');
        if (parts.Length < 3 || parts[0] is not ("api" or "apis")) return nonResource;
        var current = parts[1..];
        var group = "";
        if (parts[0] == "apis")
        {
            if (current.Length < 3) return nonResource;
            group = current[0];
            current = current[1..];
        }
        var version = current[0];
        current = current[1..];
        string verb;
        if (SpecialVerbs.Contains(current[0]))
        {
            if (current.Length < 2) return nonResource with { Verb = "" };
            verb = current[0];
            current = current[1..];
        }
        else
        {
            verb = method switch
            {
                "POST" => "create", "GET" or "HEAD" => "get", "PUT" => "update", "PATCH" => "patch", "DELETE" => "delete",
                _ => "",
            };
        }
        var ns = "";
        if (current[0] == "namespaces" && current.Length > 1)
        {
            ns = current[1];
            if (current.Length > 2 && !NamespaceSubresources.Contains(current[2])) current = current[2..];
        }
        var resource = current[0];
        var name = current.Length >= 2 ? current[1] : "";
        var subresource = current.Length >= 3 && verb != "proxy" ? current[2] : "";
        var fieldSelector = query["fieldSelector"].FirstOrDefault() ?? ""; // the first, as kube's query conversion takes it
        if (name.Length == 0 && verb == "get")
        {
            verb = query["watch"].ToString() is "true" or "1" ? "watch" : "list";
            if (MetadataNameOf(fieldSelector) is { } selected && !selected.Contains('/') &&
                !selected.Contains('%') && selected is not ("." or ".."))
                name = selected;
        }
        if (name.Length == 0 && verb == "delete") verb = "deletecollection";
        return new AuthorizationAttributes(user, verb, true, path, group, version, resource, subresource, ns, name,
            fieldSelector);
    }

    /// <summary>The name a field selector requires exactly (metadata.name=x or ==x), as RequiresExactMatch; none when
    /// the selector does not parse (kube then authorizes the list without a name).</summary>
    private static string? MetadataNameOf(string selector) =>
        TermsOf(selector) is { } terms ? FieldSelectorSyntax.RequiredValue(terms, "metadata.name") : null;

    /// <summary>Whether the field selector requires <paramref name="field"/> to equal <paramref name="value"/> (a
    /// requirement "field=value" or "field==value", as kube's GetFieldSelector requirements are matched).</summary>
    public bool SelectsField(string field, string value) =>
        TermsOf(FieldSelector)?.Any(t => t.Equal && t.Field == field && t.Value == value) == true;

    private static IReadOnlyList<FieldSelectorSyntax.Term>? TermsOf(string selector)
    {
        try
        {
            return FieldSelectorSyntax.Parse(selector);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>"resource/subresource", or the resource alone.</summary>
    public string CombinedResource => Subresource.Length > 0 ? Resource + "/" + Subresource : Resource;
}
