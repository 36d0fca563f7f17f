using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Orchestrator.Master.Api.Storage;
using Xunit;

namespace Orchestrator.Master.Tests.Api;

/// <summary>/healthz, /livez and /readyz answer as kube-apiserver's do, and /readyz follows the store and the API's informers.</summary>
public sealed class HealthEndpointTests : IAsyncLifetime
{
    private ApiTestServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await ApiTestServer.StartAsync();
        _server.Client.DefaultRequestHeaders.Authorization = null; // health is public
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<(HttpStatusCode Status, string Body)> Get(string path)
    {
        using var response = await _server.Client.GetAsync(path);
        Assert.Equal("text/plain; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_ready_server_answers_ok_and_lists_its_checks_when_verbose()
    {
        Assert.Equal((HttpStatusCode.OK, "ok"), await Get("/readyz"));
        Assert.Equal((HttpStatusCode.OK, "ok"), await Get("/livez"));
        Assert.Equal((HttpStatusCode.OK, "ok"), await Get("/healthz"));
        Assert.Equal((HttpStatusCode.OK, "[+]ping ok\n[+]log ok\n[+]actor-system ok\n[+]etcd ok\n[+]informer-sync ok\n[+]shutdown ok\nreadyz check passed\n"),
            await Get("/readyz?verbose"));
        Assert.Equal((HttpStatusCode.OK, "[+]ping ok\n[+]log ok\n[+]actor-system ok\nlivez check passed\n"), await Get("/livez?verbose"));
        Assert.Equal((HttpStatusCode.OK, "ok"), await Get("/readyz/etcd"));
        Assert.Equal((HttpStatusCode.NotFound, "404 page not found\n"), await Get("/livez/etcd"));
    }

    [Fact]
    public async Task A_store_that_cannot_write_makes_readyz_and_healthz_fail_but_not_livez()
    {
        _server.Health.NotWritable("the journal cannot be written: disk full");

        Assert.Equal((HttpStatusCode.InternalServerError,
                "[+]ping ok\n[+]log ok\n[+]actor-system ok\n[-]etcd failed: reason withheld\n[+]informer-sync ok\n[+]shutdown ok\nreadyz check failed\n"),
            await Get("/readyz"));
        Assert.Equal(HttpStatusCode.InternalServerError, (await Get("/healthz")).Status);
        Assert.Equal((HttpStatusCode.OK, "ok"), await Get("/livez"));
        Assert.Equal((HttpStatusCode.InternalServerError, "internal server error: the journal cannot be written: disk full\n"),
            await Get("/readyz/etcd"));
        Assert.Equal((HttpStatusCode.OK, "ok"), await Get("/readyz?exclude=etcd"));
        Assert.Equal((HttpStatusCode.OK,
                "[+]ping ok\n[+]log ok\n[+]actor-system ok\n[+]etcd excluded: ok\n[+]informer-sync ok\n[+]shutdown ok\nwarn: some health checks cannot be excluded: no matches for \"store\"\nreadyz check passed\n"),
            await Get("/readyz?verbose&exclude=etcd&exclude=store"));

        _server.Health.Writable();
        Assert.Equal((HttpStatusCode.OK, "ok"), await Get("/readyz"));
    }

    [Fact]
    public async Task An_unknown_check_is_not_found()
    {
        Assert.Equal((HttpStatusCode.NotFound, "404 page not found\n"), await Get("/readyz/store"));
        Assert.Equal((HttpStatusCode.NotFound, "404 page not found\n"), await Get("/livez/informer-sync"));
    }

    [Fact]
    public async Task An_informer_not_synced_yet_makes_readyz_fail_until_it_is()
    {
        Assert.Equal((HttpStatusCode.OK, "ok"), await Get("/readyz/informer-sync")); // the server's own are synced
        var informers = _server.App.Services.GetRequiredService<ObjectStoreClient>().Informers;
        informers.Started("test-informer");

        Assert.Equal((HttpStatusCode.InternalServerError,
                "[+]ping ok\n[+]log ok\n[+]actor-system ok\n[+]etcd ok\n[-]informer-sync failed: reason withheld\n[+]shutdown ok\nreadyz check failed\n"),
            await Get("/readyz"));
        Assert.Equal((HttpStatusCode.InternalServerError, "internal server error: 1 informers not synced yet: [test-informer]\n"),
            await Get("/readyz/informer-sync"));
        Assert.Equal((HttpStatusCode.OK, "ok"), await Get("/livez"));

        informers.Synced("test-informer");
        Assert.Equal((HttpStatusCode.OK, "ok"), await Get("/readyz"));
    }
}
