using Orchestrator.Master.Registry.Validation;
using Xunit;

namespace Orchestrator.Master.Tests.Registry.Validation;

/// <summary>Kubernetes' CEL libraries as kube 1.32's base environment has them, with the examples of
/// https://kubernetes.io/docs/reference/using-api/cel/ and kube's library sources.</summary>
public sealed class CelLibrariesTests
{
    private static object? Value(string expression)
    {
        var (value, error) = CelRules.Run(expression, []);
        Assert.True(error is null, $"{expression}: {error}");
        return value;
    }

    private static string Error(string expression)
    {
        var (_, error) = CelRules.Run(expression, []);
        Assert.NotNull(error);
        return error;
    }

    [Theory]
    [InlineData("[1, 2, 3].isSorted()")]
    [InlineData("!['b', 'a'].isSorted()")]
    [InlineData("[1, 2, 3].sum() == 6")]
    [InlineData("[1.5, 2.5].sum() == 4.0")]
    [InlineData("[].sum() == 0")]
    [InlineData("[1, 2, 3].max() == 3")]
    [InlineData("['c', 'a', 'b'].min() == 'a'")]
    [InlineData("[1, 2, 2, 3].indexOf(2) == 1")]
    [InlineData("['a', 'b', 'b', 'c'].lastIndexOf('b') == 2")]
    [InlineData("[1, 2].indexOf(5) == -1")]
    [InlineData("'hello'.indexOf('l') == 2")]
    [InlineData("[1, 2, 3].filter(x, x > 1).sum() == 5")]
    public void List_library(string expression) => Assert.Equal(true, Value(expression));

    [Fact]
    public void Min_of_an_empty_list_is_kubes_error() => Assert.Equal("min called on empty list", Error("[].min()"));

    [Theory]
    [InlineData("sets.contains([1, 2, 3, 4], [2, 3])")]
    [InlineData("!sets.contains([1, 2], [3])")]
    [InlineData("sets.equivalent([1, 2, 3], [3, 2, 1, 1])")]
    [InlineData("sets.intersects([1, 2, 3], [3, 4])")]
    [InlineData("!sets.intersects([1], [2])")]
    public void Sets_library(string expression) => Assert.Equal(true, Value(expression));

    [Theory]
    [InlineData("'abc 123'.find('[0-9]+') == '123'")]
    [InlineData("'abc'.find('[0-9]+') == ''")]
    [InlineData("'123 abc 456'.findAll('[0-9]+') == ['123', '456']")]
    [InlineData("'123 abc 456'.findAll('[0-9]+', 1) == ['123']")]
    [InlineData("size('a b c'.findAll('[a-z]', 0)) == 0")]
    public void Regex_library(string expression) => Assert.Equal(true, Value(expression));

    [Theory]
    [InlineData("url('https://example.com:80/').getHost() == 'example.com:80'")]
    [InlineData("url('https://example.com:80/').getHostname() == 'example.com'")]
    [InlineData("url('https://example.com:80/').getPort() == '80'")]
    [InlineData("url('https://[::1]:80/').getHostname() == '::1'")]
    [InlineData("url('https://example.com/').getScheme() == 'https'")]
    [InlineData("url('/absolute-path').getScheme() == ''")]
    [InlineData("url('https://example.com/path with spaces/').getEscapedPath() == '/path%20with%20spaces/'")]
    [InlineData("url('https://example.com/path?k1=a&k2=b&k2=c').getQuery() == {'k1': ['a'], 'k2': ['b', 'c']}")]
    [InlineData("isURL('https://example.com')")]
    [InlineData("!isURL('relative/path')")]
    [InlineData("!isURL('https://example.com:port/')")]
    public void Url_library(string expression) => Assert.Equal(true, Value(expression));

    [Fact]
    public void A_relative_url_is_refused_with_gos_words() =>
        Assert.Equal("URL parse error during conversion from string: parse \"x/y\": invalid URI for request", Error("url('x/y')"));

    [Theory]
    [InlineData("isQuantity('1.3G')")]
    [InlineData("!isQuantity('1.3 G')")]
    [InlineData("quantity('50k').isInteger()")]
    [InlineData("!quantity('1.5').isInteger()")]
    [InlineData("quantity('50k').asInteger() == 50000")]
    [InlineData("quantity('50.703k').asApproximateFloat() == 50703.0")]
    [InlineData("quantity('50k').sign() == 1")]
    [InlineData("quantity('-1').sign() == -1")]
    [InlineData("quantity('200M').compareTo(quantity('0.2G')) == 0")]
    [InlineData("quantity('200M') == quantity('0.2G')")]
    [InlineData("quantity('50k').add(20) == quantity('50020')")]
    [InlineData("quantity('50k').sub(quantity('20')) == quantity('49980')")]
    [InlineData("quantity('50k').isGreaterThan(quantity('100'))")]
    [InlineData("quantity('50M').isLessThan(quantity('100M'))")]
    [InlineData("quantity('1Gi').add(quantity('1Gi')) == quantity('2Gi')")]
    public void Quantity_library(string expression) => Assert.Equal(true, Value(expression));

    [Fact]
    public void A_fraction_is_no_integer() => Assert.Equal("cannot convert value to integer", Error("quantity('1.5').asInteger()"));

