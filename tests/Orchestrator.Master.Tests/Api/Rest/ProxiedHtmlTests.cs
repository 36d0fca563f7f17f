using System.IO.Compression;
using System.Text;
using Orchestrator.Master.Api.Rest;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Rest;

/// <summary>The links of a proxied page, rewritten as kube-apiserver's proxy rewrites them (apimachinery's proxy
/// Transport): only the URL attributes of its table, through the same rewrite as a redirect.</summary>
public class ProxiedHtmlTests
{
    private const string Prefix = "/api/v1/namespaces/default/services/web/proxy";

    private static string Rewrite(string html) => Encoding.UTF8.GetString(ProxiedHtml.Rewrite(Encoding.UTF8.GetBytes(html),
        url => PodServiceProxy.RewriteLocation(url, Prefix, "10.1.2.3:8080", "127.0.0.1:6443")));

    [Theory]
    [InlineData("""<a href="/about">x</a>""", """<a href="/api/v1/namespaces/default/services/web/proxy/about">x</a>""")]
    [InlineData("""<A HREF='/about'>""", """<A HREF="/api/v1/namespaces/default/services/web/proxy/about">""")]
    [InlineData("""<link rel=stylesheet href=/s.css>""", """<link rel=stylesheet href="/api/v1/namespaces/default/services/web/proxy/s.css">""")]
    [InlineData("""<img alt="a > b" src="http://10.1.2.3:8080/i.png"/>""", """<img alt="a > b" src="/api/v1/namespaces/default/services/web/proxy/i.png"/>""")]
    [InlineData("""<form method=post action="/login?next=/&amp;x=1">""", """<form method=post action="/api/v1/namespaces/default/services/web/proxy/login?next=/&amp;x=1">""")]
    [InlineData("""<script src="/app.js"></script>""", """<script src="/api/v1/namespaces/default/services/web/proxy/app.js"></script>""")]
    [InlineData("""<video poster="/p.jpg" src="/v.mp4" controls>""", """<video poster="/api/v1/namespaces/default/services/web/proxy/p.jpg" src="/api/v1/namespaces/default/services/web/proxy/v.mp4" controls>""")]
    public void URL_attributes_of_the_table_go_through_the_proxy(string page, string rewritten) => Assert.Equal(rewritten, Rewrite(page));

    [Theory]
    [InlineData("""<a href="about">relative</a>""")]
    [InlineData("""<img src="http://cdn.example/i.png">""")]
    [InlineData("""<a href="//cdn.example/x">""")]
    [InlineData("""<a href="#top"> <a href="javascript:go('/x')"> <a href="mailto:a@b.example">""")]
    [InlineData("""<div data-href="/x" title="/y">not a URL attribute</div> <a id="/x">""")]
    [InlineData("""<a href="/api/v1/namespaces/default/services/web/proxy/already">""")]
    [InlineData("""<!-- <a href="/in-a-comment"> --> <!DOCTYPE html> </a href="/x"> a < b""")]
    [InlineData("""<script>document.write('<a href="/x">');</script><STYLE>a[href="/y"]{}</style><textarea><a href="/z"></textarea>""")]
    [InlineData("""<a href""")]
    public void Everything_else_is_copied_as_it_came(string page) => Assert.Equal(page, Rewrite(page));

    [Fact]
    public void A_tag_cut_off_at_the_end_of_the_page_is_still_rewritten_and_nothing_is_lost()
    {
        Assert.Equal("<a href=\"/api/v1/namespaces/default/services/web/proxy/unterminated\"", Rewrite("""<a href="/unterminated"""));
        Assert.Equal("<a href=", Rewrite("<a href="));
        Assert.Equal("<a", Rewrite("<a"));
    }

    [Fact]
    public void Text_in_another_charset_is_copied_byte_for_byte()
    {
        byte[] latin1 = [.. "<p>caf"u8, 0xE9, .. "</p><a href=\"/x\">"u8];
        var rewritten = ProxiedHtml.Rewrite(latin1, url => "/p" + url);
        Assert.Equal([.. "<p>caf"u8, 0xE9, .. "</p><a href=\"/p/x\">"u8], rewritten);
    }

    [Fact]
    public void A_packed_page_is_unpacked_rewritten_and_packed_again_and_one_that_does_not_unpack_is_left()
    {
        var page = Encoding.UTF8.GetBytes("""<a href="/x">""");
        using var packed = new MemoryStream();
        using (var gzip = new GZipStream(packed, CompressionLevel.Fastest)) gzip.Write(page);

        var rewritten = ProxiedHtml.RewriteEncoded(packed.ToArray(), "gzip", url => "/p" + url)!;
        using var unpacked = new MemoryStream();
        using (var reader = new GZipStream(new MemoryStream(rewritten), CompressionMode.Decompress)) reader.CopyTo(unpacked);
        Assert.Equal("""<a href="/p/x">""", Encoding.UTF8.GetString(unpacked.ToArray()));

        Assert.Null(ProxiedHtml.RewriteEncoded("not gzip"u8.ToArray(), "gzip", url => "/p" + url));
        Assert.False(ProxiedHtml.Rewrites("text/html", "br"));
        Assert.False(ProxiedHtml.Rewrites("text/plain", ""));
        Assert.True(ProxiedHtml.Rewrites("TEXT/HTML", "deflate"));
    }

    [Fact]
    public void A_page_that_unpacks_beyond_the_bound_is_left_as_it_came()
    {
        using var packed = new MemoryStream();
        using (var gzip = new GZipStream(packed, CompressionLevel.SmallestSize))
        {
            var zeros = new byte[1024 * 1024];
            for (var i = 0; i <= ProxiedHtml.MaxBytes / zeros.Length; i++) gzip.Write(zeros);
        }
        var bomb = packed.ToArray();
        Assert.True(bomb.Length < 1024 * 1024);
        Assert.Null(ProxiedHtml.RewriteEncoded(bomb, "gzip", url => "/p" + url));
    }
}
