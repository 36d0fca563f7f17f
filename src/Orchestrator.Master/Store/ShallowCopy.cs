using System.Reflection;

namespace Orchestrator.Master.Store;

/// <summary>A member-for-member copy of an object (<see cref="object.MemberwiseClone"/>): the copy's fields are its own,
/// what they refer to is shared. The store builds a write on one where the parts it changes are replaced, not
/// modified (a pod's binding, a /status update), instead of a deep copy through JSON.</summary>
internal static class ShallowCopy
{
    private static readonly Func<object, object> CloneMembers = (Func<object, object>)Delegate.CreateDelegate(
        typeof(Func<object, object>), typeof(object).GetMethod(nameof(MemberwiseClone), BindingFlags.Instance | BindingFlags.NonPublic)!);

    public static T Of<T>(T obj) where T : class => (T)CloneMembers(obj);
}
