using k8s;
using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Kinds.AdmissionRegistration;
using Orchestrator.Master.Registry.Kinds.ApiRegistration;
using Orchestrator.Master.Registry.Kinds.Coordination;
using Orchestrator.Master.Registry.Kinds.Core;
using Orchestrator.Master.Registry.Kinds.Discovery;
using Orchestrator.Master.Registry.Kinds.Networking;
using Orchestrator.Master.Registry.Kinds.Node;
using Orchestrator.Master.Registry.Kinds.Storage;
using Orchestrator.Master.Store;
using Xunit;

namespace Orchestrator.Master.Tests.Registry.Kinds;

/// <summary>The store's view for these tests: whatever objects each test puts under a store name.</summary>
internal sealed class ObjectsContext(params (string StoreName, IKubernetesObject<V1ObjectMeta> Object)[] objects) : IAdmissionContext
{
    public IReadOnlyList<IKubernetesObject<V1ObjectMeta>> List(string storeName, string? @namespace = null) =>
        objects.Where(o => o.StoreName == storeName && (@namespace is null || o.Object.Metadata.NamespaceProperty == @namespace))
            .Select(o => o.Object).ToList();
}

public class StorageKindsStrategyTests
{
    private static List<StoreErrorCause> Admit(ResourceDescription resource, IKubernetesObject<V1ObjectMeta> obj,
        IKubernetesObject<V1ObjectMeta>? old = null, IAdmissionContext? context = null) => Strategies.Admit(resource, obj, old, context);

    private static V1ObjectMeta Meta(string name, string? ns = null) => new() { Name = name, NamespaceProperty = ns };

