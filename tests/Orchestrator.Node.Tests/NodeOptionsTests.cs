namespace Orchestrator.Node.Tests;

public sealed class NodeOptionsTests
{
    [Fact]
    public void The_cluster_certificate_is_a_file_path_and_absent_unless_given()
    {
        Assert.Equal("/etc/orchestrator/cluster.pfx", NodeOptions.Parse(["--cluster-cert", "/etc/orchestrator/cluster.pfx"]).ClusterCert);
        Assert.Equal("c.pfx", NodeOptions.Parse(["--cluster-cert=c.pfx"]).ClusterCert);
        Assert.Null(NodeOptions.Parse([]).ClusterCert); // Program refuses to start then, with one line
        var help = new StringWriter();
        NodeFlags.Definition.Resolve(["--help"], new Dictionary<string, string>(), help, TextWriter.Null);
        Assert.Contains("--cluster-cert", help.ToString());
    }
}
