using System.IO.Compression;
using System.Net;
using System.Text;

namespace Orchestrator.Master.Api.Rest;

/// <summary>
/// kube-apiserver's proxy rewrites the links of a proxied text/html page so that a page served at <c>/</c> by the pod
/// keeps working under <c>…/proxy/</c> (apimachinery's proxy Transport): the URL attributes of the tags below are
/// passed through the same rewrite as a redirect's Location; a page in gzip or deflate is unpacked and packed again,
/// one in another encoding is left as it is. The page is read as bytes: only the rewritten attribute values change,
/// every other byte (text, comments, scripts, any charset) is copied as it came.
/// </summary>
internal static class ProxiedHtml
{
    /// <summary>Pages larger than this are passed on unchanged (kube reads the whole page into memory; a bound keeps
    /// one request from holding an unbounded body here).</summary>
    public const int MaxBytes = 16 * 1024 * 1024;

    /// <summary>Which attributes of which tags hold URLs: kube's table (HTML 4 and HTML 5 URL attributes).</summary>
    private static readonly Dictionary<string, string[]> UrlAttributes = new(StringComparer.OrdinalIgnoreCase)
    {
        ["a"] = ["href"], ["applet"] = ["codebase"], ["area"] = ["href"], ["audio"] = ["src"], ["base"] = ["href"],
        ["blockquote"] = ["cite"], ["body"] = ["background"], ["button"] = ["formaction"], ["command"] = ["icon"],
        ["del"] = ["cite"], ["embed"] = ["src"], ["form"] = ["action"], ["frame"] = ["longdesc", "src"], ["head"] = ["profile"],
        ["html"] = ["manifest"], ["iframe"] = ["longdesc", "src"], ["img"] = ["longdesc", "src", "usemap"],
        ["input"] = ["src", "usemap", "formaction"], ["ins"] = ["cite"], ["link"] = ["href"],
        ["object"] = ["classid", "codebase", "data", "usemap"], ["q"] = ["cite"], ["script"] = ["src"], ["source"] = ["src"],
        ["video"] = ["poster", "src"],
    };

