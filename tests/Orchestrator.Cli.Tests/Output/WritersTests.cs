using System.Text.Json;
using Orchestrator.Cli.Output;
using Xunit;

namespace Orchestrator.Cli.Tests.Output;

public sealed class WritersTests
{
    private const string Table = """
        {"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":{"resourceVersion":"7"},
         "columnDefinitions":[{"name":"Name","priority":0},{"name":"Ready","priority":0},{"name":"IP","priority":1}],
         "rows":[{"cells":["http-abc","1/1","10.0.0.5"],"object":{"metadata":{"name":"http-abc","namespace":"default"}}},
                 {"cells":["webapp1-xyz12","0/1",null],"object":{"metadata":{"name":"webapp1-xyz12","namespace":"default"}}}]}
        """;

    [Fact]
    public void Tables_print_like_kubectl_with_wide_columns_only_when_asked()
    {
        using var doc = JsonDocument.Parse(Table);
        var lines = new TableWriter(wide: false, withNamespace: false).Format(doc.RootElement, header: true);
        Assert.Equal(["NAME            READY", "http-abc        1/1", "webapp1-xyz12   0/1"], lines);
        var wide = new TableWriter(wide: true, withNamespace: true).Format(doc.RootElement, header: true);
        Assert.Equal("NAMESPACE   NAME            READY   IP", wide[0]);
        Assert.Equal("default     webapp1-xyz12   0/1     <none>", wide[2]);
    }

    [Fact]
    public void Yaml_is_block_style_with_ambiguous_strings_quoted()
    {
        using var doc = JsonDocument.Parse("""{"kind":"Pod","metadata":{"name":"p","labels":{"v":"1"}},"spec":{"containers":[{"name":"c","ports":[{"containerPort":80}]}],"x":[],"z":{}}}""");
        Assert.Equal("""
            kind: Pod
            metadata:
              name: p
              labels:
                v: "1"
            spec:
              containers:
              - name: c
                ports:
                - containerPort: 80
              x: []
              z: {}

            """.Replace("\r\n", "\n"), YamlWriter.Write(doc.RootElement));
    }
}
