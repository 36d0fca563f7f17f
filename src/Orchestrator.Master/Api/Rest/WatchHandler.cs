using System.Text.Json.Nodes;
using System.Threading.Channels;
using Akka.Actor;
using k8s;
using k8s.Models;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Api.Responses;
using Orchestrator.Master.Api.Storage;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Api.Rest;

/// <summary>
/// <c>?watch=true</c>: a chunked stream of JSON WatchEvents, one per line. Without a resourceVersion (or with
/// "0", or with sendInitialEvents) the current objects come first as ADDED; with one, the store replays the
/// changes after it. Selectors filter events (an object that stops matching is sent as DELETED). Ends on
/// timeoutSeconds, on client disconnect, on server shutdown, or when the store ends the feed.
/// </summary>
internal sealed class WatchHandler(ObjectStoreClient store, ApiResponses responses, IHostApplicationLifetime lifetime,
    ILogger<WatchHandler> logger)
{
    private static readonly TimeSpan BookmarkInterval = TimeSpan.FromSeconds(30);
    private const int DefaultTimeoutSeconds = 1800;
    /// <summary>A watch asking for more (timeoutSeconds is a long) ends after this long anyway: CancelAfter takes no more.</summary>
    private const int MaxTimeoutSeconds = int.MaxValue / 1000;
    private const int Backlog = 10_000;

    public async Task WatchAsync(HttpContext context, ResourceDescription resource, string? ns, ListQuery query)
    {
        var q = context.Request.Query;
        var bookmarks = QueryParameters.Bool(context, "allowWatchBookmarks");
        var sendInitialEvents = QueryParameters.Bool(context, "sendInitialEvents");
        var timeout = int.TryParse(q["timeoutSeconds"], out var seconds) && seconds > 0 ? Math.Min(seconds, MaxTimeoutSeconds) : DefaultTimeoutSeconds;
        var (form, metaVersion) = ContentNegotiation.Negotiate(context.Request.Headers.Accept);
        var asTable = form == ResponseForm.Table;
        var include = ApiResponses.IncludeObjectOf(context);
        var storeName = resource.StoreName;

        long? from = query.ResourceVersion is > 0 ? query.ResourceVersion : null;

        // Initial state: the listed objects as ADDED; the feed then starts right after the list's version.
        var initial = new List<IKubernetesObject<V1ObjectMeta>>();
        var matching = new HashSet<string>();
        if (from is null || sendInitialEvents || query.IsFiltered)
        {
            var listed = await store.ListAsync(resource, ns, context.RequestAborted, query.ResourceVersion);
            var selected = listed.Items.Where(query.Matches).OrderBy(ListQuery.SortKey, StringComparer.Ordinal).ToList();
            foreach (var obj in selected) matching.Add(ListQuery.SortKey(obj));
            if (from is null || sendInitialEvents)
            {
                initial = selected;
                from ??= listed.ResourceVersion;
            }
        }

        var storeRef = await store.StoreAsync(context.RequestAborted);
        var channel = Channel.CreateBounded<object>(new BoundedChannelOptions(Backlog) { SingleReader = true, SingleWriter = true });
        var forwarder = store.System.ActorOf(WatchForwarder.Props(storeRef, storeName, ns, from, channel.Writer,
            bookmarks ? BookmarkInterval : null));
        // Watches end when the server stops, so that shutdown does not wait for clients to hang up.
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
        using var watching = Diagnostics.MasterMetrics.Watch(storeName);
        cts.CancelAfter(TimeSpan.FromSeconds(timeout));
        var lastVersion = from.Value;
        try
        {
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/json";
            context.Response.Headers.CacheControl = "no-cache, private";
            await context.Response.StartAsync(cts.Token);

            foreach (var obj in initial) await WriteEventAsync("ADDED", obj);
            if (sendInitialEvents && bookmarks)
                await WriteEventAsync("BOOKMARK", null, initialEventsEnd: true);
            await context.Response.Body.FlushAsync(cts.Token);

            await foreach (var message in channel.Reader.ReadAllAsync(cts.Token))
            {
                switch (message)
                {
                    case WatchStarted started:
                        lastVersion = Math.Max(lastVersion, started.ResourceVersion);
                        break;
                    case ObjectChanged stored when stored.Resource == storeName:
                        var changed = ObjectStoreClient.FromStorage(resource, stored);
                        lastVersion = Math.Max(lastVersion, changed.ResourceVersion);
                        if (Filter(changed, query, matching) is { } type) await WriteEventAsync(type, changed.Object);
                        break;
                    case StoreFailed failed:
                        await WriteLineAsync(new JsonObject
                        {
                            ["type"] = "ERROR",
                            ["object"] = StatusResponses.Failure(ApiException.FromStore(failed.Error, resource, null)),
                        });
                        return;
                    case WatchForwarder.BookmarkDue:
                        await WriteEventAsync("BOOKMARK", null);
                        break;
                }
                if (channel.Reader.Count == 0) await context.Response.Body.FlushAsync(cts.Token);
            }
        }
        catch (OperationCanceledException)
        {
            // timeoutSeconds elapsed or the client went away: the stream simply ends.
        }
        catch (ChannelClosedException e)
        {
            logger.LogDebug(e, "watch of {Resource} ended by the store side", storeName);
        }
        finally
        {
            store.System.Stop(forwarder);
        }
        return;

        Task WriteEventAsync(string type, IKubernetesObject<V1ObjectMeta>? obj, bool initialEventsEnd = false)
        {
            if (obj is null)
            {
                var metadata = new JsonObject { ["resourceVersion"] = lastVersion.ToString() };
                if (initialEventsEnd)
                    metadata["annotations"] = new JsonObject { ["k8s.io/initial-events-end"] = "true" };
                return WriteLineAsync(new JsonObject
                {
                    ["type"] = type,
                    ["object"] = new JsonObject { ["kind"] = resource.Kind, ["apiVersion"] = resource.GroupVersion, ["metadata"] = metadata },
                });
            }
            // The object's encoding is made once and shared by every watcher of this change (and every list that holds it).
            var encoded = asTable
                ? EncodedBodies.TableBytes(resource, [obj], new V1ListMeta { ResourceVersion = obj.Metadata?.ResourceVersion },
                    include, responses.Now, metaVersion)
                : EncodedObjects.Json(obj, resource);
            return WriteBytesAsync(EncodedBodies.WatchEvent(type, encoded));
        }

        async Task WriteBytesAsync(byte[] line)
        {
            await context.Response.Body.WriteAsync(line, cts.Token);
        }

        async Task WriteLineAsync(JsonObject watchEvent)
        {
            await context.Response.WriteAsync(ObjectJson.Write(watchEvent) + "\n", cts.Token);
        }
    }

    /// <summary>The event type to send for a change under the selectors, or null to send nothing.</summary>
    public static string? Filter(ObjectChanged changed, ListQuery query, HashSet<string> matching)
    {
        if (!query.IsFiltered) return changed.Type;
        var key = ListQuery.SortKey(changed.Object);
        var matches = query.Matches(changed.Object);
        var matchedBefore = matching.Contains(key);
        if (changed.Type == "DELETED")
        {
            matching.Remove(key);
            return matches || matchedBefore ? "DELETED" : null;
        }
        if (matches)
        {
            matching.Add(key);
            return matchedBefore || changed.Type == "ADDED" ? changed.Type : "ADDED";
        }
        return matching.Remove(key) ? "DELETED" : null;
    }
}
