using k8s.Models;
using Orchestrator.Master.Api.Responses;
using Orchestrator.Master.Registry.Tables;
using Orchestrator.Master.Tests.Registry;
using Orchestrator.Shared.Api;
using Xunit;

namespace Orchestrator.Master.Tests.Api;

public class TablePrinterTests
{
    private static readonly DateTime Now = new(2025, 1, 1, 12, 0, 0, DateTimeKind.Utc);

    private static V1ObjectMeta Meta(string name, int ageSeconds = 30) =>
        new() { Name = name, NamespaceProperty = "default", CreationTimestamp = Now.AddSeconds(-ageSeconds) };

    private static IReadOnlyList<object> Row(object obj, Orchestrator.Master.Registry.Catalog.ResourceDescription resource) =>
        resource.Printer.Cells((k8s.IKubernetesObject<V1ObjectMeta>)obj, Now);

    [Fact]
    public void Service_ports_show_node_ports_and_external_ips()
    {
        var svc = new V1Service
        {
            Metadata = Meta("webapp1-svc"),
            Spec = new V1ServiceSpec
            {
                Type = "NodePort", ClusterIP = "10.96.0.2", ExternalIPs = ["127.0.0.50"],
                Ports = [new V1ServicePort { Port = 80, NodePort = 30080, Protocol = "TCP" }, new V1ServicePort { Port = 443 }],
                Selector = new Dictionary<string, string> { ["app"] = "webapp1" },
            },
        };
        Assert.Equal(["webapp1-svc", "NodePort", "10.96.0.2", "127.0.0.50", "80:30080/TCP,443/TCP", "30s", "app=webapp1"],
            Row(svc, BuiltIn.Services));
    }

    [Fact]
    public void Service_without_external_ips_prints_none()
    {
        var svc = new V1Service { Metadata = Meta("s"), Spec = new V1ServiceSpec { Type = "ClusterIP", ClusterIP = "10.96.0.9" } };
        Assert.Equal("<none>", Row(svc, BuiltIn.Services)[3]);
    }

