using Cel;

namespace Orchestrator.Master.Registry.Validation;

/// <summary>
/// kube's list library (apiserver/pkg/cel/library/lists.go: <c>isSorted</c>, <c>sum</c>, <c>min</c>, <c>max</c>,
/// <c>indexOf</c>, <c>lastIndexOf</c> on lists) and cel-go's sets extension (<c>sets.contains</c>,
/// <c>sets.equivalent</c>, <c>sets.intersects</c>), both in kube 1.32's base environment. Each charges the elements it
/// looks at to the expression's cost.
/// </summary>
internal static class CelListLibrary
{
    public static readonly IReadOnlyList<string> Functions =
        ["isSorted", "sum", "min", "max", "indexOf", "lastIndexOf", "contains", "equivalent", "intersects"];

    public static void Register(CelEnvironment env)
    {
        var list = typeof(IList<object?>);
        env.RegisterFunction("isSorted", [list], a => IsSorted(CelValues.List(a[0])));
        env.RegisterFunction("sum", [list], a => Sum(CelValues.List(a[0])));
        env.RegisterFunction("min", [list], a => Extreme(CelValues.List(a[0]), "min", preferWhen: 1));
        env.RegisterFunction("max", [list], a => Extreme(CelValues.List(a[0]), "max", preferWhen: -1));
        env.RegisterFunction("indexOf", [list, typeof(object)], a => IndexOf(CelValues.List(a[0]), a[1], last: false));
        env.RegisterFunction("lastIndexOf", [list, typeof(object)], a => IndexOf(CelValues.List(a[0]), a[1], last: true));

        var sets = typeof(CelNamespace);
        env.RegisterFunction("contains", [sets, list, list], a => Contains(CelValues.List(a[1]), CelValues.List(a[2])));
        env.RegisterFunction("equivalent", [sets, list, list], a =>
            Contains(CelValues.List(a[1]), CelValues.List(a[2])) && Contains(CelValues.List(a[2]), CelValues.List(a[1])));
        env.RegisterFunction("intersects", [sets, list, list], a =>
        {
            var (x, y) = (CelValues.List(a[1]), CelValues.List(a[2]));
            CelCost.Charge((long)x.Count * y.Count);
            return x.Any(e => y.Any(f => CelValues.Equal(e, f)));
        });
    }

    private static bool IsSorted(IList<object?> list)
    {
        CelCost.Charge(list.Count);
        for (var i = 1; i < list.Count; i++)
            if (CelValues.Compare(list[i - 1], list[i]) > 0) return false;
        return true;
    }

    /// <summary>As lists.go: the first element's type decides; an empty list sums to int 0 (kube's zero of the list's
    /// declared element type, which is not known here).</summary>
    private static object Sum(IList<object?> list)
    {
        CelCost.Charge(list.Count);
        if (list.Count == 0) return 0L;
        return list[0] switch
        {
            long => list.Aggregate(0L, (s, e) => e is long l ? checked(s + l) : throw Mixed(e)),
            ulong => list.Aggregate(0UL, (s, e) => e is ulong u ? checked(s + u) : throw Mixed(e)),
            double => list.Aggregate(0.0, (s, e) => e is double d ? s + d : throw Mixed(e)),
            TimeSpan => list.Aggregate(TimeSpan.Zero, (s, e) => e is TimeSpan t ? s + t : throw Mixed(e)),
            var other => throw Mixed(other),
        };
    }

    private static CelNoSuchOverloadException Mixed(object? e) => new($"no such overload: sum of {CelValues.TypeName(e)}");

    private static object? Extreme(IList<object?> list, string name, int preferWhen)
    {
        CelCost.Charge(list.Count);
        if (list.Count == 0) throw new InvalidOperationException($"{name} called on empty list");
        var result = list[0];
        for (var i = 1; i < list.Count; i++)
            if (CelValues.Compare(result, list[i]) == preferWhen) result = list[i];
        if (list.Count == 1) CelValues.Compare(result, result); // a lone element must still be comparable
        return result;
    }

    private static long IndexOf(IList<object?> list, object? item, bool last)
    {
        CelCost.Charge(list.Count);
        if (last)
        {
            for (var i = list.Count - 1; i >= 0; i--)
                if (CelValues.Equal(list[i], item)) return i;
        }
        else
        {
            for (var i = 0; i < list.Count; i++)
                if (CelValues.Equal(list[i], item)) return i;
        }
        return -1;
    }

    /// <summary>Whether every element of <paramref name="sub"/> is in <paramref name="list"/> (ext/sets.go's
    /// setsContains).</summary>
    private static bool Contains(IList<object?> list, IList<object?> sub)
    {
        CelCost.Charge((long)list.Count * sub.Count);
        return sub.All(e => list.Any(f => CelValues.Equal(e, f)));
    }
}