    private static V1StorageClass Standard(bool isDefault = false) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = "standard", CreationTimestamp = DateTime.UtcNow,
            Annotations = isDefault ? new Dictionary<string, string> { [StorageClassStrategy.DefaultAnnotation] = "true" } : null,
        },
        Provisioner = "kubernetes.io/no-provisioner",
    };

    [Fact]
    public void A_storage_class_gets_delete_and_immediate_by_default()
    {
        var sc = Standard();
        Assert.Empty(Admit(StorageResources.StorageClasses, sc));
        Assert.Equal("Delete", sc.ReclaimPolicy);
        Assert.Equal("Immediate", sc.VolumeBindingMode);
    }

    [Fact]
    public void A_storage_class_needs_a_provisioner_and_known_policies()
    {
        var sc = new V1StorageClass { Metadata = Meta("x"), ReclaimPolicy = "Recycle", VolumeBindingMode = "Later" };
        var causes = Admit(StorageResources.StorageClasses, sc);
        Assert.Equal(["provisioner", "reclaimPolicy", "volumeBindingMode"], causes.Select(c => c.Field));
        Assert.Equal("Unsupported value: \"Recycle\": supported values: \"Delete\", \"Retain\"", causes[1].Message);
    }

    [Fact]
    public void Parameters_and_provisioner_of_a_storage_class_may_not_change()
    {
        var old = Standard();
        Admit(StorageResources.StorageClasses, old);
        var updated = Standard();
        updated.Provisioner = "example.com/other";
        updated.Parameters = new Dictionary<string, string> { ["type"] = "ssd" };
        var causes = Admit(StorageResources.StorageClasses, updated, old);
        Assert.Equal(["parameters", "provisioner"], causes.Select(c => c.Field));
        Assert.Equal("Forbidden: updates to provisioner are forbidden.", causes[1].Message);
    }

    private static V1PersistentVolume HostPathVolume() => new()
    {
        Metadata = Meta("task-pv-volume"),
        Spec = new V1PersistentVolumeSpec
        {
            StorageClassName = "manual", Capacity = new Dictionary<string, ResourceQuantity> { ["storage"] = new("10Gi") },
            AccessModes = ["ReadWriteOnce"], HostPath = new V1HostPathVolumeSource { Path = "/mnt/data" },
        },
    };

    [Fact]
    public void A_volume_is_pending_with_retain_and_filesystem_defaults()
    {
        var pv = HostPathVolume();
        Assert.Empty(Admit(PersistentVolumeResources.PersistentVolumes, pv));
        Assert.Equal("Pending", pv.Status.Phase);
        Assert.Equal("Retain", pv.Spec.PersistentVolumeReclaimPolicy);
        Assert.Equal("Filesystem", pv.Spec.VolumeMode);
    }

    [Fact]
    public void A_volume_needs_capacity_access_modes_and_one_source()
    {
        var pv = new V1PersistentVolume { Metadata = Meta("v"), Spec = new V1PersistentVolumeSpec() };
        var causes = Admit(PersistentVolumeResources.PersistentVolumes, pv);
        Assert.Equal(["spec.accessModes", "spec.capacity", "spec.capacity", "spec"], causes.Select(c => c.Field));
        Assert.Equal("Required value: must specify a volume type", causes[3].Message);

        var two = HostPathVolume();
        two.Spec.Nfs = new V1NFSVolumeSource { Server = "nfs", Path = "/exports" };
        Assert.Equal("Forbidden: may not specify more than 1 volume type", Assert.Single(Admit(PersistentVolumeResources.PersistentVolumes, two)).Message);
    }

    [Fact]
    public void A_local_volume_needs_node_affinity()
    {
        var pv = HostPathVolume();
        pv.Spec.HostPath = null;
        pv.Spec.Local = new V1LocalVolumeSource { Path = "/mnt/disks/ssd1" };
        var cause = Assert.Single(Admit(PersistentVolumeResources.PersistentVolumes, pv));
        Assert.Equal("spec.nodeAffinity", cause.Field);
        Assert.Equal("Required value: Local volume requires node affinity", cause.Message);
    }

    private static V1PersistentVolumeClaim Claim(string? storageClass = null) => new()
    {
        Metadata = Meta("task-pv-claim", "default"),
        Spec = new V1PersistentVolumeClaimSpec
        {
            StorageClassName = storageClass, AccessModes = ["ReadWriteOnce"],
            Resources = new V1VolumeResourceRequirements { Requests = new Dictionary<string, ResourceQuantity> { ["storage"] = new("3Gi") } },
        },
    };

    [Fact]
    public void A_claim_without_a_class_gets_the_default_class_and_is_pending()
    {
        var pvc = Claim();
        var context = new ObjectsContext(("storageclasses", Standard(isDefault: true)));
        Assert.Empty(Admit(PersistentVolumeResources.PersistentVolumeClaims, pvc, context: context));
        Assert.Equal("standard", pvc.Spec.StorageClassName);
        Assert.Equal("Pending", pvc.Status.Phase);
        Assert.Equal("Filesystem", pvc.Spec.VolumeMode);
    }

    [Fact]
    public void Block_volume_mode_is_refused_for_volumes_and_claims_as_no_node_serves_raw_devices()
    {
        var pvc = Claim("manual");
        pvc.Spec.VolumeMode = "Block";
        var pv = HostPathVolume();
        pv.Spec.VolumeMode = "Block";

        foreach (var cause in new[] { Admit(PersistentVolumeResources.PersistentVolumeClaims, pvc).Single(), Admit(PersistentVolumeResources.PersistentVolumes, pv).Single() })
        {
            Assert.Equal("spec.volumeMode", cause.Field);
            Assert.StartsWith("Forbidden: volumeMode Block is not supported", cause.Message);
        }
    }

    [Fact]
    public void A_claim_needs_access_modes_and_a_storage_request()
    {
        var pvc = new V1PersistentVolumeClaim { Metadata = Meta("c", "default"), Spec = new V1PersistentVolumeClaimSpec() };
        var causes = Admit(PersistentVolumeResources.PersistentVolumeClaims, pvc);
        Assert.Equal(["spec.accessModes", "spec.resources[storage]"], causes.Select(c => c.Field));
        Assert.Equal("Required value: at least 1 access mode is required", causes[0].Message);
    }

    [Fact]
    public void A_claims_spec_is_immutable_but_may_gain_a_volume_name()
    {
        var old = Claim("manual");
        Admit(PersistentVolumeResources.PersistentVolumeClaims, old);
        var bound = Claim("manual");
        bound.Spec.VolumeName = "task-pv-volume";
        Assert.Empty(Admit(PersistentVolumeResources.PersistentVolumeClaims, bound, old));

        var changed = Claim("manual");
        changed.Spec.AccessModes = ["ReadWriteMany"];
        var cause = Assert.Single(Admit(PersistentVolumeResources.PersistentVolumeClaims, changed, old));
        Assert.Equal("spec", cause.Field);
        Assert.StartsWith("Forbidden: spec is immutable after creation except resources.requests", cause.Message);
    }

    [Fact]
    public void A_pod_template_needs_containers()
    {
        var template = new V1PodTemplate { Metadata = Meta("t", "default"), Template = new V1PodTemplateSpec { Spec = new V1PodSpec() } };
        Assert.Equal("template.spec.containers", Assert.Single(Admit(PersistentVolumeResources.PodTemplates, template)).Field);
    }

    [Fact]
    public void A_volume_attachment_needs_exactly_one_source()
    {
        var va = new V1VolumeAttachment
        {
            Metadata = Meta("va"), Spec = new V1VolumeAttachmentSpec { Attacher = "csi.example.com", NodeName = "node-1", Source = new V1VolumeAttachmentSource() },
        };
        var cause = Assert.Single(Admit(StorageResources.VolumeAttachments, va));
        Assert.Equal("Required value: must specify exactly one of inlineVolumeSpec and persistentVolumeName", cause.Message);
    }

    [Fact]
    public void A_csi_storage_capacity_names_a_class_counts_no_less_than_zero_and_keeps_its_topology_and_class()
    {
        V1CSIStorageCapacity Capacity(string cls, string quantity, string zone) => new()
        {
            Metadata = Meta("cap", "default"), StorageClassName = cls, Capacity = new ResourceQuantity(quantity),
            NodeTopology = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["topology.kubernetes.io/zone"] = zone } },
        };
        Assert.Empty(Admit(StorageResources.CsiStorageCapacities, Capacity("fast", "10Gi", "a")));
        Assert.Equal(["storageClassName", "capacity"],
            Admit(StorageResources.CsiStorageCapacities, Capacity("Fast", "-1", "a")).Select(c => c.Field));
        Assert.Equal("Invalid value: \"-1\": must be greater than or equal to 0",
            Admit(StorageResources.CsiStorageCapacities, Capacity("fast", "-1", "a")).Single().Message);
        Assert.Equal("nodeTopology.matchLabels", Admit(StorageResources.CsiStorageCapacities, Capacity("fast", "1Gi", "a/b")).Single().Field);

        var changed = Admit(StorageResources.CsiStorageCapacities, Capacity("slow", "1Gi", "b"), Capacity("fast", "10Gi", "a"));
        Assert.Equal(["nodeTopology", "storageClassName"], changed.Select(c => c.Field).Order());
        Assert.All(changed, c => Assert.EndsWith("field is immutable", c.Message));
        Assert.Empty(Admit(StorageResources.CsiStorageCapacities, Capacity("fast", "20Gi", "a"), Capacity("fast", "10Gi", "a")));
    }
}