    [Fact]
    public void Deployment_shows_ready_over_desired_and_wide_columns()
    {
        var d = new V1Deployment
        {
            Metadata = Meta("webapp1", 190),
            Spec = new V1DeploymentSpec
            {
                Replicas = 3,
                Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "webapp1" } },
                Template = new V1PodTemplateSpec
                {
                    Spec = new V1PodSpec { Containers = [new V1Container { Name = "web", Image = "katacoda/docker-http-server:latest" }] },
                },
            },
            Status = new V1DeploymentStatus { ReadyReplicas = 1, UpdatedReplicas = 3, AvailableReplicas = 1 },
        };
        Assert.Equal(["webapp1", "1/3", 3L, 1L, "3m10s", "web", "katacoda/docker-http-server:latest", "app=webapp1"],
            Row(d, BuiltIn.Deployments));
    }

    [Fact]
    public void Columns_beyond_the_default_view_have_priority_one()
    {
        var columns = BuiltIn.Pods.Printer.Columns;
        Assert.Equal(["Name", "Ready", "Status", "Restarts", "Age"], columns.Where(c => c.Priority == 0).Select(c => c.Name));
        Assert.Equal(["IP", "Node", "Nominated Node", "Readiness Gates"], columns.Where(c => c.Priority == 1).Select(c => c.Name));
    }

    [Fact]
    public void Pod_waiting_reason_becomes_the_status()
    {
        var pod = new V1Pod
        {
            Metadata = Meta("p"),
            Spec = new V1PodSpec { Containers = [new V1Container { Name = "c" }], NodeName = "node1" },
            Status = new V1PodStatus
            {
                Phase = "Pending",
                ContainerStatuses = [new V1ContainerStatus { Name = "c", State = new V1ContainerState { Waiting = new V1ContainerStateWaiting { Reason = "ErrImagePull" } } }],
            },
        };
        var cells = Row(pod, BuiltIn.Pods);
        Assert.Equal("0/1", cells[1]);
        Assert.Equal("ErrImagePull", cells[2]);
        Assert.Equal("node1", cells[6]);
    }

    [Fact]
    public void Running_ready_pod_counts_ready_containers_and_restarts()
    {
        var pod = new V1Pod
        {
            Metadata = Meta("p"),
            Spec = new V1PodSpec { Containers = [new V1Container { Name = "a" }, new V1Container { Name = "b" }] },
            Status = new V1PodStatus
            {
                Phase = "Running", PodIP = "172.18.0.2",
                ContainerStatuses =
                [
                    new V1ContainerStatus { Name = "a", Ready = true, RestartCount = 2, State = new V1ContainerState { Running = new V1ContainerStateRunning() },
                        LastState = new V1ContainerState { Terminated = new V1ContainerStateTerminated { FinishedAt = Now.AddMinutes(-5), ExitCode = 1 } } },
                    new V1ContainerStatus { Name = "b", Ready = true, State = new V1ContainerState { Running = new V1ContainerStateRunning() } },
                ],
            },
        };
        var cells = Row(pod, BuiltIn.Pods);
        Assert.Equal(["p", "2/2", "Running", "2 (5m ago)"], cells.Take(4));
        Assert.Equal("172.18.0.2", cells[5]);
    }

    [Fact]
    public void Deleted_pod_is_terminating()
    {
        var pod = new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = "p", DeletionTimestamp = Now },
            Spec = new V1PodSpec { Containers = [new V1Container { Name = "c" }] },
            Status = new V1PodStatus { Phase = "Running" },
        };
        Assert.Equal("Terminating", Row(pod, BuiltIn.Pods)[2]);
    }

    [Fact]
    public void Endpoints_list_three_addresses_then_a_count()
    {
        var ep = new V1Endpoints
        {
            Metadata = Meta("svc"),
            Subsets =
            [
                new V1EndpointSubset
                {
                    Addresses = new[] { "172.18.0.2", "172.18.0.3", "172.18.0.4", "172.18.0.5" }.Select(ip => new V1EndpointAddress { Ip = ip }).ToList(),
                    Ports = [new Corev1EndpointPort { Port = 80 }],
                },
            ],
        };
        Assert.Equal("172.18.0.2:80,172.18.0.3:80,172.18.0.4:80 + 1 more...", Row(ep, BuiltIn.Endpoints)[1]);
        Assert.Equal("<none>", Row(new V1Endpoints { Metadata = Meta("e") }, BuiltIn.Endpoints)[1]);
    }

    [Fact]
    public void Node_status_and_roles()
    {
        var node = new V1Node
        {
            Metadata = new V1ObjectMeta { Name = "n", Labels = new Dictionary<string, string> { ["node-role.kubernetes.io/control-plane"] = "" } },
            Spec = new V1NodeSpec { Unschedulable = true },
            Status = new V1NodeStatus
            {
                Conditions = [new V1NodeCondition { Type = "Ready", Status = "True" }],
                NodeInfo = new V1NodeSystemInfo { KubeletVersion = "v1.32.0" },
                Addresses = [new V1NodeAddress { Type = "InternalIP", Address = "127.0.0.1" }],
            },
        };
        var cells = Row(node, BuiltIn.Nodes);
        Assert.Equal(["n", "Ready,SchedulingDisabled", "control-plane"], cells.Take(3));
        Assert.Equal("127.0.0.1", cells[5]);
        Assert.Equal("<none>", cells[6]);
    }

    [Fact]
    public void Event_object_column_is_kind_slash_name()
    {
        var e = new Corev1Event
        {
            Metadata = Meta("e"),
            InvolvedObject = new V1ObjectReference { Kind = "Deployment", Name = "webapp1" },
            Type = "Normal", Reason = "ScalingReplicaSet", Message = "Scaled up ",
            LastTimestamp = Now.AddSeconds(-5), FirstTimestamp = Now.AddMinutes(-3), Count = 2,
        };
        Assert.Equal(["5s", "Normal", "ScalingReplicaSet", "deployment/webapp1", "", "", "Scaled up", "3m", 2L, "e"],
            Row(e, BuiltIn.Events));
    }

    [Fact]
    public void Rows_carry_partial_object_metadata_by_default()
    {
        var table = TableConverter.ToTable(BuiltIn.Namespaces, [new V1Namespace { Metadata = Meta("default") }],
            new V1ListMeta { ResourceVersion = "7" }, IncludeObject.Metadata, Now);
        var row = Assert.Single(table.Rows);
        Assert.Equal("PartialObjectMetadata", row.Object!["kind"]!.ToString());
        Assert.Equal("default", row.Object["metadata"]!["name"]!.ToString());
        Assert.Equal("Active", row.Cells[1]);
    }
}
