using Orchestrator.Cli.Objects;
using Orchestrator.Cli.Parsing;
using Xunit;

namespace Orchestrator.Cli.Tests.Objects;

public sealed class ManifestsTests
{
    [Fact]
    public void Multi_document_yaml_is_split_into_objects_with_typed_scalars()
    {
        var yaml = """
            # comment before the first document
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: web
              labels: {version: "1"}
            spec:
              replicas: 2
              paused: false
            ---
            ---
            apiVersion: v1
            kind: Service
            metadata:
              name: web
              namespace: other
            spec:
              ports:
              - port: 80
                targetPort: http
            """;
        var objects = Manifests.Parse(yaml, "test.yaml");
        Assert.Equal(2, objects.Count);
        Assert.Equal(("Deployment", "web", (string?)null), (objects[0].Kind, objects[0].Name, objects[0].Namespace));
        Assert.Equal(2, objects[0].Body["spec"]!["replicas"]!.GetValue<long>());
        Assert.False(objects[0].Body["spec"]!["paused"]!.GetValue<bool>());
        Assert.Equal("1", objects[0].Body["metadata"]!["labels"]!["version"]!.GetValue<string>());
        Assert.Equal("other", objects[1].Namespace);
        Assert.Equal("http", objects[1].Body["spec"]!["ports"]![0]!["targetPort"]!.GetValue<string>());
    }

    [Fact]
    public void Json_objects_arrays_and_lists_are_flattened()
    {
        var json = """
            {"apiVersion":"v1","kind":"List","items":[
              {"apiVersion":"v1","kind":"Service","metadata":{"name":"a"}},
              {"apiVersion":"v1","kind":"Pod","metadata":{"name":"b"}}]}
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"c"}}
            """;
        Assert.Equal(["a", "b", "c"], Manifests.Parse(json, "x.json").Select(m => m.Name));
    }

    [Fact]
    public void An_object_without_kind_is_an_error() =>
        Assert.Throws<CliException>(() => Manifests.Parse("metadata:\n  name: x\n", "bad.yaml"));

    [Fact]
    public void A_directory_contributes_its_manifest_files_in_name_order()
    {
        var dir = Directory.CreateTempSubdirectory().FullName;
        File.WriteAllText(Path.Combine(dir, "b.yaml"), "apiVersion: v1\nkind: Pod\nmetadata:\n  name: second\n");
        File.WriteAllText(Path.Combine(dir, "a.json"), "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"first\"}}");
        File.WriteAllText(Path.Combine(dir, "notes.txt"), "not a manifest");
        Assert.Equal(["first", "second"], Manifests.Read([dir], TextReader.Null).Select(m => m.Name));
    }

    [Fact]
    public void Dash_reads_stdin() =>
        Assert.Equal("p", Manifests.Read(["-"], new StringReader("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n")).Single().Name);

    [Fact]
    public void The_repositorys_examples_parse()
    {
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Orchestrator.sln"))) root = Path.GetDirectoryName(root)!;
        var objects = Manifests.Read([Path.Combine(root, "deploy", "examples")], TextReader.Null);
        Assert.Contains(objects, m => m is { Kind: "Service", Name: "webapp1-svc" } && m.Body["spec"]!["ports"]![0]!["nodePort"]!.GetValue<long>() == 30080);
        Assert.Contains(objects, m => m is { Kind: "Deployment", Name: "webapp1" });
    }
}
