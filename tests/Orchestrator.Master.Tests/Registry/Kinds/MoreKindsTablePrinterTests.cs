using k8s;
using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Kinds.Core;
using Orchestrator.Master.Registry.Kinds.Networking;
using Orchestrator.Master.Registry.Kinds.Storage;
using Xunit;

namespace Orchestrator.Master.Tests.Registry.Kinds;

public class MoreKindsTablePrinterTests
{
    private static readonly DateTime Now = new(2025, 1, 1, 12, 0, 0, DateTimeKind.Utc);

    private static V1ObjectMeta Meta(string name, string? ns = "default") =>
        new() { Name = name, NamespaceProperty = ns, CreationTimestamp = Now.AddSeconds(-30) };

    private static IReadOnlyList<object> Row(ResourceDescription resource, IKubernetesObject<V1ObjectMeta> obj) =>
        resource.Printer.Cells(obj, Now);

    [Fact]
    public void A_storage_class_row_marks_the_default_and_prints_defaults()
    {
        var sc = new V1StorageClass
        {
            Metadata = Meta("standard", null), Provisioner = "rancher.io/local-path",
        };
        sc.Metadata.Annotations = new Dictionary<string, string> { [StorageClassStrategy.DefaultAnnotation] = "true" };
        Assert.Equal(["standard (default)", "rancher.io/local-path", "Delete", "Immediate", false, "30s"], Row(StorageResources.StorageClasses, sc));
    }

    [Fact]
    public void A_volume_row_shows_capacity_modes_claim_and_class()
    {
        var pv = new V1PersistentVolume
        {
            Metadata = Meta("task-pv-volume", null),
            Spec = new V1PersistentVolumeSpec
            {
                Capacity = new Dictionary<string, ResourceQuantity> { ["storage"] = new("10Gi") }, AccessModes = ["ReadWriteMany", "ReadWriteOnce"],
                PersistentVolumeReclaimPolicy = "Retain", StorageClassName = "manual", VolumeMode = "Filesystem",
                ClaimRef = new V1ObjectReference { NamespaceProperty = "default", Name = "task-pv-claim" },
            },
            Status = new V1PersistentVolumeStatus { Phase = "Bound" },
        };
        Assert.Equal(["task-pv-volume", "10Gi", "RWO,RWX", "Retain", "Bound", "default/task-pv-claim", "manual", "<unset>", "", "30s", "Filesystem"],
            Row(PersistentVolumeResources.PersistentVolumes, pv));
    }

    [Fact]
    public void A_pending_claim_row_has_no_capacity_or_modes()
    {
        var pvc = new V1PersistentVolumeClaim
        {
            Metadata = Meta("task-pv-claim"),
            Spec = new V1PersistentVolumeClaimSpec { AccessModes = ["ReadWriteOnce"], StorageClassName = "manual", VolumeMode = "Filesystem" },
            Status = new V1PersistentVolumeClaimStatus { Phase = "Pending" },
        };
        Assert.Equal(["task-pv-claim", "Pending", "", "", "", "manual", "<unset>", "30s", "Filesystem"],
            Row(PersistentVolumeResources.PersistentVolumeClaims, pvc));
    }

    [Fact]
    public void An_ingress_row_lists_hosts_and_tls_ports()
    {
        var ingress = new V1Ingress
        {
            Metadata = Meta("name-virtual-host-ingress"),
            Spec = new V1IngressSpec
            {
                Rules = [new V1IngressRule { Host = "foo.bar.com" }, new V1IngressRule { Host = "bar.foo.com" }],
                Tls = [new V1IngressTLS { Hosts = ["foo.bar.com"], SecretName = "s" }],
            },
        };
        Assert.Equal(["name-virtual-host-ingress", "<none>", "foo.bar.com,bar.foo.com", "", "80, 443", "30s"], Row(NetworkingResources.Ingresses, ingress));

        var catchAll = new V1Ingress { Metadata = Meta("any"), Spec = new V1IngressSpec { IngressClassName = "nginx", Rules = [new V1IngressRule()] } };
        Assert.Equal(["any", "nginx", "*", "", "80", "30s"], Row(NetworkingResources.Ingresses, catchAll));
    }

    [Fact]
    public void A_network_policy_row_prints_its_pod_selector()
    {
        var policy = new V1NetworkPolicy
        {
            Metadata = Meta("test-network-policy"),
            Spec = new V1NetworkPolicySpec { PodSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["role"] = "db" } } },
        };
        Assert.Equal(["test-network-policy", "role=db", "30s"], Row(NetworkingResources.NetworkPolicies, policy));
        var all = new V1NetworkPolicy { Metadata = Meta("default-deny"), Spec = new V1NetworkPolicySpec { PodSelector = new V1LabelSelector() } };
        Assert.Equal("<none>", Row(NetworkingResources.NetworkPolicies, all)[1]);
    }
}