public class NetworkingKindsStrategyTests
{
    private static List<StoreErrorCause> Admit(ResourceDescription resource, IKubernetesObject<V1ObjectMeta> obj,
        IKubernetesObject<V1ObjectMeta>? old = null, IAdmissionContext? context = null) => Strategies.Admit(resource, obj, old, context);

    private static V1ObjectMeta Meta(string name, string? ns = "default") => new() { Name = name, NamespaceProperty = ns };

    private static V1Ingress Minimal(string pathType = "Prefix") => new()
    {
        Metadata = Meta("minimal-ingress"),
        Spec = new V1IngressSpec
        {
            Rules =
            [
                new V1IngressRule
                {
                    Http = new V1HTTPIngressRuleValue
                    {
                        Paths =
                        [
                            new V1HTTPIngressPath
                            {
                                Path = "/testpath", PathType = pathType,
                                Backend = new V1IngressBackend { Service = new V1IngressServiceBackend { Name = "test", Port = new V1ServiceBackendPort { Number = 80 } } },
                            },
                        ],
                    },
                },
            ],
        },
    };

    [Fact]
    public void The_documentations_minimal_ingress_is_accepted_and_gets_the_default_class()
    {
        var ingress = Minimal();
        var nginx = new V1IngressClass
        {
            Metadata = new V1ObjectMeta { Name = "nginx", Annotations = new Dictionary<string, string> { [IngressClassStrategy.DefaultAnnotation] = "true" } },
            Spec = new V1IngressClassSpec { Controller = "k8s.io/ingress-nginx" },
        };
        Assert.Empty(Admit(NetworkingResources.Ingresses, ingress, context: new ObjectsContext(("ingressclasses", nginx))));
        Assert.Equal("nginx", ingress.Spec.IngressClassName);
    }

