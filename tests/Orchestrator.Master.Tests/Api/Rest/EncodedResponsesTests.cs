using System.Buffers;
using System.Text;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Http;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Api.Responses;
using Orchestrator.Master.Api.Rest;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Tests.Registry;
using Orchestrator.Master.Registry.Kinds.Apps;
using Orchestrator.Master.Registry.Kinds.Batch;
using Orchestrator.Master.Registry.Kinds.Core;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Rest;

/// <summary>Answers written from the objects' kept encodings say byte for byte what the JSON trees said.</summary>
public sealed class EncodedResponsesTests
{
    private static readonly DateTime Now = new(2026, 12, 3, 10, 0, 0, DateTimeKind.Utc);

    private static V1ConfigMap ConfigMap(string name, string rv, string ns = "default") => new()
    {
        ApiVersion = "v1", Kind = "ConfigMap",
        Metadata = new V1ObjectMeta
        {
            Name = name, NamespaceProperty = ns, ResourceVersion = rv, Uid = $"uid-{name}",
            CreationTimestamp = Now.AddMinutes(-5), Labels = new Dictionary<string, string> { ["app"] = name[..1] },
            Annotations = new Dictionary<string, string> { ["note"] = "it's <b>&</b> é ✓" },
        },
        Data = new Dictionary<string, string> { ["key"] = "value with \"quotes\" and \\ and\nnewline" },
    };

    private static string Tree(IKubernetesObject<V1ObjectMeta> obj, ResourceDescription resource) =>
        ObjectJson.Write(ObjectJson.ToJson(obj, resource));

    private static async Task<string> Written(Func<HttpContext, Task> write)
    {
        var context = new DefaultHttpContext();
        var body = new MemoryStream();
        context.Response.Body = body;
        await write(context);
        Assert.Equal(body.Length, context.Response.ContentLength);
        return Encoding.UTF8.GetString(body.ToArray());
    }

    [Fact]
    public void An_encoded_object_is_the_json_tree_the_api_wrote()
    {
        var cm = ConfigMap("a", "7");
        Assert.Equal(Tree(cm, CoreResources.ConfigMaps), Encoding.UTF8.GetString(EncodedObjects.Json(cm, CoreResources.ConfigMaps)));
    }