    /// <summary>Elements whose content is text up to their end tag, never markup (HTML's raw text and RCDATA elements).</summary>
    private static readonly HashSet<string> TextElements = new(StringComparer.OrdinalIgnoreCase)
        { "script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "plaintext" };

    /// <summary>Whether a body with these headers is rewritten: text/html in no encoding, gzip or deflate.</summary>
    public static bool Rewrites(string? mediaType, string? contentEncoding) =>
        string.Equals(mediaType, "text/html", StringComparison.OrdinalIgnoreCase) && contentEncoding is null or "" or "gzip" or "deflate";

    /// <summary>The page (in its content encoding) with its links rewritten, in the same encoding; null when it is to be
    /// passed on as it came (packed data that does not unpack, or unpacks beyond <see cref="MaxBytes"/>).</summary>
    public static byte[]? RewriteEncoded(byte[] body, string? contentEncoding, Func<string, string> rewrite)
    {
        try
        {
            switch (contentEncoding)
            {
                case "gzip":
                {
                    using var input = new GZipStream(new MemoryStream(body), CompressionMode.Decompress);
                    return ReadAll(input) is { } page ? Pack(Rewrite(page, rewrite), s => new GZipStream(s, CompressionLevel.Optimal)) : null;
                }
                case "deflate":
                {
                    using var input = new DeflateStream(new MemoryStream(body), CompressionMode.Decompress);
                    return ReadAll(input) is { } page ? Pack(Rewrite(page, rewrite), s => new DeflateStream(s, CompressionLevel.SmallestSize)) : null;
                }
                default:
                    return Rewrite(body, rewrite);
            }
        }
        catch (InvalidDataException)
        {
            return null;
        }
    }

    /// <summary>The page with the URL attributes of <see cref="UrlAttributes"/> passed through <paramref name="rewrite"/>
    /// (their character references decoded first, the new value written in double quotes); all else copied.</summary>
    public static byte[] Rewrite(ReadOnlySpan<byte> html, Func<string, string> rewrite)
    {
        var output = new MemoryStream(html.Length + 256);
        var i = 0;
        while (i < html.Length)
        {
            var lt = html[i..].IndexOf((byte)'<');
            if (lt < 0)
            {
                output.Write(html[i..]);
                break;
            }
            output.Write(html.Slice(i, lt));
            i += lt;
            if (html[i..].StartsWith("<!--"u8))
            {
                var end = html[(i + 4)..].IndexOf("-->"u8);
                var stop = end < 0 ? html.Length : i + 4 + end + 3;
                output.Write(html[i..stop]);
                i = stop;
            }
            else if (i + 1 < html.Length && IsLetter(html[i + 1]))
            {
                i = StartTag(html, i, output, rewrite);
            }
            else
            {
                // an end tag, a doctype, a processing instruction or a lone '<': copied up to its '>'
                var end = html[i..].IndexOf((byte)'>');
                var stop = end < 0 ? html.Length : i + end + 1;
                output.Write(html[i..stop]);
                i = stop;
            }
        }
        return output.ToArray();
    }

    /// <summary>Copies the start tag at <paramref name="start"/>, rewriting its URL attributes; after a raw text element's
    /// tag also its content up to the end tag. Returns where the caller goes on.</summary>
    private static int StartTag(ReadOnlySpan<byte> html, int start, MemoryStream output, Func<string, string> rewrite)
    {
        var i = start + 1;
        while (i < html.Length && !IsSpace(html[i]) && html[i] is not ((byte)'>' or (byte)'/')) i++;
        var name = Encoding.ASCII.GetString(html[(start + 1)..i]);
        var urls = UrlAttributes.GetValueOrDefault(name);
        output.Write(html[start..i]);
        while (i < html.Length)
        {
            var from = i;
            while (i < html.Length && (IsSpace(html[i]) || html[i] == '/')) i++;
            if (i >= html.Length || html[i] == '>')
            {
                var stop = Math.Min(i + 1, html.Length);
                output.Write(html[from..stop]);
                i = stop;
                break;
            }
            var nameStart = i;
            while (i < html.Length && !IsSpace(html[i]) && html[i] is not ((byte)'=' or (byte)'>' or (byte)'/')) i++;
            var attribute = html[nameStart..i];
            var afterName = i;
            while (i < html.Length && IsSpace(html[i])) i++;
            if (i >= html.Length || html[i] != '=')
            {
                // an attribute without a value
                output.Write(html[from..afterName]);
                i = afterName;
                continue;
            }
            i++;
            while (i < html.Length && IsSpace(html[i])) i++;
            int valueStart, valueEnd;
            if (i < html.Length && html[i] is (byte)'"' or (byte)'\'')
            {
                var quote = html[i];
                valueStart = i + 1;
                var close = html[valueStart..].IndexOf(quote);
                valueEnd = close < 0 ? html.Length : valueStart + close;
                i = close < 0 ? html.Length : valueEnd + 1;
            }
            else
            {
                valueStart = i;
                while (i < html.Length && !IsSpace(html[i]) && html[i] != '>') i++;
                valueEnd = i;
            }
            if (urls is not null && IsOneOf(attribute, urls))
            {
                var value = WebUtility.HtmlDecode(Encoding.UTF8.GetString(html[valueStart..valueEnd]));
                var rewritten = rewrite(value);
                if (rewritten != value)
                {
                    output.Write(html[from..afterName]);
                    output.Write(Encoding.UTF8.GetBytes("=\"" + rewritten.Replace("&", "&amp;").Replace("\"", "&quot;") + "\""));
                    continue;
                }
            }
            output.Write(html[from..i]);
        }
        if (!TextElements.Contains(name) || i >= html.Length) return i;
        // the element's text, markup-free, up to its end tag (found case-insensitively)
        var closing = Encoding.ASCII.GetBytes("</" + name.ToLowerInvariant());
        var j = i;
        while (j < html.Length)
        {
            var lt = html[j..].IndexOf("</"u8);
            if (lt < 0) { j = html.Length; break; }
            j += lt;
            if (j + closing.Length <= html.Length && Ascii.EqualsIgnoreCase(html.Slice(j, closing.Length), closing)) break;
            j += 2;
        }
        output.Write(html[i..j]);
        return j;
    }

    private static bool IsOneOf(ReadOnlySpan<byte> attribute, string[] names)
    {
        foreach (var name in names)
            if (Ascii.EqualsIgnoreCase(attribute, name)) return true;
        return false;
    }

    private static bool IsLetter(byte b) => b is >= (byte)'a' and <= (byte)'z' or >= (byte)'A' and <= (byte)'Z';

    private static bool IsSpace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or (byte)'\f';

    /// <summary>The unpacked page, or null beyond <see cref="MaxBytes"/> (a small packed body may unpack to gigabytes).</summary>
    private static byte[]? ReadAll(Stream input)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = input.Read(chunk)) > 0)
        {
            if (buffer.Length + read > MaxBytes) return null;
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    private static byte[] Pack(byte[] content, Func<Stream, Stream> compressor)
    {
        var packed = new MemoryStream();
        using (var writer = compressor(packed)) writer.Write(content);
        return packed.ToArray();
    }
}
