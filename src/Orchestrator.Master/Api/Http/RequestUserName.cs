using Orchestrator.Master.Store;

namespace Orchestrator.Master.Api.Http;

/// <summary>The authenticated user's name, for the layers below authentication that only pass it on (the store's
/// admission); set with the user by <c>RequestUser.Set</c>.</summary>
internal static class RequestUserName
{
    private static readonly object Key = new();

    public static string? Get(HttpContext context) => context.Items.TryGetValue(Key, out var name) ? name as string : null;

    public static void Set(HttpContext context, string name) => context.Items[Key] = name;
}

/// <summary>All of the authenticated user, as the store's admission takes it (<see cref="AdmissionUser"/>); set with the
/// user by <c>RequestUser.Set</c>.</summary>
internal static class RequestAdmissionUser
{
    private static readonly object Key = new();

    public static AdmissionUser? Get(HttpContext context) => context.Items.TryGetValue(Key, out var user) ? user as AdmissionUser : null;

    public static void Set(HttpContext context, AdmissionUser user) => context.Items[Key] = user;
}
