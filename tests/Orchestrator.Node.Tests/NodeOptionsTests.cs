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

    [Fact]
    public void The_bridge_is_orch0_unless_given_and_names_the_pod_networks_bridge()
    {
        Assert.Equal("orch0", NodeOptions.Parse([]).PodNetwork.Bridge);
        Assert.Equal("eleven-char", NodeOptions.Parse(["--bridge", "eleven-char"]).Bridge); // eleven-char:svc is 15
        // a second cluster on the machine (the lab) has its own network, bridge and subnet
        var lab = NodeOptions.Parse(["--network", "orchestrator-lab", "--bridge", "orchlab0", "--pod-network", "172.29.0.0/16",
            "--pod-cidr", "172.29.1.0/24"]);
        Assert.Equal(("orchestrator-lab", "orchlab0", "172.29.0.0/16", "172.29.1.0/24"),
            (lab.Network, lab.PodNetwork.Bridge, lab.PodNetwork.Subnet, lab.PodNetwork.IpRange));
        Assert.Equal("172.29.128.0/17", lab.PodNetwork.ServiceRange);
        foreach (var bad in new[] { "orch:0", "twelve-chars", "or ch", "." })
            Assert.Contains("--bridge", Assert.Throws<ArgumentException>(() => NodeOptions.Parse(["--bridge", bad])).Message);
        var errors = new StringWriter();
        Assert.Equal(2, NodeFlags.Definition.Resolve(["--bridge", "orch:0"], new Dictionary<string, string>(), TextWriter.Null, errors).Exit);
        Assert.Contains("--bridge", errors.ToString());
    }
}
