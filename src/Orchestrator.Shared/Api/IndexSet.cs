using System.Text;

namespace Orchestrator.Shared.Api;

/// <summary>
/// A set of Job completion indexes in Kubernetes' text form (status.completedIndexes, status.failedIndexes,
/// successPolicy.rules[].succeededIndexes): decimal numbers in increasing order separated by commas, three or more
/// consecutive ones written as a range ("1,3-5,7"). Immutable.
/// </summary>
public sealed class IndexSet
{
    private readonly SortedSet<int> _indexes;

    public static IndexSet Empty { get; } = new(new SortedSet<int>());

    private IndexSet(SortedSet<int> indexes) => _indexes = indexes;

    public static IndexSet Of(IEnumerable<int> indexes) => new(new SortedSet<int>(indexes));

    public int Count => _indexes.Count;

    public bool Contains(int index) => _indexes.Contains(index);

    public IEnumerable<int> Items => _indexes;

    public IndexSet With(IEnumerable<int> more)
    {
        var set = new SortedSet<int>(_indexes);
        set.UnionWith(more);
        return new IndexSet(set);
    }

    /// <summary>Parses the text form; indexes at or above <paramref name="completions"/> are an error, as are
    /// unordered, overlapping or malformed intervals (messages as Kubernetes' validateIndexesFormat).</summary>
    public static bool TryParse(string? text, int completions, out IndexSet set, out string? error)
    {
        set = Empty;
        error = null;
        if (string.IsNullOrEmpty(text)) return true;
        var result = new SortedSet<int>();
        var previousEnd = -1;
        foreach (var interval in text.Split(','))
        {
            var limits = interval.Split('-');
            if (limits.Length > 2)
            {
                error = $"the fragment \"{interval}\" violates the requirement that an index interval can have at most two parts separated by '-'";
                return false;
            }
            if (!int.TryParse(limits[0], out var first))
            {
                error = $"cannot convert string to integer for index: \"{limits[0]}\"";
                return false;
            }
            if (first >= completions)
            {
                error = $"too large index: \"{limits[0]}\"";
                return false;
            }
            var last = first;
            if (limits.Length == 2)
            {
                if (!int.TryParse(limits[1], out last))
                {
                    error = $"cannot convert string to integer for index: \"{limits[1]}\"";
                    return false;
                }
                if (last >= completions)
                {
                    error = $"too large index: \"{limits[1]}\"";
                    return false;
                }
                if (first >= last)
                {
                    error = $"non-increasing order, previous: {first}, current: {last}";
                    return false;
                }
            }
            if (first <= previousEnd)
            {
                error = $"non-increasing order, previous: {previousEnd}, current: {first}";
                return false;
            }
            for (var i = first; i <= last; i++) result.Add(i);
            previousEnd = last;
        }
        set = new IndexSet(result);
        return true;
    }

    /// <summary>Parses what the controller wrote itself; indexes it cannot read are left out.</summary>
    public static IndexSet ParseLenient(string? text, int completions) =>
        TryParse(text, completions, out var set, out _) ? set : Empty;

    public override string ToString()
    {
        var text = new StringBuilder();
        var list = _indexes.ToList();
        for (var i = 0; i < list.Count;)
        {
            var j = i;
            while (j + 1 < list.Count && list[j + 1] == list[j] + 1) j++;
            if (text.Length > 0) text.Append(',');
            text.Append(list[i]);
            if (j == i + 1) text.Append(',').Append(list[j]);
            else if (j > i + 1) text.Append('-').Append(list[j]);
            i = j + 1;
        }
        return text.ToString();
    }
}
