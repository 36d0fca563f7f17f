using System.Net;
using System.Text.Json.Nodes;
using Orchestrator.Master.Api.Rest;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Rest;

/// <summary>limit/continue over HTTP: every page of one list comes from the first page's resourceVersion.</summary>
public sealed class PagedListTests : IAsyncLifetime
{
    private ApiTestServer _server = null!;
    private const string ConfigMaps = "/api/v1/namespaces/default/configmaps";

    public async Task InitializeAsync() => _server = await ApiTestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task Create(string name)
    {
        var (status, body) = await _server.SendAsync(HttpMethod.Post, ConfigMaps, "{\"metadata\":{\"name\":\"" + name + "\",\"labels\":{\"app\":\"" + name[..1] + "\"}}}");
        Assert.True(status == HttpStatusCode.Created, $"{status}: {body}");
    }

    private static string[] Names(JsonNode list) => list["items"]!.AsArray().Select(i => i!["metadata"]!["name"]!.ToString()).ToArray();

    [Fact]
    public async Task Later_pages_come_from_the_list_of_the_first_page()
    {
        foreach (var name in new[] { "a", "b", "c", "d" }) await Create(name);
        var (_, first) = await _server.SendAsync(HttpMethod.Get, $"{ConfigMaps}?limit=2");
        Assert.Equal(["a", "b"], Names(first!));
        Assert.Equal(2, first!["metadata"]!["remainingItemCount"]!.GetValue<long>());
        var version = first["metadata"]!["resourceVersion"]!.ToString();

        // Written after the first page: not in this list's later pages.
        await Create("bb");
        Assert.Equal(HttpStatusCode.OK, (await _server.SendAsync(HttpMethod.Delete, $"{ConfigMaps}/d")).Status);

        var token = Uri.EscapeDataString(first["metadata"]!["continue"]!.ToString());
        var (status, second) = await _server.SendAsync(HttpMethod.Get, $"{ConfigMaps}?limit=2&continue={token}");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(["c", "d"], Names(second!));
        Assert.Equal(version, second!["metadata"]!["resourceVersion"]!.ToString());
        Assert.Null(second["metadata"]!["continue"]);

        // A new list sees the writes.
        var (_, fresh) = await _server.SendAsync(HttpMethod.Get, ConfigMaps);
        Assert.Equal(["a", "b", "bb", "c"], Names(fresh!));
    }

    [Fact]
    public async Task Pages_of_a_table_come_from_the_same_list()
    {
        foreach (var name in new[] { "a", "b", "c" }) await Create(name);
        const string table = "application/json;as=Table;v=v1;g=meta.k8s.io";
        var (_, first) = await _server.SendAsync(HttpMethod.Get, $"{ConfigMaps}?limit=2", accept: table);
        Assert.Equal("Table", first!["kind"]!.ToString());
        Assert.Equal(["a", "b"], first["rows"]!.AsArray().Select(r => r!["cells"]![0]!.ToString()));
        await Create("aa");
        var token = Uri.EscapeDataString(first["metadata"]!["continue"]!.ToString());
        var (_, second) = await _server.SendAsync(HttpMethod.Get, $"{ConfigMaps}?limit=2&continue={token}", accept: table);
        Assert.Equal(["c"], second!["rows"]!.AsArray().Select(r => r!["cells"]![0]!.ToString()));
        Assert.Equal("PartialObjectMetadata", second["rows"]![0]!["object"]!["kind"]!.ToString());
    }

    [Fact]
    public async Task A_continue_token_whose_list_is_gone_is_410_with_a_token_for_the_rest()
    {
        foreach (var name in new[] { "a", "b", "c" }) await Create(name);
        var gone = Uri.EscapeDataString(ListQuery.EncodeContinue("default/a\0", 1));
        var (status, expired) = await _server.SendAsync(HttpMethod.Get, $"{ConfigMaps}?limit=1&continue={gone}");
        Assert.Equal(HttpStatusCode.Gone, status);
        Assert.Equal("Expired", expired!["reason"]!.ToString());
        Assert.StartsWith("The provided continue parameter is too old to display a consistent list result.", expired["message"]!.ToString());

        var rest = Uri.EscapeDataString(expired["metadata"]!["continue"]!.ToString());
        var (restStatus, page) = await _server.SendAsync(HttpMethod.Get, $"{ConfigMaps}?limit=1&continue={rest}");
        Assert.Equal(HttpStatusCode.OK, restStatus);
        Assert.Equal(["b"], Names(page!));
        Assert.NotNull(page!["metadata"]!["continue"]);
    }

    [Fact]
    public async Task A_token_of_a_list_not_kept_here_continues_while_nothing_from_its_key_on_changed()
    {
        // a token another master made: this one never kept its list
        foreach (var name in new[] { "a", "b", "c", "d" }) await Create(name);
        var (_, whole) = await _server.SendAsync(HttpMethod.Get, ConfigMaps);
        var version = whole!["metadata"]!["resourceVersion"]!.ToString();
        var token = Uri.EscapeDataString(ListQuery.EncodeContinue("default/b\0", long.Parse(version)));
        await Create("aa"); // before the token's key: not in the rest, whichever list

        var (status, page) = await _server.SendAsync(HttpMethod.Get, $"{ConfigMaps}?limit=1&continue={token}");
        Assert.True(status == HttpStatusCode.OK, $"{status}: {page}");
        Assert.Equal(["c"], Names(page!));
        Assert.Equal(version, page!["metadata"]!["resourceVersion"]!.ToString());
        Assert.Equal(1, page["metadata"]!["remainingItemCount"]!.GetValue<long>());
        var next = Uri.EscapeDataString(page["metadata"]!["continue"]!.ToString());

        // a change from the key on: that list's rest is not known here any more — 410, never a page of a newer list
        await Create("cc");
        var (gone, expired) = await _server.SendAsync(HttpMethod.Get, $"{ConfigMaps}?limit=1&continue={next}");
        Assert.Equal(HttpStatusCode.Gone, gone);
        Assert.Equal("Expired", expired!["reason"]!.ToString());
        var (stillGone, _) = await _server.SendAsync(HttpMethod.Get, $"{ConfigMaps}?limit=1&continue={token}");
        Assert.Equal(HttpStatusCode.Gone, stillGone);
    }

    [Fact]
    public async Task A_resourceVersion_with_a_continue_token_is_400()
    {
        await Create("a");
        var token = Uri.EscapeDataString(ListQuery.EncodeContinue("default/a\0", 5));
        var (status, body) = await _server.SendAsync(HttpMethod.Get, $"{ConfigMaps}?limit=1&resourceVersion=5&continue={token}");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("specifying resource version is not allowed when using continue", body!["message"]!.ToString());
    }

    [Fact]
    public async Task A_list_with_a_selector_is_written_from_the_matching_objects()
    {
        foreach (var name in new[] { "a1", "b1", "a2" }) await Create(name);
        var (_, list) = await _server.SendAsync(HttpMethod.Get, $"{ConfigMaps}?labelSelector=app%3Da&fieldSelector=metadata.name!%3Da1");
        Assert.Equal(["a2"], Names(list!));
        Assert.Equal("ConfigMapList", list!["kind"]!.ToString());
        Assert.Equal("v1", list["apiVersion"]!.ToString());
    }
}
