using System.Buffers.Binary;
using System.Text;

namespace Orchestrator.Node.Agent.Kubelet.Spdy;

/// <summary>
/// The zlib dictionary SPDY/3 (draft 3, section 2.6.10.1) defines for header blocks: common header names, each
/// preceded by its length as a 32-bit big-endian number, then a run of common values. Peers compress every header
/// block with it, so it must be byte-exact; its Adler-32 is the DICTID the peer's zlib header names.
/// </summary>
internal static class SpdyHeaderDictionary
{
    private static readonly string[] Names =
    [
        "options", "head", "post", "put", "delete", "trace", "accept", "accept-charset", "accept-encoding",
        "accept-language", "accept-ranges", "age", "allow", "authorization", "cache-control", "connection",
        "content-base", "content-encoding", "content-language", "content-length", "content-location", "content-md5",
        "content-range", "content-type", "date", "etag", "expect", "expires", "from", "host", "if-match",
        "if-modified-since", "if-none-match", "if-range", "if-unmodified-since", "last-modified", "location",
        "max-forwards", "pragma", "proxy-authenticate", "proxy-authorization", "range", "referer", "retry-after",
        "server", "te", "trailer", "transfer-encoding", "upgrade", "user-agent", "vary", "via", "warning",
        "www-authenticate", "method", "get", "status", "200 OK", "version", "HTTP/1.1", "url", "public", "set-cookie",
        "keep-alive", "origin",
    ];

    private const string Values =
        "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505" +
        "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized" +
        "403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable" +
        "Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT" +
        "chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain," +
        "text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.";

    public static readonly byte[] Bytes = Build();

    public static readonly uint Adler32 = ComputeAdler32(Bytes);

    private static byte[] Build()
    {
        var output = new MemoryStream();
        Span<byte> length = stackalloc byte[4];
        foreach (var name in Names)
        {
            BinaryPrimitives.WriteUInt32BigEndian(length, (uint)name.Length);
            output.Write(length);
            output.Write(Encoding.ASCII.GetBytes(name));
        }
        output.Write(Encoding.ASCII.GetBytes(Values));
        return output.ToArray();
    }

    internal static uint ComputeAdler32(ReadOnlySpan<byte> data)
    {
        const uint Mod = 65521;
        uint a = 1, b = 0;
        foreach (var x in data)
        {
            a = (a + x) % Mod;
            b = (b + a) % Mod;
        }
        return (b << 16) | a;
    }
}
