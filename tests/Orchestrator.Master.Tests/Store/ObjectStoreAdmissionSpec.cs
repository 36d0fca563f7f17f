using k8s.Models;
using Orchestrator.Master.Store;
using Xunit;

namespace Orchestrator.Master.Tests.Store;

/// <summary>Admission as the store applies it: a refused write persists nothing.</summary>
public class ObjectStoreAdmissionSpec : StoreSpecBase
{
    [Fact]
    public void An_invalid_name_is_refused_and_nothing_is_stored()
    {
        var before = CurrentResourceVersion();
        var error = Failed(new CreateObject("deployments", Objects.Deployment("Bad_Name")));
        Assert.Equal(422, error.Code);
        Assert.StartsWith("Deployment.apps \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\"", error.Message);
        Assert.Equal(before, CurrentResourceVersion());
    }

    [Fact]
    public void A_create_without_name_or_generate_name_is_invalid()
    {
        var cm = Objects.ConfigMap("x");
        cm.Metadata.Name = null;
        var error = Failed(new CreateObject("configmaps", cm));
        Assert.Equal("ConfigMap \"\" is invalid: metadata.name: Required value: name or generateName is required", error.Message);
    }

    [Fact]
    public void Services_get_cluster_ips_after_the_kubernetes_service_and_node_ports_are_exclusive()
    {
        var first = (V1Service)Stored(new CreateObject("services", Objects.Service("webapp1-svc", type: "NodePort", nodePort: 30080)));
        Assert.Equal("172.28.128.2", first.Spec.ClusterIP);
        Assert.Equal(30080, first.Spec.Ports[0].NodePort);

        var error = Failed(new CreateObject("services", Objects.Service("other", type: "NodePort", nodePort: 30080)));
        Assert.Equal("Service \"other\" is invalid: spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated",
            error.Message);
    }

    [Fact]
    public void A_service_update_without_allocations_keeps_them()
    {
        var created = (V1Service)Stored(new CreateObject("services", Objects.Service("web", type: "NodePort")));
        var update = Objects.Service("web", type: "NodePort");
        update.Spec.Selector["tier"] = "front";
        var updated = (V1Service)Stored(new UpdateObject("services", update));
        Assert.Equal(created.Spec.ClusterIP, updated.Spec.ClusterIP);
        Assert.Equal(created.Spec.Ports[0].NodePort, updated.Spec.Ports[0].NodePort);
    }

    [Fact]
    public void Deleting_a_service_frees_its_node_port()
    {
        Stored(new CreateObject("services", Objects.Service("a", type: "NodePort", nodePort: 30080)));
        Stored(new DeleteObject(new ResourceKey("services", "default", "a")));
        Stored(new CreateObject("services", Objects.Service("b", type: "NodePort", nodePort: 30080)));
    }

    [Fact]
    public void An_object_of_the_wrong_type_is_a_bad_request()
    {
        var error = Failed(new CreateObject("deployments", Objects.Pod("p")));
        Assert.Equal(400, error.Code);
    }
}