    [Theory]
    [InlineData("isIP('127.0.0.1')")]
    [InlineData("!isIP('127.0.0.256')")]
    [InlineData("!isIP('010.0.0.1')")]
    [InlineData("ip('127.0.0.1').family() == 4")]
    [InlineData("ip('::1').family() == 6")]
    [InlineData("ip('127.0.0.1').isLoopback()")]
    [InlineData("ip('0.0.0.0').isUnspecified()")]
    [InlineData("ip('224.0.0.1').isLinkLocalMulticast()")]
    [InlineData("ip('ff02::1').isLinkLocalMulticast()")]
    [InlineData("ip('169.254.169.254').isLinkLocalUnicast()")]
    [InlineData("ip('fe80::1').isLinkLocalUnicast()")]
    [InlineData("ip('192.168.0.1').isGlobalUnicast()")]
    [InlineData("!ip('255.255.255.255').isGlobalUnicast()")]
    [InlineData("ip.isCanonical('127.0.0.1')")]
    [InlineData("!ip.isCanonical('2001:db8:0:0:0:0:0:1')")]
    [InlineData("string(ip('2001:db8:0:0:0:0:0:1')) == '2001:db8::1'")]
    [InlineData("ip('127.0.0.1') == ip('127.0.0.1')")]
    [InlineData("ip('127.0.0.1') != ip('127.0.0.2')")]
    public void Ip_library(string expression) => Assert.Equal(true, Value(expression));

    [Theory]
    [InlineData("ip('::ffff:1.2.3.4')", "IPv4-mapped IPv6 address \"::ffff:1.2.3.4\" is not allowed")]
    [InlineData("ip('fe80::1%eth0')", "IP address \"fe80::1%eth0\" with zone value is not allowed")]
    [InlineData("ip('nope')", "IP Address \"nope\" parse error during conversion from string: ParseAddr(\"nope\"): unable to parse IP")]
    public void Ip_errors_are_kubes(string expression, string error) => Assert.Equal(error, Error(expression));

    [Theory]
    [InlineData("isCIDR('192.168.0.0/24')")]
    [InlineData("!isCIDR('192.168.0.0')")]
    [InlineData("!isCIDR('192.168.0.0/33')")]
    [InlineData("cidr('192.168.0.0/24').containsIP(ip('192.168.0.1'))")]
    [InlineData("cidr('192.168.0.0/24').containsIP('192.168.0.1')")]
    [InlineData("!cidr('192.168.0.0/24').containsIP('192.168.1.1')")]
    [InlineData("!cidr('192.168.0.0/24').containsIP('::1')")]
    [InlineData("cidr('192.168.0.0/24').containsCIDR(cidr('192.168.0.0/25'))")]
    [InlineData("cidr('192.168.0.0/24').containsCIDR('192.168.0.0/25')")]
    [InlineData("!cidr('192.168.0.0/25').containsCIDR('192.168.0.0/24')")]
    [InlineData("cidr('10.96.0.0/16').containsCIDR('10.96.10.0/24')")]
    [InlineData("cidr('2001:db8::/64').containsCIDR('2001:db8::/96')")]
    [InlineData("cidr('192.168.0.1/24').ip() == ip('192.168.0.1')")]
    [InlineData("cidr('192.168.0.1/24').masked() == cidr('192.168.0.0/24')")]
    [InlineData("cidr('192.168.0.0/16').prefixLength() == 16")]
    [InlineData("string(cidr('192.168.0.1/24')) == '192.168.0.1/24'")]
    public void Cidr_library(string expression) => Assert.Equal(true, Value(expression));

    [Theory]
    [InlineData("!format.dns1123Label().validate('my-name').hasValue()")]
    [InlineData("format.dns1123Label().validate('MyName').hasValue()")]
    [InlineData("!format.named('dns1123Subdomain').value().validate('apiextensions.k8s.io').hasValue()")]
    [InlineData("!format.named('no-such-format').hasValue()")]
    [InlineData("!format.dns1123LabelPrefix().validate('my-prefix-').hasValue()")]
    [InlineData("!format.qualifiedName().validate('apiextensions.k8s.io/v1beta1').hasValue()")]
    [InlineData("!format.uri().validate('http://example.com').hasValue()")]
    [InlineData("!format.uuid().validate('123e4567-e89b-12d3-a456-426614174000').hasValue()")]
    [InlineData("!format.byte().validate('aGVsbG8=').hasValue()")]
    [InlineData("!format.date().validate('2021-01-01').hasValue()")]
    [InlineData("!format.datetime().validate('2021-01-01T00:00:00Z').hasValue()")]
    [InlineData("format.date().validate('2021-13-01').value() == ['invalid date']")]
    [InlineData("optional.none().orValue(1) == 1")]
    public void Format_library(string expression) => Assert.Equal(true, Value(expression));

    [Fact]
    public void A_format_problem_is_apimachinerys_message() =>
        Assert.StartsWith("a lowercase RFC 1123 label must consist of lower case alphanumeric characters",
            (string)((IList<object?>)Value("format.dns1123Label().validate('MyName').value()")!)[0]!);

    [Theory]
    [InlineData("cidr(allowed).containsCIDR(c)")]
    [InlineData("sets.contains(a, b)")]
    [InlineData("format.named('x').hasValue()")]
    [InlineData("ip.isCanonical(s)")]
    [InlineData("url(s).getHost() == '' && quantity(q).isInteger() && s.find('a') == '' && l.isSorted()")]
    public void Library_functions_and_namespaces_are_declared(string expression) =>
        Assert.Null(CelRules.UndeclaredReference(expression, new HashSet<string> { "allowed", "c", "a", "b", "s", "q", "l" }));
}
