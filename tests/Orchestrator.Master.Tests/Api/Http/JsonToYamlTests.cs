using System.Text;
using System.Text.Json.Nodes;
using Orchestrator.Master.Api.Http;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Http;

/// <summary>
/// kube-apiserver's YAML is its JSON through sigs.k8s.io/yaml's JSONToYAML (go-yaml v2): sorted keys in go-yaml's
/// natural order, unindented sequences under keys, quotes only where a plain string would read back as something else,
/// literal blocks for line breaks. The expected texts are what go-yaml v2 writes for these documents.
/// </summary>
public sealed class JsonToYamlTests
{
    private static string Yaml(string json) => Encoding.UTF8.GetString(JsonToYaml.Convert(Encoding.UTF8.GetBytes(json))!);

    [Fact]
    public void An_object_is_written_as_kubectl_shows_it()
    {
        var json = """
            {"kind":"Namespace","apiVersion":"v1","metadata":{"name":"default","uid":"0b1c","resourceVersion":"12",
             "creationTimestamp":"2024-01-02T03:04:05Z","labels":{"kubernetes.io/metadata.name":"default"},
             "managedFields":[{"manager":"m","operation":"Update","fieldsV1":{"f:metadata":{"f:labels":{".":{}}}}}]},
             "spec":{"finalizers":["kubernetes"]},"status":{"phase":"Active","conditions":[]}}
            """;

        Assert.Equal("""
            apiVersion: v1
            kind: Namespace
            metadata:
              creationTimestamp: "2024-01-02T03:04:05Z"
              labels:
                kubernetes.io/metadata.name: default
              managedFields:
              - fieldsV1:
                  f:metadata:
                    f:labels:
                      .: {}
                manager: m
                operation: Update
              name: default
              resourceVersion: "12"
              uid: 0b1c
            spec:
              finalizers:
              - kubernetes
            status:
              conditions: []
              phase: Active

            """.ReplaceLineEndings("\n"), Yaml(json));
    }

    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("it's", "it's")]
    [InlineData("http://x:80/a#b", "http://x:80/a#b")]
    [InlineData("-x", "-x")]
    [InlineData("a,b[c]{d}", "a,b[c]{d}")]
    [InlineData("", "\"\"")]
    [InlineData("true", "\"true\"")]
    [InlineData("yes", "\"yes\"")]
    [InlineData("Off", "\"Off\"")]
    [InlineData("null", "\"null\"")]
    [InlineData("~", "\"~\"")]
    [InlineData("123", "\"123\"")]
    [InlineData("0x1F", "\"0x1F\"")]
    [InlineData("1_000", "\"1_000\"")]
    [InlineData("1.5", "\"1.5\"")]
    [InlineData(".5", "\".5\"")]
    [InlineData("1e3", "\"1e3\"")]
    [InlineData("1:20", "\"1:20\"")]
    [InlineData("2024-01-02", "\"2024-01-02\"")]
    [InlineData(".inf", "\".inf\"")]
    [InlineData("<<", "\"<<\"")]
    [InlineData("*", "'*'")]
    [InlineData("a: b", "'a: b'")]
    [InlineData("x:", "'x:'")]
    [InlineData("a #b", "'a #b'")]
    [InlineData("- x", "'- x'")]
    [InlineData("@x", "'@x'")]
    [InlineData(" lead", "' lead'")]
    [InlineData("trail ", "'trail '")]
    [InlineData("'q'", "'''q'''")]
    [InlineData("---", "'---'")]
    [InlineData("tab\there", "\"tab\\there\"")]
    [InlineData("cr\r", "\"cr\\r\"")]
    [InlineData("q\"\\", "q\"\\")]
    [InlineData("\"q", "'\"q'")]
    [InlineData("é ü", "é ü")]
    [InlineData("\U0001F600", "\"\\U0001F600\"")]
    [InlineData("bom\uFEFF", "\"bom\\uFEFF\"")]
    [InlineData("\u0001", "\"\\x01\"")]
    public void Strings_are_plain_unless_they_would_read_back_otherwise(string value, string expected)
    {
        Assert.Equal($"v: {expected}\n", Yaml(new JsonObject { ["v"] = value }.ToJsonString()));
    }

    [Theory]
    [InlineData("a\nb", "v: |-\n  a\n  b\n")]
    [InlineData("a\nb\n", "v: |\n  a\n  b\n")]
    [InlineData("a\n\nb\n\n", "v: |+\n  a\n\n  b\n\n")]
    [InlineData("\n", "v: |2+\n\n")]
    [InlineData(" a\nb", "v: |2-\n   a\n  b\n")]
    [InlineData("a \nb", "v: \"a \\nb\"\n")]
    [InlineData("a\tb\nc", "v: \"a\\tb\\nc\"\n")]
    public void Line_breaks_make_literal_blocks_where_libyaml_allows_them(string value, string expected)
    {
        Assert.Equal(expected, Yaml(new JsonObject { ["v"] = value }.ToJsonString()));
    }

    [Fact]
    public void Literal_blocks_are_indented_below_their_key_or_dash()
    {
        Assert.Equal("a:\n  b: |\n    x\n  c:\n  - |-\n    y\n    z\n", Yaml("""{"a":{"b":"x\n","c":["y\nz"]}}"""));
    }

    [Theory]
    [InlineData("1", "1")]
    [InlineData("-7", "-7")]
    [InlineData("-0", "0")]
    [InlineData("1.0", "1")]
    [InlineData("0.5", "0.5")]
    [InlineData("100000.0", "100000")]
    [InlineData("1000000.0", "1e+06")]
    [InlineData("1.5e-7", "1.5e-07")]
    [InlineData("0.0001", "0.0001")]
    [InlineData("0.00001", "1e-05")]
    [InlineData("123.456", "123.456")]
    [InlineData("18446744073709551615", "18446744073709551615")]
    [InlineData("123456789012345678901234", "123456789012345678901234")]
    [InlineData("1e400", "\"1e400\"")]
    public void Numbers_are_written_as_go_yaml_writes_ints_and_floats(string json, string expected)
    {
        Assert.Equal($"num: {expected}\n", Yaml($$"""{"num":{{json}}}"""));
    }

    [Fact]
    public void Keys_are_sorted_in_go_yamls_natural_order()
    {
        var yaml = Yaml("""{"b":1,"a10":2,"a9":3,"A":4,"_x":5,"1":6,"a09":7,"":8}""");

        Assert.Equal("\"\": 8\n_x: 5\n\"1\": 6\nA: 4\na9: 3\na09: 7\na10: 2\nb: 1\n", yaml);
    }

    [Fact]
    public void Nested_sequences_and_empty_collections_keep_their_places()
    {
        Assert.Equal("- - 1\n  - 2\n- {}\n- []\n- a: null\n  b: true\n", Yaml("""[[1,2],{},[],{"b":true,"a":null}]"""));
        Assert.Equal("{}\n", Yaml("{}"));
    }

    [Fact]
    public void A_key_longer_than_128_bytes_is_an_explicit_key()
    {
        var longKey = new string('k', 129);
        Assert.Equal($"? {longKey}\n: 1\n", Yaml($$"""{"{{longKey}}":1}"""));
        Assert.Equal($"{longKey[..128]}: 1\n", Yaml($$"""{"{{longKey[..128]}}":1}"""));
    }

    [Fact]
    public void Every_answer_reads_back_as_the_same_json()
    {
        var strings = new[]
        {
            "plain", "", "true", "No", "0o17", "0b101", "-0b1", "+1", "1.", "08", "1e3", "1:20", "2024-01-02T03:04:05Z", "*", "&a", "!t",
            "|", ">", "%", "@", "`", "? x", ": x", "a: b", "a #b", " x", "x ", "'", "\"", "\\", "a\nb", "a\nb\n", "\n", "\n\n", " a\n",
            "a \nb", "\ta", "\r\n", "\u0085", "\u2028", "\uFEFF", "é", "\U0001F600", "---", "...", "- ", "-", "~", "null", ".nan", "<<",
            "{a}", "[a]", "#", "a:", "http://x", new string('w', 300), "x\n  indented\n\ttab\n",
        };
        var obj = new JsonObject();
        var list = new JsonArray();
        for (var i = 0; i < strings.Length; i++)
        {
            obj[$"k{i}"] = strings[i];
            obj[strings[i].Length == 0 ? "empty" : strings[i]] = i;
            list.Add(new JsonObject { ["s"] = strings[i], ["n"] = new JsonArray(i, i + 0.5, new JsonObject()) });
        }
        obj["list"] = list;
        var json = obj.ToJsonString();

        var back = YamlBody.Parse(JsonToYaml.Convert(Encoding.UTF8.GetBytes(json))!);

        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(json), back.Root), back.Root?.ToJsonString());
    }

    [Fact]
    public void Something_that_is_not_json_is_not_converted()
    {
        Assert.Null(JsonToYaml.Convert("not json"u8));
    }
}