    [Fact]
    public void An_ingress_needs_rules_or_a_default_backend()
    {
        var cause = Assert.Single(Admit(NetworkingResources.Ingresses, new V1Ingress { Metadata = Meta("i"), Spec = new V1IngressSpec() }));
        Assert.Equal("spec", cause.Field);
        Assert.Equal("Invalid value: []networking.IngressRule(nil): either `defaultBackend` or `rules` must be specified", cause.Message);
    }

    [Fact]
    public void Paths_need_a_known_path_type_and_backends_one_port()
    {
        var unknown = Minimal("Glob");
        Assert.Equal("Unsupported value: \"Glob\": supported values: \"Exact\", \"ImplementationSpecific\", \"Prefix\"",
            Assert.Single(Admit(NetworkingResources.Ingresses, unknown)).Message);

        var both = Minimal();
        both.Spec.Rules[0].Http.Paths[0].Backend.Service.Port.Name = "http";
        var cause = Assert.Single(Admit(NetworkingResources.Ingresses, both));
        Assert.Equal("spec.rules[0].http.paths[0].backend", cause.Field);
        Assert.Equal("Invalid value: \"\": cannot set both port name & port number", cause.Message);
    }

    [Fact]
    public void Hosts_are_dns_names_not_addresses()
    {
        var ingress = Minimal();
        ingress.Spec.Rules[0].Host = "10.0.0.1";
        Assert.Contains(Admit(NetworkingResources.Ingresses, ingress), c => c.Message == "Invalid value: \"10.0.0.1\": must be a DNS name, not an IP address");
        var wildcard = Minimal();
        wildcard.Spec.Rules[0].Host = "*.foo.com";
        Assert.Empty(Admit(NetworkingResources.Ingresses, wildcard));
    }

    [Fact]
    public void An_ingress_class_controller_is_a_domain_prefixed_path_and_immutable()
    {
        var bad = new V1IngressClass { Metadata = Meta("c", null), Spec = new V1IngressClassSpec { Controller = "nginx" } };
        Assert.Equal("Invalid value: \"nginx\": must be a domain-prefixed path (such as \"acme.io/foo\")",
            Assert.Single(Admit(NetworkingResources.IngressClasses, bad)).Message);

        var old = new V1IngressClass { Metadata = Meta("c", null), Spec = new V1IngressClassSpec { Controller = "k8s.io/ingress-nginx" } };
        var changed = new V1IngressClass { Metadata = Meta("c", null), Spec = new V1IngressClassSpec { Controller = "example.com/other" } };
        Assert.Equal("spec.controller", Assert.Single(Admit(NetworkingResources.IngressClasses, changed, old)).Field);
    }

    [Fact]
    public void A_network_policy_gets_policy_types_and_tcp_by_default()
    {
        var policy = new V1NetworkPolicy
        {
            Metadata = Meta("p"),
            Spec = new V1NetworkPolicySpec
            {
                PodSelector = new V1LabelSelector(),
                Egress = [new V1NetworkPolicyEgressRule { Ports = [new V1NetworkPolicyPort { Port = 5978 }] }],
            },
        };
        Assert.Empty(Admit(NetworkingResources.NetworkPolicies, policy));
        Assert.Equal(["Ingress", "Egress"], policy.Spec.PolicyTypes);
        Assert.Equal("TCP", policy.Spec.Egress[0].Ports[0].Protocol);
    }

    [Fact]
    public void Ip_block_exceptions_must_be_strict_subsets()
    {
        var policy = new V1NetworkPolicy
        {
            Metadata = Meta("p"),
            Spec = new V1NetworkPolicySpec
            {
                PodSelector = new V1LabelSelector(),
                Ingress = [new V1NetworkPolicyIngressRule { FromProperty = [new V1NetworkPolicyPeer { IpBlock = new V1IPBlock { Cidr = "172.17.0.0/16", Except = ["172.17.1.0/24", "10.0.0.0/24"] } }] }],
            },
        };
        var cause = Assert.Single(Admit(NetworkingResources.NetworkPolicies, policy));
        Assert.Equal("spec.ingress[0].from[0].ipBlock.except[1]", cause.Field);
        Assert.Equal("Invalid value: \"10.0.0.0/24\": must be a strict subset of `cidr`", cause.Message);
    }

