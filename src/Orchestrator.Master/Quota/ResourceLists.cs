using k8s.Models;

namespace Orchestrator.Master.Quota;

/// <summary>Kubernetes' quota arithmetic on resource lists (k8s.io/apiserver/pkg/quota/v1 resources.go): sums keep the
/// first operand's format (unless it is zero), so "1Gi" + "512Mi" prints "1536Mi" and "500m" + "1" prints "1500m".</summary>
internal static class ResourceLists
{
    public static ResourceQuantity Quantity(decimal value, ResourceQuantity.SuffixFormat format = ResourceQuantity.SuffixFormat.DecimalSI) =>
        new(value, 0, format);

    /// <summary>Go's Quantity.Add: a zero takes the other's format (0 + 512Mi is 512Mi).</summary>
    public static ResourceQuantity Plus(ResourceQuantity a, ResourceQuantity b) =>
        Quantity(a.ToDecimal() + b.ToDecimal(), a.ToDecimal() == 0 ? b.Format : a.Format);

    public static Dictionary<string, ResourceQuantity> Add(IDictionary<string, ResourceQuantity>? a, IDictionary<string, ResourceQuantity>? b)
    {
        var result = new Dictionary<string, ResourceQuantity>(a ?? new Dictionary<string, ResourceQuantity>());
        foreach (var (name, value) in b ?? new Dictionary<string, ResourceQuantity>())
            result[name] = result.TryGetValue(name, out var existing) ? Plus(existing, value) : value;
        return result;
    }

    /// <summary>a − b, never below zero, for the names of a.</summary>
    public static Dictionary<string, ResourceQuantity> SubtractNonNegative(IDictionary<string, ResourceQuantity> a, IDictionary<string, ResourceQuantity> b)
    {
        var result = new Dictionary<string, ResourceQuantity>();
        foreach (var (name, value) in a)
        {
            var less = b.TryGetValue(name, out var other) ? value.ToDecimal() - other.ToDecimal() : value.ToDecimal();
            result[name] = Quantity(Math.Max(0, less), value.Format);
        }
        return result;
    }

    /// <summary>The larger of each name in either list.</summary>
    public static Dictionary<string, ResourceQuantity> Max(IDictionary<string, ResourceQuantity>? a, IDictionary<string, ResourceQuantity>? b)
    {
        var result = new Dictionary<string, ResourceQuantity>(a ?? new Dictionary<string, ResourceQuantity>());
        foreach (var (name, value) in b ?? new Dictionary<string, ResourceQuantity>())
            if (!result.TryGetValue(name, out var existing) || value.ToDecimal() > existing.ToDecimal()) result[name] = value;
        return result;
    }

    public static Dictionary<string, ResourceQuantity> Mask(IDictionary<string, ResourceQuantity>? list, IEnumerable<string> names)
    {
        var result = new Dictionary<string, ResourceQuantity>();
        if (list is null) return result;
        foreach (var name in names)
            if (list.TryGetValue(name, out var value)) result[name] = value;
        return result;
    }

    public static Dictionary<string, ResourceQuantity> RemoveZeros(IDictionary<string, ResourceQuantity> list) =>
        list.Where(kv => kv.Value.ToDecimal() != 0).ToDictionary(kv => kv.Key, kv => kv.Value);

    /// <summary>The names of a whose amount is above b's (names b lacks are not limited).</summary>
    public static List<string> Exceeding(IDictionary<string, ResourceQuantity> a, IDictionary<string, ResourceQuantity> b) =>
        a.Where(kv => b.TryGetValue(kv.Key, out var limit) && kv.Value.ToDecimal() > limit.ToDecimal()).Select(kv => kv.Key).ToList();

    /// <summary>Same names, same amounts.</summary>
    public static bool Equal(IDictionary<string, ResourceQuantity>? a, IDictionary<string, ResourceQuantity>? b)
    {
        a ??= new Dictionary<string, ResourceQuantity>();
        b ??= new Dictionary<string, ResourceQuantity>();
        return a.Count == b.Count && a.All(kv => b.TryGetValue(kv.Key, out var other) && other.ToDecimal() == kv.Value.ToDecimal());
    }

    /// <summary>"name=amount" by name, comma-separated (the quota admission's prettyPrint).</summary>
    public static string PrettyPrint(IDictionary<string, ResourceQuantity> list) =>
        string.Join(",", list.Keys.Order(StringComparer.Ordinal).Select(name => $"{name}={list[name]}"));
}
