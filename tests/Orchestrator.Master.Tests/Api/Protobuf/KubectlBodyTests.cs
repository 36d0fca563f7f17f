using Xunit;
using System.Text;
using k8s.Models;

namespace Orchestrator.Master.Tests.Api.Protobuf;

/// <summary>The bodies kubectl 1.32 sends for its typed create commands decode to what the command means.</summary>
public class KubectlBodyTests
{
    [Fact]
    public void Create_deployment_http_decodes_to_a_one_replica_deployment_of_the_image()
    {
        var d = Fixtures.Decode<V1Deployment>("deployment-http");

        Assert.Equal("apps/v1", d.ApiVersion);
        Assert.Equal("Deployment", d.Kind);
        Assert.Equal("http", d.Metadata.Name);
        Assert.Equal(new Dictionary<string, string> { ["app"] = "http" }, d.Metadata.Labels);
        Assert.Equal(1, d.Spec.Replicas);
        Assert.Equal(new Dictionary<string, string> { ["app"] = "http" }, d.Spec.Selector.MatchLabels);
        Assert.Null(d.Spec.Selector.MatchExpressions);
        Assert.Equal(new Dictionary<string, string> { ["app"] = "http" }, d.Spec.Template.Metadata.Labels);
        var container = Assert.Single(d.Spec.Template.Spec.Containers);
        Assert.Equal("docker-http-server", container.Name);
        Assert.Equal("katacoda/docker-http-server:latest", container.Image);
        Assert.Null(container.Ports);
    }

    [Fact]
    public void Empty_go_values_kubectl_sends_are_left_null_for_the_store_to_default()
    {
        var d = Fixtures.Decode<V1Deployment>("deployment-http");

        // kubectl sends "", 0, false and empty messages for every non-pointer Go field.
        Assert.Null(d.Metadata.NamespaceProperty);
        Assert.Null(d.Metadata.GenerateName);
        Assert.Null(d.Metadata.Uid);
        Assert.Null(d.Metadata.ResourceVersion);
        Assert.Null(d.Metadata.Generation);
        Assert.Null(d.Metadata.CreationTimestamp);
        Assert.Null(d.Metadata.Annotations);
        Assert.Null(d.Spec.MinReadySeconds);
        Assert.Null(d.Spec.RevisionHistoryLimit);
        Assert.Null(d.Spec.ProgressDeadlineSeconds);
        Assert.Null(d.Spec.Paused);
        Assert.Null(d.Spec.Strategy.Type);
        Assert.Null(d.Spec.Strategy.RollingUpdate);
        var pod = d.Spec.Template.Spec;
        Assert.Null(pod.RestartPolicy);
        Assert.Null(pod.DnsPolicy);
        Assert.Null(pod.TerminationGracePeriodSeconds);
        Assert.Null(pod.SchedulerName);
        Assert.Null(pod.HostNetwork);
        var container = Assert.Single(pod.Containers);
        Assert.Null(container.ImagePullPolicy);
        Assert.Null(container.TerminationMessagePath);
        Assert.Null(container.Resources.Limits);
        Assert.Null(container.Resources.Requests);
    }

    [Fact]
    public void Create_deployment_with_replicas_and_port_keeps_both()
    {
        var d = Fixtures.Decode<V1Deployment>("deployment-web");

        Assert.Equal("web", d.Metadata.Name);
        Assert.Equal(3, d.Spec.Replicas);
        var container = Assert.Single(d.Spec.Template.Spec.Containers);
        Assert.Equal("nginx", container.Image);
        var port = Assert.Single(container.Ports);
        Assert.Equal(80, port.ContainerPort);
        Assert.Null(port.HostPort);
        Assert.Null(port.Protocol);
        Assert.Null(port.Name);
    }

    [Fact]
    public void Create_deployment_with_a_command_keeps_it_in_order()
    {
        var d = Fixtures.Decode<V1Deployment>("deployment-sleeper-command");

        var container = Assert.Single(d.Spec.Template.Spec.Containers);
        Assert.Equal(["sleep", "3600"], container.Command);
        Assert.Null(container.Args);
    }

    [Fact]
    public void Create_service_nodeport_decodes_port_target_port_and_node_port()
    {
        var s = Fixtures.Decode<V1Service>("service-nodeport-x");

        Assert.Equal("v1", s.ApiVersion);
        Assert.Equal("Service", s.Kind);
        Assert.Equal("x", s.Metadata.Name);
        Assert.Equal("NodePort", s.Spec.Type);
        Assert.Equal(new Dictionary<string, string> { ["app"] = "x" }, s.Spec.Selector);
        Assert.Null(s.Spec.ClusterIP);
        Assert.Null(s.Spec.ExternalIPs);
        var port = Assert.Single(s.Spec.Ports);
        Assert.Equal("80-8080", port.Name);
        Assert.Equal("TCP", port.Protocol);
        Assert.Equal(80, port.Port);
        Assert.Equal("8080", port.TargetPort?.Value);
        Assert.Equal(30081, port.NodePort);
    }

    [Fact]
    public void Create_service_clusterip_leaves_node_port_unset()
    {
        var s = Fixtures.Decode<V1Service>("service-clusterip-y");

        Assert.Equal("ClusterIP", s.Spec.Type);
        var port = Assert.Single(s.Spec.Ports);
        Assert.Equal(8000, port.Port);
        Assert.Equal("80", port.TargetPort?.Value);
        Assert.Null(port.NodePort);
    }

    [Fact]
    public void Create_service_externalname_has_the_name_and_no_ports()
    {
        var s = Fixtures.Decode<V1Service>("service-externalname-ext");

        Assert.Equal("ExternalName", s.Spec.Type);
        Assert.Equal("example.com", s.Spec.ExternalName);
        Assert.Null(s.Spec.Ports);
    }

    [Fact]
    public void Create_namespace_decodes_the_name()
    {
        var ns = Fixtures.Decode<V1Namespace>("namespace-demo");

        Assert.Equal("v1", ns.ApiVersion);
        Assert.Equal("Namespace", ns.Kind);
        Assert.Equal("demo", ns.Metadata.Name);
        Assert.Null(ns.Spec.Finalizers);
    }

    [Fact]
    public void Create_configmap_from_literal_decodes_the_data()
    {
        var cm = Fixtures.Decode<V1ConfigMap>("configmap-c");

        Assert.Equal("ConfigMap", cm.Kind);
        Assert.Equal("c", cm.Metadata.Name);
        Assert.Equal(new Dictionary<string, string> { ["a"] = "b" }, cm.Data);
        Assert.Null(cm.BinaryData);
        Assert.Null(cm.Immutable);
    }

    [Fact]
    public void Create_secret_generic_from_literal_decodes_the_raw_bytes()
    {
        var secret = Fixtures.Decode<V1Secret>("secret-s");

        Assert.Equal("Secret", secret.Kind);
        Assert.Equal("s", secret.Metadata.Name);
        var (key, value) = Assert.Single(secret.Data);
        Assert.Equal("a", key);
        Assert.Equal("b", Encoding.UTF8.GetString(value));
        Assert.Null(secret.Type);
        Assert.Null(secret.StringData);
    }
}