    [Fact]
    public void A_lease_duration_must_be_positive()
    {
        var lease = new V1Lease { Metadata = Meta("l"), Spec = new V1LeaseSpec { LeaseDurationSeconds = 0 } };
        Assert.Equal("spec.leaseDurationSeconds", Assert.Single(Admit(CoordinationResources.Leases, lease)).Field);
    }

    [Fact]
    public void An_endpoint_slice_needs_an_address_type_and_no_loopback_addresses()
    {
        var slice = new V1EndpointSlice { Metadata = Meta("s"), Endpoints = [new V1Endpoint { Addresses = ["127.0.0.1"] }] };
        var causes = Admit(DiscoveryResources.EndpointSlices, slice);
        Assert.Equal(["addressType"], causes.Select(c => c.Field));
        slice.AddressType = "IPv4";
        var cause = Assert.Single(Admit(DiscoveryResources.EndpointSlices, slice));
        Assert.Equal("endpoints[0].addresses[0]", cause.Field);
        Assert.EndsWith("may not be in the loopback range (127.0.0.0/8, ::1/128)", cause.Message);
    }

    [Fact]
    public void Endpoints_may_not_point_at_loopback_link_local_or_unspecified_addresses()
    {
        V1Endpoints Of(params string[] ips) => new()
        {
            Metadata = Meta("web", "default"),
            Subsets = [new V1EndpointSubset { Addresses = ips.Select(ip => new V1EndpointAddress { Ip = ip }).ToList(), Ports = [new Corev1EndpointPort { Port = 80 }] }],
        };
        Assert.Empty(Admit(CoreResources.Endpoints, Of("10.4.5.6", "fd00::1")));
        var causes = Admit(CoreResources.Endpoints, Of("127.0.0.1", "::ffff:127.0.0.2", "169.254.169.254", "0.0.0.0", "224.0.0.5", "fe80::1", "10.1.2", "nonsense"));
        Assert.Equal(Enumerable.Range(0, 8).Select(i => $"subsets[0].addresses[{i}].ip"), causes.Select(c => c.Field));
        Assert.Contains("may not be in the loopback range", causes[1].Message);
        Assert.Contains("may not be in the link-local range (169.254.0.0/16, fe80::/10)", causes[2].Message);
        Assert.Contains("must be a valid IP address", causes[7].Message);
    }

    [Fact]
    public void Endpoints_subsets_need_addresses_and_named_valid_ports()
    {
        var endpoints = new V1Endpoints
        {
            Metadata = Meta("web", "default"),
            Subsets =
            [
                new V1EndpointSubset { Ports = [new Corev1EndpointPort { Port = 80 }] },
                new V1EndpointSubset
                {
                    NotReadyAddresses = [new V1EndpointAddress { Ip = "10.0.0.9", Hostname = "Web_1" }],
                    Ports = [new Corev1EndpointPort { Port = 80 }, new Corev1EndpointPort { Name = "metrics", Port = 70000, Protocol = "HTTP" }],
                },
            ],
        };
        var causes = Admit(CoreResources.Endpoints, endpoints);
        Assert.Equal(["subsets[0]", "subsets[1].notReadyAddresses[0].hostname", "subsets[1].ports[0].name",
            "subsets[1].ports[1].port", "subsets[1].ports[1].protocol"], causes.Select(c => c.Field));
        Assert.Equal("TCP", endpoints.Subsets[1].Ports[0].Protocol);
    }

