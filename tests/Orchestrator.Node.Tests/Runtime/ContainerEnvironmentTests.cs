using k8s.Models;
using Orchestrator.Node.Runtime;
using Orchestrator.Node.Tests.Agent;

namespace Orchestrator.Node.Tests.Runtime;

public sealed class ContainerEnvironmentTests
{
    [Fact]
    public void Resolves_plain_values_downward_api_fields_and_earlier_variables()
    {
        var pod = TestPods.Pod("web-1");
        pod.Metadata.Labels = new Dictionary<string, string> { ["app"] = "web" };
        var container = pod.Spec.Containers[0];
        container.Env =
        [
            new V1EnvVar { Name = "NAME", ValueFrom = new V1EnvVarSource { FieldRef = new V1ObjectFieldSelector { FieldPath = "metadata.name" } } },
            new V1EnvVar { Name = "NODE", ValueFrom = new V1EnvVarSource { FieldRef = new V1ObjectFieldSelector { FieldPath = "spec.nodeName" } } },
            new V1EnvVar { Name = "APP", ValueFrom = new V1EnvVarSource { FieldRef = new V1ObjectFieldSelector { FieldPath = "metadata.labels['app']" } } },
            new V1EnvVar { Name = "URL", Value = "http://$(NAME):80/$(MISSING)$$(NAME)" },
        ];

        var env = ContainerEnvironment.Resolve(pod, container, "node-a", "127.0.0.1");

        Assert.Equal(["NAME=web-1", "NODE=node-a", "APP=web", "URL=http://web-1:80/$(MISSING)$(NAME)"], env);
    }
}

public sealed class NodeOptionsTests
{
    [Fact]
    public void Defaults_match_the_single_machine_set_up()
    {
        var o = NodeOptions.Parse([]);
        Assert.Equal(("127.0.0.1", "127.0.0.1:4050", 0, "unix:///var/run/docker.sock", "orchestrator", 10248),
            (o.Address.ToString(), o.Master, o.ClusterPort, o.Docker, o.Network, o.HealthzPort));
        Assert.Equal(Environment.MachineName.ToLowerInvariant(), o.Name);
    }

    [Fact]
    public void Accepts_both_option_forms_and_rejects_unknown_ones()
    {
        var o = NodeOptions.Parse(["--name", "n1", "--address=127.0.0.2", "--cluster-port", "4061"]);
        Assert.Equal(("n1", "127.0.0.2", 4061), (o.Name, o.Address.ToString(), o.ClusterPort));
        Assert.Throws<ArgumentException>(() => NodeOptions.Parse(["--nmae", "x"]));
        Assert.Throws<ArgumentException>(() => NodeOptions.Parse(["--address", "localhost"]));
    }
}
