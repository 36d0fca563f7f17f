using System.Buffers;
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
/// <c>?watch=true</c>: a chunked stream of JSON WatchEvents, one per line (or, for a client that takes only protobuf,
/// <c>application/vnd.kubernetes.protobuf;stream=watch</c>: length-prefixed WatchEvent messages, <see cref="ProtobufAnswers"/>). Without a resourceVersion (or with
/// "0", or with sendInitialEvents) the current objects come first as ADDED; with one, the store replays the
/// changes after it. Selectors filter events (an object that stops matching is sent as DELETED). Ends on
/// timeoutSeconds, on client disconnect, on server shutdown, or when the store ends the feed.
/// </summary>
internal sealed class WatchHandler(ObjectStoreClient store, ApiResponses responses, IHostApplicationLifetime lifetime,
    ILogger<WatchHandler> logger)
{
    private static readonly TimeSpan BookmarkInterval = TimeSpan.FromSeconds(30);
    /// <summary>kube-apiserver's --min-request-timeout: a watch without timeoutSeconds ends after a random time between
    /// it and twice it, so a crowd of watchers started together does not come back together.</summary>
    private const int MinRequestTimeoutSeconds = 1800;
    /// <summary>A watch asking for more (timeoutSeconds is a long) ends after this long anyway: CancelAfter takes no more.</summary>
    private const int MaxTimeoutSeconds = int.MaxValue / 1000;
    private const int Backlog = 10_000;
    /// <summary>Bytes written before a flush even while more events are ready, so the pipe's unsent data stays bounded.</summary>
    private const int FlushBytes = 64 * 1024;

    public async Task WatchAsync(HttpContext context, ResourceDescription resource, string? ns, ListQuery query)
    {
        // kube negotiates the watch's stream serializer after the list's form: YAML has none, so a client preferring it gets
        // 406 (its Status in YAML, as every answer to it), before anything is watched
        if (ContentNegotiation.Yaml(context.Request.Headers.Accept)) throw ApiException.NotAcceptableStream();
        var q = context.Request.Query;
        var bookmarks = QueryParameters.Bool(context, "allowWatchBookmarks");
        var sendInitialEvents = QueryParameters.Bool(context, "sendInitialEvents");
        var timeout = long.TryParse(q["timeoutSeconds"], out var seconds) && seconds > 0
            ? (int)Math.Min(seconds, MaxTimeoutSeconds)
            : MinRequestTimeoutSeconds + Random.Shared.Next(MinRequestTimeoutSeconds);
        var (form, metaVersion) = ContentNegotiation.Negotiate(context.Request.Headers.Accept);
        var protobuf = ProtobufAnswers.Wanted(context);
        var asTable = !protobuf && form == ResponseForm.Table;
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
        var channel = Channel.CreateBounded<object>(new BoundedChannelOptions(Backlog) { SingleReader = true });
        var forwarder = store.System.ActorOf(WatchForwarder.Props(storeRef, storeName, ns, from, channel.Writer,
            bookmarks ? BookmarkInterval : null));
        // Watches end when the server stops, so that shutdown does not wait for clients to hang up.
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
        using var watching = Diagnostics.MasterMetrics.Watch(storeName);
        cts.CancelAfter(TimeSpan.FromSeconds(timeout));
        var lastVersion = from.Value;
        var body = context.Response.BodyWriter;
        var unflushed = 0;
        try
        {
            context.Response.StatusCode = 200;
            // kube's watch names the stream in the type of every form but JSON
            context.Response.ContentType = protobuf ? ContentNegotiation.ProtobufMediaType + ";stream=watch" : "application/json";
            context.Response.Headers.CacheControl = "no-cache, private";
            await context.Response.StartAsync(cts.Token);

            foreach (var obj in initial)
            {
                WriteEvent("ADDED", obj);
                if (unflushed >= FlushBytes && !await FlushAsync()) return;
            }
            if (sendInitialEvents && bookmarks)
                WriteEvent("BOOKMARK", null, initialEventsEnd: true);
            await body.FlushAsync(cts.Token);
            unflushed = 0;

            // The events that are ready go out together: written into the response's pipe one after another and
            // flushed when none is left (or every FlushBytes), as kube-apiserver flushes only when no more events are
            // queued. A flush per event was a chunk, a TLS record, a send and a hop to the socket's thread for every
            // event and watcher.
            var reader = channel.Reader;
            while (await reader.WaitToReadAsync(cts.Token))
            {
                while (reader.TryRead(out var message))
                {
                    switch (message)
                    {
                        case WatchStarted started:
                            lastVersion = Math.Max(lastVersion, started.ResourceVersion);
                            break;
                        case ObjectChanged stored:
                            if (!await WriteChangeAsync(stored)) return;
                            break;
                        case ObjectsChanged batch:
                            foreach (var stored in batch.Changes)
                                if (!await WriteChangeAsync(stored)) return;
                            break;
                        case StoreFailed failed:
                            await WriteErrorAsync(ApiException.FromStore(failed.Error, resource, null));
                            return;
                        case WatchForwarder.BookmarkDue:
                            WriteEvent("BOOKMARK", null);
                            break;
                    }
                    if (unflushed >= FlushBytes && !await FlushAsync()) return;
                }
                if (!await FlushAsync()) return;
            }
        }
        catch (OperationCanceledException)
        {
            // timeoutSeconds elapsed or the client went away: the stream simply ends.
        }
        catch (Exception e) when (e is WatchFeedEndedException || e.InnerException is WatchFeedEndedException)
        {
            // The store stopped, or this watch fell too far behind: the stream ends and the client watches again from
            // its last version, as when kube-apiserver closes an unresponsive watcher.
            logger.LogDebug("watch of {Resource} ended by the store side: {Reason}", storeName, e.Message);
        }
        finally
        {
            store.System.Stop(forwarder);
        }
        return;

        // false when the change could not be shown in the watch's version (its conversion webhook failed): the watch
        // then ends with an ERROR event, as kube's watch ends on an object it cannot decode
        async ValueTask<bool> WriteChangeAsync(ObjectChanged stored)
        {
            if (stored.Resource != storeName) return true;
            ObjectChanged changed;
            if (resource.WebhookConversion is null) changed = ObjectStoreClient.FromStorage(resource, stored);
            else
                try
                {
                    changed = await store.ToVersionAsync(resource, stored, cts.Token);
                }
                catch (ApiException e)
                {
                    await WriteErrorAsync(e);
                    return false;
                }
            lastVersion = Math.Max(lastVersion, changed.ResourceVersion);
            if (Filter(changed, query, matching) is { } type) WriteEvent(type, changed.Object, text: changed.Json);
            return true;
        }

        async Task WriteErrorAsync(ApiException error)
        {
            var status = StatusResponses.Failure(error);
            if (protobuf) WriteFrame(ProtobufAnswers.WatchFrame("ERROR", status));
            else WriteLine(new JsonObject { ["type"] = "ERROR", ["object"] = status });
            await FlushAsync();
        }

        // Hands what was written on; false when the client has gone (the stream ends).
        async ValueTask<bool> FlushAsync()
        {
            if (unflushed == 0) return true;
            unflushed = 0;
            var flushed = await body.FlushAsync(cts.Token);
            return !flushed.IsCompleted && !flushed.IsCanceled;
        }

        // text: the object's KubernetesJson text as the store serialized it for its journal (a change's), when known
        void WriteEvent(string type, IKubernetesObject<V1ObjectMeta>? obj, bool initialEventsEnd = false, byte[]? text = null)
        {
            if (obj is null)
            {
                var metadata = new JsonObject { ["resourceVersion"] = lastVersion.ToString() };
                if (initialEventsEnd)
                    metadata["annotations"] = new JsonObject { ["k8s.io/initial-events-end"] = "true" };
                var bookmark = new JsonObject { ["kind"] = resource.Kind, ["apiVersion"] = resource.GroupVersion, ["metadata"] = metadata };
                if (protobuf) WriteFrame(ProtobufAnswers.WatchFrame(type, bookmark, resource));
                else WriteLine(new JsonObject { ["type"] = type, ["object"] = bookmark });
                return;
            }
            if (protobuf)
            {
                WriteFrame(ProtobufAnswers.WatchFrame(type, obj, resource));
                return;
            }
            // The object's encoding is made once and shared by every watcher of this change (and every list that holds
            // it), from the store's text of it when there is one; each watcher copies it into its response's pipe.
            var encoded = asTable
                ? EncodedBodies.TableBytes(resource, [obj], new V1ListMeta { ResourceVersion = obj.Metadata?.ResourceVersion },
                    include, responses.Now, metaVersion)
                : EncodedObjects.Json(obj, resource, text);
            unflushed += EncodedBodies.WriteWatchEvent(body, type, encoded);
        }

        void WriteFrame(byte[] frame)
        {
            body.Write(frame);
            unflushed += frame.Length;
        }

        void WriteLine(JsonObject watchEvent)
        {
            var line = System.Text.Encoding.UTF8.GetBytes(ObjectJson.Write(watchEvent) + "\n");
            body.Write(line);
            unflushed += line.Length;
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