    [Fact]
    public void A_loopback_address_is_allowed_only_when_it_is_a_registered_nodes_address()
    {
        var node = new V1Node
        {
            Metadata = Meta("vm"),
            Status = new V1NodeStatus { Addresses = [new V1NodeAddress { Type = "InternalIP", Address = "127.0.0.3" }] },
        };
        var nodes = new ObjectsContext(("nodes", node));
        V1Endpoints HostNetworkPod(string ip) => new()
        {
            Metadata = Meta("web", "default"),
            Subsets = [new V1EndpointSubset { Addresses = [new V1EndpointAddress { Ip = ip }], Ports = [new Corev1EndpointPort { Port = 80 }] }],
        };
        Assert.Empty(Admit(CoreResources.Endpoints, HostNetworkPod("127.0.0.3"), context: nodes));
        Assert.Single(Admit(CoreResources.Endpoints, HostNetworkPod("127.0.0.1"), context: nodes));
        var slice = new V1EndpointSlice { Metadata = Meta("web-1", "default"), AddressType = "IPv4", Endpoints = [new V1Endpoint { Addresses = ["127.0.0.3"] }] };
        Assert.Empty(Admit(DiscoveryResources.EndpointSlices, slice, context: nodes));
        Assert.Single(Admit(DiscoveryResources.EndpointSlices, slice));
    }

    [Fact]
    public void The_api_servers_own_endpoints_may_name_its_loopback_address()
    {
        var own = new V1Endpoints
        {
            Metadata = Meta("kubernetes", "default"),
            Subsets = [new V1EndpointSubset { Addresses = [new V1EndpointAddress { Ip = "127.0.0.1" }], Ports = [new Corev1EndpointPort { Name = "https", Port = 6443 }] }],
        };
        Assert.Empty(Admit(CoreResources.Endpoints, own));
        own.Subsets[0].Addresses[0].Ip = "169.254.169.254";
        Assert.Single(Admit(CoreResources.Endpoints, own));
    }

    [Fact]
    public void A_runtime_class_handler_is_a_label_and_immutable()
    {
        var old = new V1RuntimeClass { Metadata = Meta("gvisor", null), Handler = "runsc" };
        Assert.Empty(Admit(NodeResources.RuntimeClasses, old));
        var changed = new V1RuntimeClass { Metadata = Meta("gvisor", null), Handler = "runc" };
        Assert.Equal("Invalid value: \"runc\": field is immutable", Assert.Single(Admit(NodeResources.RuntimeClasses, changed, old)).Message);
    }

    private static V1APIService ApiService(string name, Apiregistrationv1ServiceReference? service) => new()
    {
        Metadata = Meta(name, null),
        Spec = new V1APIServiceSpec { Group = "metrics.k8s.io", Version = "v1beta1", GroupPriorityMinimum = 100, VersionPriority = 100, Service = service },
    };

    [Fact]
    public void An_api_service_is_named_version_dot_group()
    {
        var cause = Assert.Single(Admit(ApiRegistrationResources.ApiServices, ApiService("metrics", null)));
        Assert.Equal("metadata.name", cause.Field);
        Assert.Equal("Invalid value: \"metrics\": must be `spec.version+\".\"+spec.group`: \"v1beta1.metrics.k8s.io\"", cause.Message);
    }

    [Fact]
    public void A_service_backed_api_service_is_left_to_the_availability_check_and_a_local_one_is_available()
    {
        var remote = ApiService("v1beta1.metrics.k8s.io", new Apiregistrationv1ServiceReference { Name = "metrics-server", NamespaceProperty = "kube-system" });
        Assert.Empty(Admit(ApiRegistrationResources.ApiServices, remote));
        Assert.Empty(remote.Status.Conditions ?? []);
        Assert.Equal(443, remote.Spec.Service.Port);
        remote.Status.Conditions = [new V1APIServiceCondition { Type = "Available", Status = "False", Reason = "FailedDiscoveryCheck" }];
        Assert.Equal(["v1beta1.metrics.k8s.io", "kube-system/metrics-server", "False (FailedDiscoveryCheck)", "0s"],
            ApiRegistrationResources.ApiServices.Printer.Cells(remote, remote.Metadata.CreationTimestamp ?? DateTime.UtcNow).Select(c => c.ToString()).Take(3).Append("0s"));

        var local = ApiService("v1beta1.metrics.k8s.io", null);
        Assert.Empty(Admit(ApiRegistrationResources.ApiServices, local));
        Assert.Equal(("True", "Local"), (local.Status.Conditions[0].Status, local.Status.Conditions[0].Reason));
    }
}