    [Fact]
    public void An_object_without_apiVersion_and_kind_is_encoded_with_its_resources()
    {
        var cm = ConfigMap("a", "7");
        cm.ApiVersion = null;
        cm.Kind = null;
        var json = Encoding.UTF8.GetString(EncodedObjects.Json(cm, CoreResources.ConfigMaps));
        Assert.StartsWith("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",", json);
        Assert.Equal(Tree(cm, CoreResources.ConfigMaps), json);
    }

    public static TheoryData<string> Objects() => new()
    {
        // escapes in names and values (KubernetesJson escapes <, >, &, ', + and non-ASCII; answers do not), control characters
        """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","namespace":"default","resourceVersion":"7","labels":{"k\u0026\"\\":"\u003Cb\u003E"},"annotations":{"n":"it\u0027s \u00E9 \u2713 \uD83D\uDE00 \u2028 \u0001\t+"}},"data":{"key\nline":"x\u002By"}}""",
        // apiVersion and kind not first, numbers, booleans, nulls and arrays in a pod
        """{"metadata":{"name":"p","namespace":"default","resourceVersion":"9","generation":1},"kind":"Pod","apiVersion":"v1","spec":{"containers":[{"name":"c","image":"i","ports":[{"containerPort":80,"protocol":"TCP"}],"resources":{"limits":{"cpu":"1500m","memory":"1e3"}}}],"terminationGracePeriodSeconds":30,"hostNetwork":false,"enableServiceLinks":true},"status":{}}""",
        // no apiVersion and kind: the resource's; empty ones likewise
        """{"metadata":{"name":"b","resourceVersion":"3"},"data":{}}""",
        """{"apiVersion":"","kind":"","metadata":{"name":"b","resourceVersion":"3"}}""",
    };

    [Theory]
    [MemberData(nameof(Objects))]
    public void The_streamed_encoding_is_the_json_tree_byte_for_byte(string text)
    {
        var cm = (V1ConfigMap)KubeObjects.Deserialize(text, typeof(V1ConfigMap));
        var pod = (V1Pod)KubeObjects.Deserialize(text, typeof(V1Pod));
        Assert.Equal(Tree(cm, CoreResources.ConfigMaps), Encoding.UTF8.GetString(ObjectJson.Encode(cm, CoreResources.ConfigMaps)));
        Assert.Equal(Tree(pod, CoreResources.Pods), Encoding.UTF8.GetString(ObjectJson.Encode(pod, CoreResources.Pods)));
        // a custom object is shown in the served version, its fields in their order
        var custom = BuiltIn.NewCatalog().Decode("widgets.example.com", text.Replace("\"metadata\"",
            "\"widget\":{\"size\":3,\"ratio\":-1.5E+10,\"on\":true,\"none\":null,\"list\":[1,[],{}]},\"metadata\""));
        Assert.IsType<CustomObject>(custom);
        Assert.Equal(Tree(custom, CoreResources.ConfigMaps), Encoding.UTF8.GetString(ObjectJson.Encode(custom, CoreResources.ConfigMaps)));
    }

    [Fact]
    public void Text_the_copy_cannot_take_as_the_tree_does_goes_through_the_tree()
    {
        // a lone surrogate does not unescape to UTF-8; apiVersion that is not a string, or twice
        Assert.Null(ObjectJson.TryEncode("""{"metadata":{"name":"\uD800"}}""", "v1", "ConfigMap", false));
        Assert.Null(ObjectJson.TryEncode("""{"apiVersion":1,"metadata":{}}""", "v1", "ConfigMap", false));
        Assert.Null(ObjectJson.TryEncode("""{"apiVersion":"v1","apiVersion":"v2"}""", "v1", "ConfigMap", false));
        Assert.Equal("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}}""",
            Encoding.UTF8.GetString(ObjectJson.TryEncode("""{"metadata":{"name":"a"},"kind":"ConfigMap"}""", "v1", "X", false)!));
    }

    [Fact]
    public void An_encoding_remembered_from_the_stores_text_is_the_json_tree_and_is_kept()
    {
        var cm = ConfigMap("r", "9");
        EncodedObjects.Remember(cm, CoreResources.ConfigMaps, KubeObjects.SerializeToUtf8Bytes(cm));
        var json = EncodedObjects.Json(cm, CoreResources.ConfigMaps);
        Assert.Equal(Tree(cm, CoreResources.ConfigMaps), Encoding.UTF8.GetString(json));
        Assert.Same(json, EncodedObjects.Json(cm, CoreResources.ConfigMaps));

        var none = ConfigMap("n", "9");
        EncodedObjects.Remember(none, CoreResources.ConfigMaps, null);
        var unversioned = ConfigMap("v", "");
        EncodedObjects.Remember(unversioned, CoreResources.ConfigMaps, KubeObjects.SerializeToUtf8Bytes(unversioned));
        Assert.Equal(Tree(none, CoreResources.ConfigMaps), Encoding.UTF8.GetString(EncodedObjects.Json(none, CoreResources.ConfigMaps)));
        Assert.Equal(Tree(unversioned, CoreResources.ConfigMaps), Encoding.UTF8.GetString(EncodedObjects.Json(unversioned, CoreResources.ConfigMaps)));
    }

    [Fact]
    public void A_watched_changes_encoding_is_made_from_the_stores_text_and_kept()
    {
        var cm = ConfigMap("t", "11");
        var text = KubeObjects.SerializeToUtf8Bytes(cm);
        var json = EncodedObjects.Json(cm, CoreResources.ConfigMaps, text);
        Assert.Equal(Tree(cm, CoreResources.ConfigMaps), Encoding.UTF8.GetString(json));
        Assert.Same(json, EncodedObjects.Json(cm, CoreResources.ConfigMaps));
        Assert.Same(json, EncodedObjects.Json(cm, CoreResources.ConfigMaps, text));

        // made from the text, not by serializing the object again (a text that differs shows which was read)
        var other = ConfigMap("o", "12");
        var otherText = KubeObjects.SerializeToUtf8Bytes(ConfigMap("from-text", "12"));
        Assert.Contains("from-text", Encoding.UTF8.GetString(EncodedObjects.Json(other, CoreResources.ConfigMaps, otherText)));
        // no text: the object is serialized
        var plain = ConfigMap("p", "13");
        Assert.Equal(Tree(plain, CoreResources.ConfigMaps), Encoding.UTF8.GetString(EncodedObjects.Json(plain, CoreResources.ConfigMaps, null)));
    }

    [Fact]
    public void A_stored_version_is_encoded_once_and_shared()
    {
        var cm = ConfigMap("a", "7");
        Assert.Same(EncodedObjects.Json(cm, CoreResources.ConfigMaps), EncodedObjects.Json(cm, CoreResources.ConfigMaps));
    }

    [Fact]
    public void Another_resourceVersion_is_encoded_afresh()
    {
        var cm = ConfigMap("a", "7");
        var first = EncodedObjects.Json(cm, CoreResources.ConfigMaps);
        cm.Metadata.ResourceVersion = "8";
        var second = EncodedObjects.Json(cm, CoreResources.ConfigMaps);
        Assert.NotSame(first, second);
        Assert.Contains("\"resourceVersion\":\"8\"", Encoding.UTF8.GetString(second));
    }

    [Fact]
    public void An_object_without_a_resourceVersion_is_not_kept()
    {
        var cm = ConfigMap("a", "");
        Assert.NotSame(EncodedObjects.Json(cm, CoreResources.ConfigMaps), EncodedObjects.Json(cm, CoreResources.ConfigMaps));
    }

    public static TheoryData<int, string?, long?> Envelopes => new()
    {
        { 0, null, null },
        { 1, null, null },
        { 3, "dG9rZW4", 4 },
    };

    [Theory]
    [MemberData(nameof(Envelopes))]
    public async Task A_list_body_is_the_list_tree_with_its_items_laid_in(int count, string? token, long? remaining)
    {
        var items = Enumerable.Range(0, count).Select(i => (IKubernetesObject<V1ObjectMeta>)ConfigMap($"cm{i}", $"{10 + i}")).ToList();
        var metadata = new V1ListMeta { ResourceVersion = "42", ContinueProperty = token, RemainingItemCount = remaining };
        var body = await Written(c => EncodedBodies.WriteListAsync(c, CoreResources.ConfigMaps, items, metadata));
        Assert.Equal(ObjectJson.Write(ApiResponses.ListJson(CoreResources.ConfigMaps, items, metadata)) + "\n", body);
    }

    [Fact]
    public async Task A_list_larger_than_one_write_is_whole()
    {
        var items = Enumerable.Range(0, 600).Select(i => (IKubernetesObject<V1ObjectMeta>)ConfigMap($"cm{i:D4}", $"{10 + i}")).ToList();
        var metadata = new V1ListMeta { ResourceVersion = "700" };
        var body = await Written(c => EncodedBodies.WriteListAsync(c, CoreResources.ConfigMaps, items, metadata));
        Assert.True(body.Length > 128 * 1024);
        Assert.Equal(ObjectJson.Write(ApiResponses.ListJson(CoreResources.ConfigMaps, items, metadata)) + "\n", body);
    }

    [Theory]
    [InlineData("None", "meta.k8s.io/v1")]
    [InlineData("Metadata", "meta.k8s.io/v1")]
    [InlineData("Metadata", "meta.k8s.io/v1beta1")]
    public async Task A_table_is_the_serialised_table(string includeObject, string apiVersion)
    {
        var include = TableConverter.ParseIncludeObject(includeObject);
        var items = new List<IKubernetesObject<V1ObjectMeta>> { ConfigMap("a", "3"), ConfigMap("b", "4") };
        var metadata = new V1ListMeta { ResourceVersion = "9" };
        var body = await Written(c => EncodedBodies.WriteTableAsync(c, 200, CoreResources.ConfigMaps, items, metadata, include, Now, apiVersion));
        var expected = KubeObjects.Serialize(TableConverter.ToTable(CoreResources.ConfigMaps, items, metadata, include, Now, apiVersion)) + "\n";
        Assert.Equal(expected, body);
    }

    [Fact]
    public async Task A_table_of_a_kind_with_its_own_printer_has_its_cells()
    {
        var deployment = new V1Deployment
        {
            ApiVersion = "apps/v1", Kind = "Deployment",
            Metadata = new V1ObjectMeta { Name = "web", NamespaceProperty = "default", ResourceVersion = "5", CreationTimestamp = Now.AddHours(-2) },
            Spec = new V1DeploymentSpec
            {
                Replicas = 3, Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "web" } },
                Template = new V1PodTemplateSpec { Spec = new V1PodSpec { Containers = [new V1Container { Name = "web", Image = "nginx" }] } },
            },
            Status = new V1DeploymentStatus { ReadyReplicas = 2, UpdatedReplicas = 3, AvailableReplicas = 2 },
        };
        var metadata = new V1ListMeta { ResourceVersion = "9" };
        var body = await Written(c => EncodedBodies.WriteTableAsync(c, 200, AppsResources.Deployments, [deployment], metadata,
            IncludeObject.Metadata, Now, "meta.k8s.io/v1"));
        Assert.Equal(KubeObjects.Serialize(TableConverter.ToTable(AppsResources.Deployments, [deployment], metadata, IncludeObject.Metadata,
            Now, "meta.k8s.io/v1")) + "\n", body);
    }

    [Fact]
    public async Task A_table_with_whole_objects_says_what_the_serialised_table_said()
    {
        var items = new List<IKubernetesObject<V1ObjectMeta>> { ConfigMap("a", "3") };
        var metadata = new V1ListMeta { ResourceVersion = "9" };
        var body = await Written(c => EncodedBodies.WriteTableAsync(c, 200, CoreResources.ConfigMaps, items, metadata, IncludeObject.Object, Now,
            "meta.k8s.io/v1"));
        var expected = KubeObjects.Serialize(TableConverter.ToTable(CoreResources.ConfigMaps, items, metadata, IncludeObject.Object, Now));
        // The same JSON; the row's object is escaped as a plain get writes it.
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), JsonNode.Parse(body)), body);
    }

    [Fact]
    public async Task A_kept_list_is_written_from_its_joined_items_and_says_what_the_tree_said()
    {
        var items = Enumerable.Range(0, 300).Select(i => (IKubernetesObject<V1ObjectMeta>)ConfigMap($"cm{i:D4}", $"{10 + i}")).ToList().AsReadOnly();
        var metadata = new V1ListMeta { ResourceVersion = "700" };
        var expected = ObjectJson.Write(ApiResponses.ListJson(CoreResources.ConfigMaps, items, metadata)) + "\n";
        Assert.Equal(expected, await Written(c => EncodedBodies.WriteListAsync(c, CoreResources.ConfigMaps, items, metadata, kept: true)));
        Assert.Same(EncodedObjects.Items(items, CoreResources.ConfigMaps), EncodedObjects.Items(items, CoreResources.ConfigMaps));
        Assert.Equal(expected, await Written(c => EncodedBodies.WriteListAsync(c, CoreResources.ConfigMaps, items, metadata, kept: true)));
        var later = new V1ListMeta { ResourceVersion = "701" };
        Assert.Equal(ObjectJson.Write(ApiResponses.ListJson(CoreResources.ConfigMaps, items, later)) + "\n",
            await Written(c => EncodedBodies.WriteListAsync(c, CoreResources.ConfigMaps, items, later, kept: true)));
    }

    [Fact]
    public void Joined_items_are_kept_per_list_instance()
    {
        var items = new List<IKubernetesObject<V1ObjectMeta>> { ConfigMap("a", "1"), ConfigMap("b", "2") };
        var other = new List<IKubernetesObject<V1ObjectMeta>> { items[0] };
        var joined = Encoding.UTF8.GetString(EncodedObjects.Items(items, CoreResources.ConfigMaps)!);
        Assert.Equal(Tree(items[0], CoreResources.ConfigMaps) + "," + Tree(items[1], CoreResources.ConfigMaps), joined);
        Assert.Equal(Tree(items[0], CoreResources.ConfigMaps), Encoding.UTF8.GetString(EncodedObjects.Items(other, CoreResources.ConfigMaps)!));
    }

    [Fact]
    public void Table_cells_are_what_KubernetesJson_writes()
    {
        object?[] cells =
        [
            "<none>", "it's <b>&</b> é ✓ \"q\" \\ \n\t\u0001", "", 3, -7L, long.MaxValue, 0.1, 1.5, 1e21, -0.0, 2.0, true, false, null,
            new DateTime(2026, 12, 3, 10, 0, 0, DateTimeKind.Utc), (short)4, 2.5m,
        ];
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new System.Text.Json.Utf8JsonWriter(buffer, new System.Text.Json.JsonWriterOptions { SkipValidation = true }))
            TableCells.Write(writer, cells);
        Assert.Equal(KubernetesJson.Serialize(cells.ToList()), Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    [Fact]
    public async Task A_table_of_many_rows_is_whole()
    {
        var items = Enumerable.Range(0, 800).Select(i => (IKubernetesObject<V1ObjectMeta>)ConfigMap($"cm{i:D4}", $"{10 + i}")).ToList();
        var metadata = new V1ListMeta { ResourceVersion = "900" };
        var body = await Written(c => EncodedBodies.WriteTableAsync(c, 200, CoreResources.ConfigMaps, items, metadata, IncludeObject.Metadata,
            Now, "meta.k8s.io/v1"));
        Assert.True(body.Length > 2 * SegmentedBuffer.SegmentBytes);
        Assert.Equal(KubeObjects.Serialize(TableConverter.ToTable(CoreResources.ConfigMaps, items, metadata, IncludeObject.Metadata, Now)) + "\n",
            body);
    }

    [Theory]
    [InlineData("Metadata", "meta.k8s.io/v1")]
    [InlineData("Metadata", "meta.k8s.io/v1beta1")]
    [InlineData("None", "meta.k8s.io/v1")]
    public async Task A_table_of_a_kept_list_says_what_the_serialised_table_said(string includeObject, string apiVersion)
    {
        var include = TableConverter.ParseIncludeObject(includeObject);
        var items = Enumerable.Range(0, 5).Select(i => (IKubernetesObject<V1ObjectMeta>)ConfigMap($"cm{i}", $"{10 + i}")).ToList().AsReadOnly();
        var metadata = new V1ListMeta { ResourceVersion = "20" };
        var expected = KubeObjects.Serialize(TableConverter.ToTable(CoreResources.ConfigMaps, items, metadata, include, Now, apiVersion)) + "\n";
        for (var i = 0; i < 2; i++)
            Assert.Equal(expected, await Written(c => EncodedBodies.WriteTableAsync(c, 200, CoreResources.ConfigMaps, items, metadata, include,
                Now, apiVersion, kept: true)));
    }

    [Fact]
    public async Task A_table_of_a_kept_list_has_the_cells_of_each_request_whatever_was_written_before()
    {
        var items = Enumerable.Range(0, 5).Select(i => (IKubernetesObject<V1ObjectMeta>)ConfigMap($"cm{i}", $"{10 + i}")).ToList().AsReadOnly();
        var metadata = new V1ListMeta { ResourceVersion = "20" };
        // the same list asked again at another time (its Age cells change), with another includeObject, in another version
        foreach (var (now, include, apiVersion) in new[]
                 {
                     (Now, IncludeObject.Metadata, "meta.k8s.io/v1"), (Now, IncludeObject.Metadata, "meta.k8s.io/v1"),
                     (Now.AddMinutes(3), IncludeObject.Metadata, "meta.k8s.io/v1"), (Now.AddMinutes(3), IncludeObject.None, "meta.k8s.io/v1"),
                     (Now.AddMinutes(3), IncludeObject.Metadata, "meta.k8s.io/v1beta1"), (Now, IncludeObject.Object, "meta.k8s.io/v1"),
                     (Now, IncludeObject.Metadata, "meta.k8s.io/v1"),
                 })
        {
            var expected = KubeObjects.Serialize(TableConverter.ToTable(CoreResources.ConfigMaps, items, metadata, include, now, apiVersion)) + "\n";
            var body = await Written(c => EncodedBodies.WriteTableAsync(c, 200, CoreResources.ConfigMaps, items, metadata, include, now,
                apiVersion, kept: true));
            // whole objects: the same JSON, escaped as a plain get writes it (as above)
            if (include == IncludeObject.Object) Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), JsonNode.Parse(body)), body);
            else Assert.Equal(expected, body);
        }
    }

    [Fact]
    public async Task A_table_of_a_kept_list_has_the_ages_of_each_request_as_time_goes_on()
    {
        // ages on every unit's edge: seconds, minutes with seconds, minutes, hours with minutes, hours, days
        var ages = new[] { 0.4, 1.9, 119.6, 599.5, 10_799.7, 28_799.8, 172_799.9, 691_199.5 };
        var items = ages.Select((age, i) =>
        {
            var cm = ConfigMap($"cm{i}", $"{10 + i}");
            cm.Metadata.CreationTimestamp = Now.AddSeconds(-age);
            return (IKubernetesObject<V1ObjectMeta>)cm;
        }).ToList().AsReadOnly();
        var metadata = new V1ListMeta { ResourceVersion = "20" };
        // now goes on in steps shorter and longer than a second, and back once (a clock set back)
        var steps = new[] { 0, 50, 50, 100, 250, 300, 900, 1, 1_000, 60_000, -120_000, 150, 3_600_000 };
        var now = Now;
        foreach (var step in steps)
        {
            now = now.AddMilliseconds(step);
            var expected = KubeObjects.Serialize(TableConverter.ToTable(CoreResources.ConfigMaps, items, metadata, IncludeObject.Metadata, now)) + "\n";
            Assert.Equal(expected, await Written(c => EncodedBodies.WriteTableAsync(c, 200, CoreResources.ConfigMaps, items, metadata,
                IncludeObject.Metadata, now, "meta.k8s.io/v1", kept: true)));
        }
    }

    [Fact]
    public async Task A_table_of_a_kept_list_of_running_jobs_has_each_requests_durations()
    {
        var start = Now.AddSeconds(-58.5);
        var job = new V1Job
        {
            ApiVersion = "batch/v1", Kind = "Job",
            Metadata = new V1ObjectMeta { Name = "run", NamespaceProperty = "default", ResourceVersion = "5", CreationTimestamp = Now.AddHours(-1) },
            Status = new V1JobStatus { StartTime = start },
        };
        var items = new List<IKubernetesObject<V1ObjectMeta>> { job }.AsReadOnly();
        var metadata = new V1ListMeta { ResourceVersion = "9" };
        foreach (var now in new[] { Now, Now.AddMilliseconds(400), Now.AddMilliseconds(600), Now.AddSeconds(62) })
            Assert.Equal(KubeObjects.Serialize(TableConverter.ToTable(BatchResources.Jobs, items, metadata, IncludeObject.None, now)) + "\n",
                await Written(c => EncodedBodies.WriteTableAsync(c, 200, BatchResources.Jobs, items, metadata, IncludeObject.None, now,
                    "meta.k8s.io/v1", kept: true)));
    }

    [Fact]
    public void A_segmented_buffer_keeps_every_byte_in_order()
    {
        using var buffer = new SegmentedBuffer();
        var expected = new List<byte>();
        var random = new Random(7);
        for (var i = 0; i < 200; i++)
        {
            var chunk = new byte[random.Next(0, 3 * SegmentedBuffer.SegmentBytes / 2)];
            random.NextBytes(chunk);
            if (i % 2 == 0) buffer.Write(chunk);
            else
            {
                chunk.CopyTo(buffer.GetSpan(chunk.Length));
                buffer.Advance(chunk.Length);
            }
            expected.AddRange(chunk);
        }
        Assert.Equal(expected.Count, buffer.Length);
        Assert.Equal(expected.ToArray(), buffer.Segments.SelectMany(s => s.ToArray()).ToArray());
    }

    [Theory]
    [InlineData("ADDED")]
    [InlineData("MODIFIED")]
    [InlineData("DELETED")]
    public void A_watch_event_is_the_event_tree_written(string type)
    {
        var cm = ConfigMap("a", "11");
        var buffer = new ArrayBufferWriter<byte>();
        var length = EncodedBodies.WriteWatchEvent(buffer, type, EncodedObjects.Json(cm, CoreResources.ConfigMaps));
        Assert.Equal(ObjectJson.Write(new JsonObject { ["type"] = type, ["object"] = ObjectJson.ToJson(cm, CoreResources.ConfigMaps) }) + "\n",
            Encoding.UTF8.GetString(buffer.WrittenSpan));
        Assert.Equal(buffer.WrittenCount, length);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(100)]
    [InlineData(4096)]
    public void A_watch_event_is_the_same_line_whatever_span_the_writer_hands_out(int spanBytes)
    {
        // A line that fits in the writer's span is written at once, else piece by piece: the bytes are the same.
        var cm = ConfigMap("a", "11");
        var expected = ObjectJson.Write(new JsonObject { ["type"] = "MODIFIED", ["object"] = ObjectJson.ToJson(cm, CoreResources.ConfigMaps) }) + "\n";
        var writer = new SmallSpans(spanBytes);
        var length = EncodedBodies.WriteWatchEvent(writer, "MODIFIED", EncodedObjects.Json(cm, CoreResources.ConfigMaps));
        EncodedBodies.WriteWatchEvent(writer, "DELETED", EncodedObjects.Json(cm, CoreResources.ConfigMaps));
        var deleted = ObjectJson.Write(new JsonObject { ["type"] = "DELETED", ["object"] = ObjectJson.ToJson(cm, CoreResources.ConfigMaps) }) + "\n";
        Assert.Equal(expected + deleted, Encoding.UTF8.GetString(writer.Written.ToArray()));
        Assert.Equal(Encoding.UTF8.GetByteCount(expected), length);
    }

    /// <summary>A writer whose spans hold at most the given bytes, whatever is asked for (as a pipe at a block's end).</summary>
    private sealed class SmallSpans(int spanBytes) : IBufferWriter<byte>
    {
        private byte[] _span = [];
        public List<byte> Written { get; } = [];

        public Span<byte> GetSpan(int sizeHint = 0) => _span = new byte[spanBytes];

        public Memory<byte> GetMemory(int sizeHint = 0) => _span = new byte[spanBytes];

        public void Advance(int count)
        {
            if (count > _span.Length) throw new InvalidOperationException("advanced past the span");
            Written.AddRange(_span.AsSpan(0, count).ToArray());
            _span = [];
        }
    }

    [Fact]
    public void Watch_events_written_one_after_another_are_separate_lines_in_order()
    {
        // A watch writes the events that are ready into one buffer and flushes them together: each stays a line of its own.
        var buffer = new ArrayBufferWriter<byte>();
        var changes = new[] { ("ADDED", ConfigMap("a", "11")), ("MODIFIED", ConfigMap("a", "12")), ("ADDED", ConfigMap("b", "13")),
            ("DELETED", ConfigMap("a", "14")) };
        foreach (var (type, cm) in changes)
            EncodedBodies.WriteWatchEvent(buffer, type, EncodedObjects.Json(cm, CoreResources.ConfigMaps));
        var lines = Encoding.UTF8.GetString(buffer.WrittenSpan).Split('\n');
        Assert.Equal("", lines[^1]);
        Assert.Equal(changes.Select(c => (c.Item1, c.Item2.Metadata.Name, c.Item2.Metadata.ResourceVersion)),
            lines[..^1].Select(l => JsonNode.Parse(l)).Select(e => (e!["type"]!.ToString(), e["object"]!["metadata"]!["name"]!.ToString(),
                e["object"]!["metadata"]!["resourceVersion"]!.ToString())));
    }

    // ---- paging ----

    private static ListQuery Query(int limit = 0, string labels = "", string? from = null) =>
        new(LabelSelector.Parse(labels), FieldSelector.Parse(null, CoreResources.ConfigMaps), limit, from);

    private static ListSnapshot Snapshot(long rv, params string[] names) =>
        new(names.Select((n, i) => (IKubernetesObject<V1ObjectMeta>)ConfigMap(n, $"{i + 1}")).ToList(), rv);

    private static string[] Names(IReadOnlyList<IKubernetesObject<V1ObjectMeta>> page) => page.Select(o => o.Metadata.Name).ToArray();

    [Fact]
    public void A_list_without_limit_or_selectors_is_the_snapshot_itself()
    {
        var snapshot = Snapshot(5, "a", "b", "c");
        var (page, metadata) = Query().Select(snapshot);
        Assert.Same(snapshot.Listed, page);
        Assert.Equal("5", metadata.ResourceVersion);
        Assert.Null(metadata.ContinueProperty);
        Assert.Null(metadata.RemainingItemCount);
    }

    [Fact]
    public void A_snapshot_out_of_order_is_sorted_by_namespace_and_name()
    {
        var items = new List<IKubernetesObject<V1ObjectMeta>> { ConfigMap("b", "1"), ConfigMap("a", "2", "zz"), ConfigMap("c", "3", "aa") };
        var (page, _) = Query(labels: "app").Select(new ListSnapshot(items, 3));
        Assert.Equal(["c", "b", "a"], Names(page));
    }

    [Fact]
    public void Pages_follow_one_another_with_kube_continue_tokens()
    {
        var snapshot = Snapshot(9, "a", "b", "c", "d", "e");
        var (first, meta1) = Query(limit: 2).Select(snapshot);
        Assert.Equal(["a", "b"], Names(first));
        Assert.Equal(3, meta1.RemainingItemCount);
        var token = JsonNode.Parse(Convert.FromBase64String(Pad(meta1.ContinueProperty!.Replace('-', '+').Replace('_', '/'))))!;
        Assert.Equal("meta.k8s.io/v1", token["v"]!.ToString());
        Assert.Equal(9, token["rv"]!.GetValue<long>());
        Assert.Equal("default/b\0", token["start"]!.ToString());

        var (second, meta2) = Query(limit: 2, from: "default/b\0").Select(snapshot);
        Assert.Equal(["c", "d"], Names(second));
        Assert.Equal(1, meta2.RemainingItemCount);
        var (third, meta3) = Query(limit: 2, from: "default/d\0").Select(snapshot);
        Assert.Equal(["e"], Names(third));
        Assert.Null(meta3.ContinueProperty);
        Assert.Equal("9", meta3.ResourceVersion);
    }

    private static string Pad(string base64) => base64.PadRight(base64.Length + (4 - base64.Length % 4) % 4, '=');

    [Fact]
    public void Selectors_page_through_the_matching_items_only()
    {
        var snapshot = Snapshot(9, "a1", "b1", "a2", "b2", "a3");
        var query = Query(limit: 1, labels: "app=a");
        var (first, meta) = query.Select(snapshot);
        Assert.Equal(["a1"], Names(first));
        Assert.Equal(2, meta.RemainingItemCount);
        var (second, meta2) = (query with { ContinueFrom = "default/a1\0" }).Select(snapshot);
        Assert.Equal(["a2"], Names(second));
        var (third, meta3) = (query with { ContinueFrom = "default/a2\0" }).Select(snapshot);
        Assert.Equal(["a3"], Names(third));
        Assert.Null(meta3.ContinueProperty);
        Assert.NotNull(meta2.ContinueProperty);
    }

    [Fact]
    public void Kept_lists_expire_and_the_oldest_goes_first()
    {
        var now = Now;
        var kept = new ListSnapshots(() => now);
        var resource = CoreResources.ConfigMaps;
        for (var rv = 1; rv <= ListSnapshots.Capacity + 1; rv++)
        {
            kept.Keep(resource, "default", Snapshot(rv, "a"));
            now = now.AddMilliseconds(1);
        }
        Assert.Null(kept.Find(resource, "default", 1));
        Assert.NotNull(kept.Find(resource, "default", 2));
        Assert.Null(kept.Find(resource, "other", 2));
        now += ListSnapshots.Lifetime;
        Assert.Null(kept.Find(resource, "default", ListSnapshots.Capacity + 1));
        Assert.Equal(0, kept.Count);
    }
}
