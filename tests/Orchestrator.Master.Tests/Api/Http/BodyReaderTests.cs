using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Orchestrator.Master.Api.Http;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Http;

/// <summary>The bounded JSON and YAML readers every body goes through, the Warning header and the 500 answer.</summary>
public sealed class BodyReaderTests
{
    private static ParsedBody Json(string text) => JsonBody.Parse(Encoding.UTF8.GetBytes(text));
    private static ParsedBody Yaml(string text) => YamlBody.Parse(Encoding.UTF8.GetBytes(text));

    [Theory]
    [InlineData(65)]
    [InlineData(5_000)]
    [InlineData(100_000)]
    public void Json_nested_past_the_limit_is_refused_before_anything_recurses(int depth)
    {
        var e = Assert.Throws<MalformedBodyException>(() => Json(new string('[', depth) + new string(']', depth)));
        Assert.Equal("exceeded max depth of 64", e.Message);
        e = Assert.Throws<MalformedBodyException>(() => Json(string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth)));
        Assert.Equal("exceeded max depth of 64", e.Message);
    }

    /// <summary>A body that has arrived whole is taken without a timed read; one still arriving is left unread for it.</summary>
    [Fact]
    public async Task A_body_read_whole_at_once_and_one_still_arriving_left_for_the_timed_read()
    {
        var whole = new System.IO.Pipelines.Pipe();
        await whole.Writer.WriteAsync(Encoding.UTF8.GetBytes("{\"a\":"));
        await whole.Writer.WriteAsync(Encoding.UTF8.GetBytes("1}"));
        await whole.Writer.CompleteAsync();
        Assert.Equal("{\"a\":1}", Encoding.UTF8.GetString(Orchestrator.Master.Api.Bodies.RequestBodies.TryReadWhole(whole.Reader)!));
        Assert.True((await whole.Reader.ReadAsync()).Buffer.IsEmpty);

        var arriving = new System.IO.Pipelines.Pipe();
        await arriving.Writer.WriteAsync(Encoding.UTF8.GetBytes("{\"a\":"));
        Assert.Null(Orchestrator.Master.Api.Bodies.RequestBodies.TryReadWhole(arriving.Reader));
        await arriving.Writer.WriteAsync(Encoding.UTF8.GetBytes("1}"));
        await arriving.Writer.CompleteAsync();
        var rest = await arriving.Reader.ReadAsync();
        Assert.Equal("{\"a\":1}", Encoding.UTF8.GetString(System.Buffers.BuffersExtensions.ToArray(rest.Buffer)));

        var nothing = new System.IO.Pipelines.Pipe();
        Assert.Null(Orchestrator.Master.Api.Bodies.RequestBodies.TryReadWhole(nothing.Reader));

        var large = new System.IO.Pipelines.Pipe(new System.IO.Pipelines.PipeOptions(pauseWriterThreshold: 0));
        await large.Writer.WriteAsync(new byte[Orchestrator.Master.Api.Bodies.RequestBodies.MaxBodyBytes + 1]);
        await large.Writer.CompleteAsync();
        Assert.Equal(413, Assert.Throws<ApiException>(() => Orchestrator.Master.Api.Bodies.RequestBodies.TryReadWhole(large.Reader)).Code);
    }

    [Fact]
    public void Json_at_the_limit_is_read()
    {
        var parsed = Json(new string('[', BodyLimits.MaxDepth) + new string(']', BodyLimits.MaxDepth));
        Assert.Equal(BodyLimits.MaxDepth, JsonBody.Depth(parsed.Root));
    }

    [Fact]
    public void Duplicate_json_fields_keep_the_last_value_and_are_named_with_their_path()
    {
        var parsed = Json("""{"a":1,"a":2,"b":[{"c":1},{"c":2,"c":3}],"d":{"e":{"f":1,"f":2}}}""");
        Assert.Equal("""{"a":2,"b":[{"c":1},{"c":3}],"d":{"e":{"f":2}}}""", parsed.Root!.ToJsonString());
        Assert.Equal(["a", "b[1].c", "d.e.f"], parsed.DuplicateFields);
        // the tree is complete: reading it throws nothing later
        Assert.Equal(3, parsed.Root!.AsObject().Count);
    }

    [Fact]
    public void Invalid_utf8_in_a_json_string_is_refused_at_once()
    {
        var body = Encoding.UTF8.GetBytes("{\"a\":\"xx\"}");
        body[6] = 0xff;
        Assert.Throws<MalformedBodyException>(() => JsonBody.Parse(body));
    }

    [Theory]
    [InlineData("{\"a\":1} x")]
    [InlineData("{\"a\":1,}")]
    [InlineData("{\"a\":01}")]
    [InlineData("{\"a\":\"\u0001\"}")]
    public void Malformed_json_is_refused(string text) => Assert.Throws<MalformedBodyException>(() => Json(text));

    [Fact]
    public void Huge_numbers_and_escaped_control_characters_are_kept_as_sent()
    {
        var parsed = Json("{\"n\":1e400,\"m\":" + new string('9', 10_000) + ",\"a\\u0001b\":\"\\u0000\"}");
        Assert.Equal("1e400", parsed.Root!["n"]!.ToJsonString());
        Assert.Equal(10_000, parsed.Root["m"]!.ToJsonString().Length);
        Assert.True(parsed.Root.AsObject().ContainsKey("a\u0001b"));
    }

    /// <summary>The "billion laughs": nine levels of nine aliases, 342 bytes that expand to 387 million scalars.</summary>
    private static string Laughs(int levels, int fanout)
    {
        var yaml = new StringBuilder($"a0: &a0 [{string.Join(",", Enumerable.Repeat("\"lol\"", fanout))}]\n");
        for (var i = 1; i < levels; i++)
            yaml.Append($"a{i}: &a{i} [{string.Join(",", Enumerable.Repeat($"*a{i - 1}", fanout))}]\n");
        return yaml.ToString();
    }

    [Fact]
    public void A_yaml_alias_bomb_is_refused_before_it_expands()
    {
        var bomb = Laughs(9, 9);
        Assert.True(bomb.Length < 470);
        var e = Assert.Throws<MalformedBodyException>(() => Yaml(bomb));
        Assert.Equal("yaml: document contains excessive aliasing", e.Message);
    }

    [Fact]
    public void Yaml_aliases_within_go_yamls_ratio_expand()
    {
        // 3 levels of 10: 1,000 scalars from 30 written, as go-yaml accepts it
        var parsed = Yaml(Laughs(3, 10));
        Assert.Equal(10, parsed.Root!["a2"]!.AsArray().Count);
        Assert.Equal("lol", parsed.Root["a2"]![9]![9]![9]!.ToString());
        Assert.Throws<MalformedBodyException>(() => Yaml(Laughs(4, 10)));
    }

    [Theory]
    [InlineData("flow")]
    [InlineData("block")]
    [InlineData("sequence")]
    public void Yaml_nested_past_the_limit_is_refused(string style)
    {
        var yaml = style switch
        {
            "flow" => new string('[', 10_000) + new string(']', 10_000),
            "block" => string.Concat(Enumerable.Range(0, 200).Select(i => new string(' ', i) + "a:\n")),
            _ => string.Concat(Enumerable.Repeat("- ", 10_000)),
        };
        var e = Assert.Throws<MalformedBodyException>(() => Yaml(yaml));
        Assert.Equal("yaml: exceeded max depth of 64", e.Message);
    }

    [Theory]
    [InlineData("a: &x {b: *x}\n", "yaml: anchor 'x' value contains itself")]
    [InlineData("a: *nope\n", "yaml: unknown anchor 'nope' referenced")]
    [InlineData("a: !!int foo\n", "yaml: cannot decode !!str `foo` as a !!int")]
    [InlineData("? [a, b]\n: 1\n", "yaml: invalid map key: a sequence at the top level")]
    [InlineData("a: 1\nb:\n  <<: 5\n", "yaml: map merge requires map or sequence of maps as the value at b")]
    public void Yaml_that_go_yaml_refuses_is_refused(string yaml, string message) =>
        Assert.Equal(message, Assert.Throws<MalformedBodyException>(() => Yaml(yaml)).Message);

    [Fact]
    public void Yaml_scalars_resolve_as_go_yaml_v2_resolves_them()
    {
        var parsed = Yaml("a: yes\nb: 0x1F\nc: 017\nd: 1e400\ne: ~\nf: 1_000\ng: 12345678901234567890\nh: '1'\ni: 1.5\nj: .inf\nk: \"on\"\n").Root!;
        Assert.Equal("""{"a":true,"b":31,"c":15,"d":"1e400","e":null,"f":1000,"g":12345678901234567890,"h":"1","i":1.5,"j":".inf","k":"on"}""",
            parsed.ToJsonString());
    }

    [Fact]
    public void Yaml_merge_keys_merge_and_duplicates_are_reported()
    {
        var parsed = Yaml("base: &b {a: 1, b: 2}\nchild:\n  <<: *b\n  b: 3\nx: 1\nx: 2\n");
        var child = parsed.Root!["child"]!.AsObject();
        Assert.Equal((1L, 3L, 2), (child["a"]!.GetValue<long>(), child["b"]!.GetValue<long>(), child.Count));
        Assert.Equal(2, parsed.Root["x"]!.GetValue<long>());
        Assert.Equal(["x"], parsed.DuplicateFields);
        Assert.Equal("""{"a":1,"b":2}""", parsed.Root["base"]!.ToJsonString());
    }

    [Theory]
    [InlineData("\"<<\": 1\n")]
    [InlineData("'<<': 1\n")]
    public void A_quoted_merge_key_is_an_ordinary_key(string yaml)
    {
        var (key, value) = Assert.Single(Yaml(yaml).Root!.AsObject());
        Assert.Equal(("<<", 1L), (key, value!.GetValue<long>()));
    }

    [Fact]
    public void Only_the_first_yaml_document_is_read() =>
        Assert.Equal("""{"a":1}""", Yaml("a: 1\n---\nb: 2\n").Root!.ToJsonString());

    [Fact]
    public void Warnings_are_quoted_in_ascii_deduplicated_and_bounded()
    {
        var context = new DefaultHttpContext();
        Warnings.Add(context, "unknown field \"a\u0001b\"");
        Warnings.Add(context, "unknown field \"a\u0001b\"");
        Warnings.Add(context, "unknown field \"é\"");
        Assert.Equal(["299 - \"unknown field \\\"a\\u0001b\\\"\"", "299 - \"unknown field \\\"\\u00e9\\\"\""],
            context.Response.Headers["Warning"].Select(h => h!).ToArray());

        for (var i = 0; i < 1_000; i++) Warnings.Add(context, $"unknown field \"field{i}\" " + new string('x', 300));
        var headers = context.Response.Headers["Warning"].Select(h => h!).ToArray();
        Assert.All(headers, h => Assert.True(h.Length < 300 && h.All(char.IsAscii)));
        Assert.True(headers.Length <= 4096 / 256 + 2, $"{headers.Length} headers");
    }

    [Fact]
    public async Task An_unexpected_failure_is_a_500_that_names_no_internal_type_or_message()
    {
        var context = new DefaultHttpContext { Response = { Body = new MemoryStream() } };
        await StatusResponses.GuardAsync(context, () => throw new InvalidOperationException("Npgsql connection string: secret"),
            NullLogger.Instance);
        context.Response.Body.Position = 0;
        var body = await new StreamReader(context.Response.Body).ReadToEndAsync();
        Assert.Equal(500, context.Response.StatusCode);
        Assert.Equal("InternalError", JsonNode.Parse(body)!["reason"]!.ToString());
        Assert.DoesNotContain("InvalidOperationException", body);
        Assert.DoesNotContain("secret", body);
    }

    [Fact]
    public async Task Running_out_of_stack_is_a_400_not_the_end_of_the_process()
    {
        var context = new DefaultHttpContext { Response = { Body = new MemoryStream() } };
        await StatusResponses.GuardAsync(context, () => throw new InsufficientExecutionStackException(), NullLogger.Instance);
        Assert.Equal(400, context.Response.StatusCode);
    }
}
