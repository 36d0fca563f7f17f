using k8s;
using k8s.Models;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Api.Rest;

/// <summary>Query options and metadata checks shared by the write verbs.</summary>
internal static class WriteOptions
{
    /// <summary><c>?dryRun=All</c> (the only value Kubernetes defines).</summary>
    public static bool DryRun(HttpContext context)
    {
        var values = context.Request.Query["dryRun"];
        if (values.Count == 0) return false;
        if (values.Any(v => v != "All"))
            throw ApiException.InvalidOptions(Bodies.RequestBodies.OptionsKind(context.Request.Method), "dryRun",
                $"Unsupported value: []string{{{string.Join(", ", values.Select(v => $"\"{v}\""))}}}: supported values: \"All\"");
        return true;
    }

    /// <summary>The field manager of a create, update or patch: <c>?fieldManager=</c>, else the User-Agent up to its
    /// first "/" (kubectl's "kubectl-create/v1.32…" → "kubectl-create"), as kube-apiserver names it; null when neither
    /// says anything. At most 128 printable characters, or 422 as the real server answers.</summary>
    public static FieldManager? Manager(HttpContext context)
    {
        var name = context.Request.Query["fieldManager"].ToString();
        if (name.Length > 0) CheckManager(context, name);
        else name = context.Request.Headers.UserAgent.ToString().Split('/')[0];
        if (name.Length > MaxManagerLength) name = name[..MaxManagerLength];
        return name.Length > 0 ? new FieldManager(name) : null;
    }

    private const int MaxManagerLength = 128;

    /// <summary>The fieldManager of an apply, which has none by default.</summary>
    public static void CheckManager(HttpContext context, string name)
    {
        var kind = Bodies.RequestBodies.OptionsKind(context.Request.Method);
        if (System.Text.Encoding.UTF8.GetByteCount(name) > MaxManagerLength)
            throw ApiException.InvalidOptions(kind, "fieldManager", $"Too long: may not be more than {MaxManagerLength} bytes");
        var position = 0;
        foreach (var rune in name.EnumerateRunes())
        {
            if (!IsPrint(rune))
                throw ApiException.InvalidOptions(kind, "fieldManager",
                    $"Invalid value: \"{name}\": invalid character U+{rune.Value:X4} (at position {position})");
            position += rune.Utf8SequenceLength;
        }
    }

    /// <summary>Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space.</summary>
    private static bool IsPrint(System.Text.Rune rune) => rune.Value == ' ' || System.Text.Rune.GetUnicodeCategory(rune) switch
    {
        System.Globalization.UnicodeCategory.Control or System.Globalization.UnicodeCategory.Format
            or System.Globalization.UnicodeCategory.Surrogate or System.Globalization.UnicodeCategory.PrivateUse
            or System.Globalization.UnicodeCategory.OtherNotAssigned or System.Globalization.UnicodeCategory.SpaceSeparator
            or System.Globalization.UnicodeCategory.LineSeparator or System.Globalization.UnicodeCategory.ParagraphSeparator => false,
        _ => true,
    };

    /// <summary>Fills or checks the namespace and name of a body against the URL, and stamps kind/apiVersion.</summary>
    public static void Reconcile(IKubernetesObject<V1ObjectMeta> obj, ResourceDescription resource, string? urlNamespace, string? urlName)
    {
        obj.Metadata ??= new V1ObjectMeta();
        obj.ApiVersion = resource.GroupVersion;
        obj.Kind = resource.Kind;
        if (resource.Namespaced)
        {
            if (string.IsNullOrEmpty(obj.Metadata.NamespaceProperty))
                obj.Metadata.NamespaceProperty = urlNamespace;
            else if (obj.Metadata.NamespaceProperty != urlNamespace)
                throw ApiException.BadRequest("the namespace of the provided object does not match the namespace sent on the request");
        }
        else
        {
            obj.Metadata.NamespaceProperty = null;
        }

        if (urlName is not null)
        {
            if (string.IsNullOrEmpty(obj.Metadata.Name))
                obj.Metadata.Name = urlName;
            else if (obj.Metadata.Name != urlName)
                throw ApiException.BadRequest(
                    $"the name of the object ({obj.Metadata.Name}) does not match the name on the URL ({urlName})");
        }
        else if (string.IsNullOrEmpty(obj.Metadata.Name))
        {
            if (string.IsNullOrEmpty(obj.Metadata.GenerateName))
                throw ApiException.Invalid(resource, "", "metadata.name", "Required value: name or generateName is required");
            obj.Metadata.Name = NameGenerator.Generate(obj.Metadata.GenerateName);
        }
    }

    /// <summary>Delete options from the body (kubectl sends DeleteOptions JSON) and the query string.</summary>
    public static async Task<(string Policy, string? Uid, string? ResourceVersion, bool DryRun, long? GracePeriodSeconds)> DeleteOptionsAsync(HttpContext context)
    {
        var options = await Bodies.RequestBodies.ReadJsonAsync<V1DeleteOptions>(context, "DeleteOptions", "v1", optional: true)
                      ?? new V1DeleteOptions();
        var query = context.Request.Query;
        var policy = query["propagationPolicy"].ToString() is { Length: > 0 } p ? p
            : options.PropagationPolicy is { Length: > 0 } b ? b
            : options.OrphanDependents == true || QueryParameters.Bool(context, "orphanDependents") ? "Orphan"
            : "Background";
        if (policy is not ("Background" or "Foreground" or "Orphan"))
            throw ApiException.InvalidOptions("DeleteOptions", "propagationPolicy",
                $"Unsupported value: \"{policy}\": supported values: \"Foreground\", \"Background\", \"Orphan\"");
        if (options.DryRun is { } bodyDryRun && bodyDryRun.Any(v => v != "All"))
            throw ApiException.InvalidOptions("DeleteOptions", "dryRun",
                $"Unsupported value: []string{{{string.Join(", ", bodyDryRun.Select(v => $"\"{v}\""))}}}: supported values: \"All\"");
        var dryRun = DryRun(context) || options.DryRun?.Contains("All") == true;
        long? grace = options.GracePeriodSeconds;
        if (query["gracePeriodSeconds"].ToString() is { Length: > 0 } graceText)
            grace = long.TryParse(graceText, out var g)
                ? g
                : throw ApiException.BadRequest($"strconv.ParseInt: parsing \"{graceText}\": invalid syntax");
        if (grace < 0) grace = 1; // as kube-apiserver's BeforeDelete: "Negative values will be treated as the value `1s`"
        return (policy, options.Preconditions?.Uid, options.Preconditions?.ResourceVersion, dryRun, grace);
    }
}
