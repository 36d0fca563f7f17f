namespace Orchestrator.Master.Api.Security;

/// <summary>Who a request is from, as k8s.io/apiserver's user.Info: name, uid, groups and extra values.</summary>
internal sealed record UserInfo(string Name, string Uid, IReadOnlyList<string> Groups,
    IReadOnlyDictionary<string, IReadOnlyList<string>> Extra)
{
    public const string SystemMasters = "system:masters";
    public const string AllAuthenticated = "system:authenticated";
    public const string AllUnauthenticated = "system:unauthenticated";
    public const string Anonymous = "system:anonymous";
    public const string ServiceAccountPrefix = "system:serviceaccount:";
    public const string ServiceAccountsGroup = "system:serviceaccounts";

    public static readonly IReadOnlyDictionary<string, IReadOnlyList<string>> NoExtra =
        new Dictionary<string, IReadOnlyList<string>>();

    /// <summary>The identity of the bearer token written at first start: a member of system:masters (declared after
    /// <see cref="NoExtra"/>, which it uses: static fields are initialised in order).</summary>
    public static readonly UserInfo Admin = Of("admin", [SystemMasters]);

    /// <summary>An authenticated user: <paramref name="groups"/> plus system:authenticated, as every authenticator's
    /// result is completed (k8s.io/apiserver's AuthenticatedGroupAdder).</summary>
    public static UserInfo Of(string name, IEnumerable<string> groups, string uid = "")
    {
        var all = groups.ToList();
        if (!all.Contains(AllAuthenticated)) all.Add(AllAuthenticated);
        return new UserInfo(name, uid, all, NoExtra);
    }

    public bool IsMaster => Groups.Contains(SystemMasters);

    /// <summary>The namespace and name of a ServiceAccount user ("system:serviceaccount:ns:name"), or null.</summary>
    public static (string Namespace, string Name)? ServiceAccountOf(string userName)
    {
        if (!userName.StartsWith(ServiceAccountPrefix, StringComparison.Ordinal)) return null;
        var parts = userName[ServiceAccountPrefix.Length..].Split(':');
        return parts is [{ Length: > 0 } ns, { Length: > 0 } name] ? (ns, name) : null;
    }

    /// <summary>Go's %q of a string slice, as kube's messages print groups: ["a" "b"].</summary>
    public static string Quote(IEnumerable<string> values) =>
        "[" + string.Join(" ", values.Select(v => "\"" + v.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"")) + "]";
}

/// <summary>The authenticated user of a request, kept in <see cref="HttpContext.Items"/>.</summary>
internal static class RequestUser
{
    private static readonly object Key = new();

    public static UserInfo? Get(HttpContext context) => context.Items.TryGetValue(Key, out var user) ? user as UserInfo : null;

    public static void Set(HttpContext context, UserInfo user)
    {
        context.Items[Key] = user;
        Http.RequestUserName.Set(context, user.Name);
        Http.RequestAdmissionUser.Set(context, new Store.AdmissionUser(user.Name, user.Uid, user.Groups, user.Extra));
    }
}
