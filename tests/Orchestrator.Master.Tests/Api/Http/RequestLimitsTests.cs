using System.Net;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Http;

/// <summary>kube-apiserver takes request lines and headers up to 1 MiB (MaxHeaderBytes): a list with a long label
/// selector is answered over HTTP/1.1 and HTTP/2 alike, and one beyond the limit is refused, never answered with a
/// reset stream alone on HTTP/1.1.</summary>
public sealed class RequestLimitsTests : IAsyncLifetime
{
    private ApiTestServer _server = null!;

    public async Task InitializeAsync() => _server = await ApiTestServer.StartAsync(https: true);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<HttpStatusCode> ListAsync(int terms, Version version)
    {
        var selector = string.Join(",", Enumerable.Range(0, terms).Select(i => $"a{i}=b"));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/namespaces/default/configmaps?labelSelector=" + selector)
        {
            Version = version, VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        using var response = await _server.Client.SendAsync(request);
        return response.StatusCode;
    }

    [Theory]
    [InlineData("1.1")]
    [InlineData("2.0")]
    public async Task A_label_selector_of_thirty_kilobytes_is_answered(string version) =>
        Assert.Equal(HttpStatusCode.OK, await ListAsync(3000, Version.Parse(version)));

    [Fact]
    public async Task A_request_line_beyond_a_mebibyte_is_refused() =>
        Assert.Equal(HttpStatusCode.RequestUriTooLong, await ListAsync(120_000, HttpVersion.Version11));
}
