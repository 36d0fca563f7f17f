namespace Orchestrator.Master.Api.Http;

/// <summary>
/// Go's <c>json.MarshalIndent(v, "", "  ")</c> as kube-apiserver writes a pretty answer: the compact encoding
/// re-indented the way <c>json.Indent</c> does it. A value or key is copied byte for byte (strings keep the escaping
/// the compact writer gave them), a key is followed by ": ", every member and element starts a new line indented two
/// spaces a level, an empty object or array stays <c>{}</c> / <c>[]</c>, and nothing follows the closing bracket (no
/// newline: MarshalIndent, unlike json.Encoder, ends with the value).
/// </summary>
internal static class GoJsonIndent
{
    /// <summary>The indented form of <paramref name="json"/>, or null when it is not well-formed enough to indent
    /// (a string or bracket left open, or a bracket closed that was never opened).</summary>
    public static byte[]? Indent(ReadOnlySpan<byte> json)
    {
        var output = new List<byte>(json.Length + json.Length / 2);
        var depth = 0;
        var needIndent = false; // an object or array was opened: its first member decides whether it is empty
        var inString = false;
        var escaped = false;
        foreach (var c in json)
        {
            if (inString)
            {
                output.Add(c);
                if (escaped) escaped = false;
                else if (c == '\\') escaped = true;
                else if (c == '"') inString = false;
                continue;
            }
            if (c is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n') continue; // insignificant outside strings
            if (needIndent && c is not ((byte)'}' or (byte)']'))
            {
                needIndent = false;
                depth++;
                NewLine(output, depth);
            }
            switch (c)
            {
                case (byte)'{' or (byte)'[':
                    needIndent = true;
                    output.Add(c);
                    break;
                case (byte)',':
                    output.Add(c);
                    NewLine(output, depth);
                    break;
                case (byte)':':
                    output.Add(c);
                    output.Add((byte)' ');
                    break;
                case (byte)'}' or (byte)']':
                    if (needIndent)
                    {
                        needIndent = false; // an empty object or array stays on its line
                    }
                    else
                    {
                        if (depth == 0) return null;
                        depth--;
                        NewLine(output, depth);
                    }
                    output.Add(c);
                    break;
                case (byte)'"':
                    inString = true;
                    output.Add(c);
                    break;
                default:
                    output.Add(c);
                    break;
            }
        }
        return inString || needIndent || depth != 0 ? null : output.ToArray();
    }

    private static void NewLine(List<byte> output, int depth)
    {
        output.Add((byte)'\n');
        for (var i = 0; i < depth; i++)
        {
            output.Add((byte)' ');
            output.Add((byte)' ');
        }
    }
}
