using System.Xml.Linq;
using k8s.Models;
using Orchestrator.Master.Api.Discovery;
using Xunit;

namespace Orchestrator.Master.Tests.Api;

/// <summary>The schemas' descriptions come from KubernetesClient.xml, read as a stream: the same summaries, with the
/// same text, as a whole-document read of the file gives.</summary>
public sealed class OpenApiDocsTests
{
    [Fact]
    public void The_streamed_summaries_are_the_documents_types_and_properties_summaries()
    {
        var path = Path.ChangeExtension(typeof(V1Pod).Assembly.Location, ".xml");
        Assert.True(File.Exists(path), $"{path} is deployed beside the client");
        var expected = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var member in XDocument.Load(path).Descendants("member"))
        {
            var name = member.Attribute("name")?.Value;
            var summary = member.Element("summary")?.Value;
            if (name is null || !(name.StartsWith("T:") || name.StartsWith("P:")) || string.IsNullOrWhiteSpace(summary)) continue;
            expected[name] = string.Join(" ", summary.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0));
        }

        var streamed = OpenApiSchemas.LoadDocs(path);

        Assert.True(expected.Count > 1000);
        Assert.Equal(expected.Count, streamed.Count);
        foreach (var (name, text) in expected) Assert.Equal(text, streamed[name]);
        Assert.StartsWith("Pod is a collection of containers", streamed["T:k8s.Models.V1Pod"]);
    }
}
