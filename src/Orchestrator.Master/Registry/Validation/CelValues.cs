using System.Collections;
using Cel;

namespace Orchestrator.Master.Registry.Validation;

/// <summary>
/// A value of one of Kubernetes' CEL types (IP, CIDR, Quantity, URL, Format, optional). The package compares only its own
/// types and maps, so each such value presents itself to it as a one-entry map, {type name: canonical form}: then
/// <c>==</c> and <c>!=</c> between two of them compare as kube's Equal does (same type and canonical form), and between
/// different types are false.
/// </summary>
internal abstract class CelOpaqueValue : IDictionary
{
    private Hashtable? entry;

    /// <summary>The CEL type's name, as kube's type provider names it.</summary>
    public abstract string CelTypeName { get; }

    /// <summary>What decides equality: equal keys, equal values.</summary>
    protected abstract object EqualityKey { get; }

    private Hashtable Entry => entry ??= new Hashtable { [CelTypeName] = EqualityKey };

    public object? this[object key] { get => Entry[key]; set => throw new NotSupportedException(); }
    public ICollection Keys => Entry.Keys;
    public ICollection Values => Entry.Values;
    public int Count => 1;
    public bool IsFixedSize => true;
    public bool IsReadOnly => true;
    public bool IsSynchronized => false;
    public object SyncRoot => this;
    public bool Contains(object key) => Entry.Contains(key);
    public IDictionaryEnumerator GetEnumerator() => Entry.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    public void CopyTo(Array array, int index) => Entry.CopyTo(array, index);
    public void Add(object key, object? value) => throw new NotSupportedException();
    public void Clear() => throw new NotSupportedException();
    public void Remove(object key) => throw new NotSupportedException();

    public override string ToString() => EqualityKey.ToString() ?? "";
}

/// <summary>A namespace of functions (<c>sets</c>, <c>format</c>, <c>ip</c>, <c>optional</c>): the package resolves
/// <c>sets.contains(a, b)</c> as the method <c>contains</c> of the variable <c>sets</c>, so each namespace is a variable
/// bound to one of these, and its functions take it as their first argument.</summary>
internal sealed class CelNamespace(string name)
{
    public string Name { get; } = name;

    public static readonly CelNamespace Sets = new("sets");
    public static readonly CelNamespace Format = new("format");
    public static readonly CelNamespace Ip = new("ip");
    public static readonly CelNamespace Optional = new("optional");

    public static readonly IReadOnlyList<CelNamespace> All = [Sets, Format, Ip, Optional];
}

/// <summary>CEL's equality and ordering over the values the package produces, for the library functions.</summary>
internal static class CelValues
{
    /// <summary>CEL equality: numbers across int, uint and double (kube's heterogeneous equality), lists and maps
    /// element by element, everything else by its own equality.</summary>
    public static bool Equal(object? a, object? b)
    {
        if (a is null || b is null) return a is null && b is null;
        if (Number(a) is { } x && Number(b) is { } y) return x == y;
        switch (a)
        {
            case string s: return b is string t && string.Equals(s, t, StringComparison.Ordinal);
            case IList<object?> l when b is IList<object?> m:
                if (l.Count != m.Count) return false;
                for (var i = 0; i < l.Count; i++)
                    if (!Equal(l[i], m[i])) return false;
                return true;
            case IDictionary<string, object?> d when b is IDictionary<string, object?> e:
                return d.Count == e.Count && d.All(kv => e.TryGetValue(kv.Key, out var v) && Equal(kv.Value, v));
            case CelOpaqueValue o when b is CelOpaqueValue p:
                return o.CelTypeName == p.CelTypeName && Equal(o[o.CelTypeName], p[p.CelTypeName]);
            case byte[] bytes when b is byte[] other: return bytes.AsSpan().SequenceEqual(other);
            default: return a.Equals(b);
        }
    }

    /// <summary>CEL ordering of two values of one comparable type (int, uint, double, bool, string, bytes, duration,
    /// timestamp; numbers across types); a no-such-overload error otherwise.</summary>
    public static int Compare(object? a, object? b)
    {
        if (a is not null && b is not null)
        {
            if (a is decimal or long or ulong or double && Number(a) is { } x && Number(b) is { } y) return x.CompareTo(y);
            switch (a)
            {
                case string s when b is string t: return Math.Sign(string.CompareOrdinal(s, t));
                case bool p when b is bool q: return p.CompareTo(q);
                case TimeSpan p when b is TimeSpan q: return p.CompareTo(q);
                case DateTimeOffset p when b is DateTimeOffset q: return p.CompareTo(q);
                case DateTime p when b is DateTime q: return p.CompareTo(q);
                case byte[] p when b is byte[] q: return Math.Sign(p.AsSpan().SequenceCompareTo(q));
            }
        }
        throw new CelNoSuchOverloadException($"no such overload: cannot compare {TypeName(a)} and {TypeName(b)}");
    }

    private static decimal? Number(object value) => value switch
    {
        long l => l,
        ulong u => u,
        double d when !double.IsNaN(d) && !double.IsInfinity(d) && Math.Abs(d) < 7.9e28 => (decimal)d,
        _ => null,
    };

    /// <summary>The CEL type name of a value the package produces.</summary>
    public static string TypeName(object? value) => value switch
    {
        null => "null_type",
        bool => "bool",
        long => "int",
        ulong => "uint",
        double => "double",
        string => "string",
        byte[] => "bytes",
        TimeSpan => "google.protobuf.Duration",
        DateTimeOffset or DateTime => "google.protobuf.Timestamp",
        CelOpaqueValue o => o.CelTypeName,
        IList<object?> => "list",
        IDictionary<string, object?> => "map",
        _ => value.GetType().Name,
    };

    /// <summary>The list argument of a list function: the package's lists are arrays (literals, filter) or lists.</summary>
    public static IList<object?> List(object? value) =>
        value as IList<object?> ?? throw new CelNoSuchOverloadException($"no such overload: {TypeName(value)} is not a list");
}
