using System.Text;

namespace Orchestrator.Master.Api.Http;

/// <summary>
/// Warning headers (<c>299 - "text"</c>) as kube-apiserver's warning recorder writes them: each text once, quoted
/// with every control and non-ASCII character escaped (a field name from a body can hold anything, and a header
/// cannot), at most 4,096 characters in all and, once past that, 256 characters each.
/// </summary>
internal static class Warnings
{
    private const int TotalRunes = 4 * 1024, ItemRunes = 256;

    private sealed class Recorded
    {
        public readonly HashSet<string> Texts = new(StringComparer.Ordinal);
        public readonly List<string> Ordered = [];
        public int Written;
        public bool Truncating;
    }

    public static void Add(HttpContext context, string text)
    {
        if (text.Length == 0 || context.Response.HasStarted) return;
        if (context.Items[typeof(Warnings)] is not Recorded recorded)
            context.Items[typeof(Warnings)] = recorded = new Recorded();
        if (recorded.Truncating && recorded.Written >= TotalRunes) return;
        if (!recorded.Texts.Add(text)) return;
        recorded.Ordered.Add(text);

        var headers = context.Response.Headers;
        if (recorded.Truncating || recorded.Written + text.Length <= TotalRunes)
        {
            var item = recorded.Truncating ? Truncate(text) : text;
            recorded.Written += item.Length;
            headers.Append("Warning", Header(item));
            return;
        }
        // Past the limit: start again with every warning cut short.
        recorded.Truncating = true;
        recorded.Written = 0;
        headers.Remove("Warning");
        foreach (var earlier in recorded.Ordered)
        {
            var item = Truncate(earlier);
            recorded.Written += item.Length;
            headers.Append("Warning", Header(item));
        }
    }

    private static string Truncate(string text) => text.Length > ItemRunes ? text[..ItemRunes] : text;

    /// <summary>The header value: code, agent "-", and the text quoted as Go's strconv.QuoteToASCII quotes it.</summary>
    public static string Header(string text)
    {
        var quoted = new StringBuilder("299 - \"", text.Length + 16);
        foreach (var rune in text.EnumerateRunes())
        {
            switch (rune.Value)
            {
                case '"': quoted.Append("\\\""); break;
                case '\\': quoted.Append("\\\\"); break;
                case '\n': quoted.Append("\\n"); break;
                case '\r': quoted.Append("\\r"); break;
                case '\t': quoted.Append("\\t"); break;
                case >= 0x20 and < 0x7f: quoted.Append((char)rune.Value); break;
                case < 0x10000: quoted.Append($"\\u{rune.Value:x4}"); break;
                default: quoted.Append($"\\U{rune.Value:x8}"); break;
            }
        }
        return quoted.Append('"').ToString();
    }
}
