using k8s;
using k8s.Models;
using Orchestrator.Cli.Commands;
using Orchestrator.Cli.Objects;
using Orchestrator.Cli.Parsing;
using Xunit;

namespace Orchestrator.Cli.Tests.Objects;

public sealed class ExposeOptionsTests
{
    private static ExposeOptions From(params string[] args) =>
        ExposeOptions.From(ParsedArgs.Parse(CommandTable.Find("expose")!, ["deployment", "http", .. args]));

    private static readonly Dictionary<string, string> Selector = new() { ["run"] = "http" };

    [Fact]
    public void Expose_builds_a_service_with_the_objects_selector_and_external_ip()
    {
        var s = From("--external-ip=127.0.0.51", "--port=8000", "--target-port=80").ToService("http", Selector, Selector, [80]);
        Assert.Equal("http", s.Metadata.Name);
        Assert.Equal(Selector, s.Spec.Selector);
        Assert.Equal(["127.0.0.51"], s.Spec.ExternalIPs);
        Assert.Equal("ClusterIP", s.Spec.Type);
        var port = Assert.Single(s.Spec.Ports);
        Assert.Equal(8000, port.Port);
        Assert.Equal("80", port.TargetPort.Value);
        Assert.Equal("TCP", port.Protocol);
        Assert.Contains("\"targetPort\":80", KubernetesJson.Serialize(s));
    }

    [Fact]
    public void Without_port_the_single_container_port_is_used_for_both()
    {
        var port = From().ToService("http", Selector, null, [80]).Spec.Ports[0];
        Assert.Equal(80, port.Port);
        Assert.Equal("80", port.TargetPort.Value);
    }

    [Fact]
    public void Without_port_and_without_a_single_container_port_it_is_an_error() =>
        Assert.Throws<UsageException>(() => From().ToService("http", Selector, null, []));

    [Fact]
    public void NodePort_name_and_protocol_are_honoured()
    {
        var s = From("--type=nodeport", "--node-port=30999", "--port=80", "--name=web", "--protocol=udp").ToService("http", Selector, null, []);
        Assert.Equal("web", s.Metadata.Name);
        Assert.Equal("NodePort", s.Spec.Type);
        Assert.Equal(30999, s.Spec.Ports[0].NodePort);
        Assert.Equal("UDP", s.Spec.Ports[0].Protocol);
    }

    [Fact]
    public void A_selector_with_expressions_cannot_be_exposed() =>
        Assert.Throws<CliException>(() => ExposeOptions.SelectorOf(new V1LabelSelector
        {
            MatchExpressions = [new V1LabelSelectorRequirement { Key = "a", OperatorProperty = "In", Values = ["b"] }],
        }, "deployment x"));

    [Fact]
    public void Scale_sends_a_merge_patch_of_spec_replicas()
    {
        var patch = WorkloadCommands.ScalePatch(3);
        Assert.Equal(V1Patch.PatchType.MergePatch, patch.Type);
        Assert.Equal("{\"spec\":{\"replicas\":3}}", patch.Content);
    }
}
