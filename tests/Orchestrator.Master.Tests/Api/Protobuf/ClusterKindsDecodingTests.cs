using System.Text.Json.Nodes;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Api.Protobuf;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.CustomResources;
using Orchestrator.Master.Registry.Kinds.AdmissionRegistration;
using Orchestrator.Master.Registry.Kinds.ApiRegistration;
using Orchestrator.Master.Registry.Kinds.Core;
using Orchestrator.Master.Registry.Kinds.Storage;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Protobuf;

/// <summary>Node, PersistentVolume, VolumeAttachment, CSIStorageCapacity, ValidatingAdmissionPolicy (and binding),
/// CustomResourceDefinition and APIService bodies as client-go's protobuf clients send them (the kubelet, the volume
/// controllers and CSI sidecars, operators, the e2e framework), hand-encoded with Kubernetes 1.32's field numbers
/// (k8s.io/api, apiextensions-apiserver and kube-aggregator generated.proto).</summary>
public class ClusterKindsDecodingTests
{
    private static JsonObject Decode(ResourceDescription resource, ProtoWriter obj)
    {
        var body = ProtoWriter.Envelope(resource.GroupVersion, resource.Kind, obj);
        Assert.True(ProtobufBodyDecoder.TryDecode(body, resource, out var decoded, out var error), error);
        Assert.Equal((resource.GroupVersion, resource.Kind), (decoded!.ApiVersion, decoded.Kind));
        return ObjectJson.ToJson(decoded, resource);
    }

    private static string? At(JsonNode json, params object[] path)
    {
        JsonNode? node = json;
        foreach (var step in path) node = step is int i ? node?[i] : node?[(string)step];
        return node?.ToJsonString(ObjectJson.WriteOptions);
    }

    private static ProtoWriter Time(long seconds) => new ProtoWriter().Varint(1, seconds);

    [Fact]
    public void A_node_keeps_its_spec_taints_and_the_status_the_kubelet_writes()
    {
        var node = Decode(CoreResources.Nodes, new ProtoWriter()
            .Message(1, m => m.String(1, "node-a").Entry(11, "kubernetes.io/hostname", "node-a"))
            .Message(2, s => s
                .String(1, "10.244.1.0/24")
                .String(7, "10.244.1.0/24").String(7, "fd00::/64")
                .String(3, "kind://docker/node-a")
                .Bool(4, true)
                .Message(5, t => t.String(1, "dedicated").String(2, "gpu").String(3, "NoSchedule").Message(4, Time(1_714_557_600)))
                .Message(6, c => c.Message(2, cm => cm.String(1, "kube-system").String(2, "kubelet").String(5, "kubelet")))
                .String(2, "legacy-id"))
            .Message(3, s => s
                .QuantityEntry(1, "cpu", "4")
                .QuantityEntry(2, "memory", "7Gi")
                .String(3, "Running")
                .Message(4, c => c.String(1, "Ready").String(2, "True").Message(3, Time(1_714_557_900)).Message(4, Time(1_714_557_600))
                    .String(5, "KubeletReady").String(6, "kubelet is posting ready status"))
                .Message(5, a => a.String(1, "InternalIP").String(2, "172.18.0.2"))
                .Message(6, d => d.Message(1, e => e.Varint(1, 10250)))
                .Message(7, i => i.String(1, "machine").String(2, "uuid").String(3, "boot").String(4, "6.8.0").String(5, "Debian 12")
                    .String(6, "containerd://1.7.18").String(7, "v1.32.0").String(8, "v1.32.0").String(9, "linux").String(10, "arm64"))
                .Message(8, i => i.String(1, "registry.k8s.io/pause:3.10").Varint(2, 320_368))
                .String(9, "kubernetes.io/csi/ebs^vol-1")
                .Message(10, v => v.String(1, "kubernetes.io/csi/ebs^vol-1").String(2, "/dev/xvdba"))
                .Message(11, c => c.Message(2, a => a.Message(2, cm => cm.String(2, "active"))).String(4, "failed"))
                .Message(12, h => h.String(1, "runc").Message(2, f => f.Bool(1, true).Bool(2, false)))
                .Message(13, f => f.Bool(1, true))));

        Assert.Equal("\"10.244.1.0/24\"", At(node, "spec", "podCIDR"));
        Assert.Equal("""["10.244.1.0/24","fd00::/64"]""", At(node, "spec", "podCIDRs"));
        Assert.Equal(("\"kind://docker/node-a\"", "true", "\"legacy-id\""),
            (At(node, "spec", "providerID"), At(node, "spec", "unschedulable"), At(node, "spec", "externalID")));
        Assert.Equal("""{"effect":"NoSchedule","key":"dedicated","timeAdded":"2024-05-01T10:00:00Z","value":"gpu"}""", Sorted(node["spec"]!["taints"]![0]));
        Assert.Equal("\"kubelet\"", At(node, "spec", "configSource", "configMap", "kubeletConfigKey"));
        Assert.Equal(("\"4\"", "\"7Gi\"", "\"Running\""),
            (At(node, "status", "capacity", "cpu"), At(node, "status", "allocatable", "memory"), At(node, "status", "phase")));
        Assert.Equal(("\"Ready\"", "\"2024-05-01T10:05:00Z\"", "\"kubelet is posting ready status\""),
            (At(node, "status", "conditions", 0, "type"), At(node, "status", "conditions", 0, "lastHeartbeatTime"), At(node, "status", "conditions", 0, "message")));
        Assert.Equal("""{"address":"172.18.0.2","type":"InternalIP"}""", Sorted(node["status"]!["addresses"]![0]));
        Assert.Equal("10250", At(node, "status", "daemonEndpoints", "kubeletEndpoint", "Port"));
        Assert.Equal(("\"v1.32.0\"", "\"arm64\"", "\"containerd://1.7.18\""),
            (At(node, "status", "nodeInfo", "kubeletVersion"), At(node, "status", "nodeInfo", "architecture"), At(node, "status", "nodeInfo", "containerRuntimeVersion")));
        Assert.Equal("320368", At(node, "status", "images", 0, "sizeBytes"));
        Assert.Equal("[\"kubernetes.io/csi/ebs^vol-1\"]", At(node, "status", "volumesInUse"));
        Assert.Equal("\"/dev/xvdba\"", At(node, "status", "volumesAttached", 0, "devicePath"));
        Assert.Equal(("\"active\"", "\"failed\""), (At(node, "status", "config", "active", "configMap", "name"), At(node, "status", "config", "error")));
        Assert.Equal("""{"features":{"recursiveReadOnlyMounts":true,"userNamespaces":false},"name":"runc"}""", Sorted(node["status"]!["runtimeHandlers"]![0]));
        Assert.Equal("true", At(node, "status", "features", "supplementalGroupsPolicy"));
    }

    private static ProtoWriter SecretRef(string name) => new ProtoWriter().String(1, name).String(2, "ns");

    [Fact]
    public void A_persistent_volume_keeps_its_inline_source_claim_affinity_and_status()
    {
        var pv = Decode(PersistentVolumeResources.PersistentVolumes, new ProtoWriter()
            .Message(1, m => m.String(1, "pv-1"))
            .Message(2, s => s
                .QuantityEntry(1, "storage", "10Gi")
                .Message(2, source => source // the inline PersistentVolumeSource
                    .Message(22, csi => csi.String(1, "ebs.csi.aws.com").String(2, "vol-1").Bool(3, true).String(4, "ext4")
                        .Entry(5, "partition", "1")
                        .Message(6, SecretRef("publish")).Message(7, SecretRef("stage")).Message(8, SecretRef("node-publish"))
                        .Message(9, SecretRef("expand")).Message(10, SecretRef("node-expand"))))
                .String(3, "ReadWriteOnce")
                .Message(4, c => c.String(1, "PersistentVolumeClaim").String(2, "default").String(3, "data").String(4, "uid-1"))
                .String(5, "Retain")
                .String(6, "gp3")
                .String(7, "noatime")
                .String(8, "Block")
                .Message(9, a => a.Message(1, r => r.Message(1, t => t.Message(1, e => e.String(1, "zone").String(2, "In").String(3, "a")))))
                .String(10, "fast"))
            .Message(3, s => s.String(1, "Released").String(2, "claim deleted").String(3, "Gone").Message(4, Time(1_714_557_600))));

        Assert.Equal("\"10Gi\"", At(pv, "spec", "capacity", "storage"));
        Assert.Equal(("\"ebs.csi.aws.com\"", "\"vol-1\"", "true", "\"ext4\""),
            (At(pv, "spec", "csi", "driver"), At(pv, "spec", "csi", "volumeHandle"), At(pv, "spec", "csi", "readOnly"), At(pv, "spec", "csi", "fsType")));
        Assert.Equal("\"1\"", At(pv, "spec", "csi", "volumeAttributes", "partition"));
        Assert.Equal(["publish", "stage", "node-publish", "expand", "node-expand"],
            new[] { "controllerPublishSecretRef", "nodeStageSecretRef", "nodePublishSecretRef", "controllerExpandSecretRef", "nodeExpandSecretRef" }
                .Select(r => pv["spec"]!["csi"]![r]!["name"]!.ToString()));
        Assert.Equal("\"ns\"", At(pv, "spec", "csi", "nodeExpandSecretRef", "namespace"));
        Assert.Equal("[\"ReadWriteOnce\"]", At(pv, "spec", "accessModes"));
        Assert.Equal(("\"data\"", "\"uid-1\""), (At(pv, "spec", "claimRef", "name"), At(pv, "spec", "claimRef", "uid")));
        Assert.Equal(("\"Retain\"", "\"gp3\"", "[\"noatime\"]", "\"Block\"", "\"fast\""),
            (At(pv, "spec", "persistentVolumeReclaimPolicy"), At(pv, "spec", "storageClassName"), At(pv, "spec", "mountOptions"),
                At(pv, "spec", "volumeMode"), At(pv, "spec", "volumeAttributesClassName")));
        Assert.Equal("\"zone\"", At(pv, "spec", "nodeAffinity", "required", "nodeSelectorTerms", 0, "matchExpressions", 0, "key"));
        Assert.Equal(("\"Released\"", "\"claim deleted\"", "\"Gone\"", "\"2024-05-01T10:00:00Z\""),
            (At(pv, "status", "phase"), At(pv, "status", "message"), At(pv, "status", "reason"), At(pv, "status", "lastPhaseTransitionTime")));
    }

    [Fact]
    public void The_persistent_volume_sources_keep_their_own_field_numbers()
    {
        var pv = Decode(PersistentVolumeResources.PersistentVolumes, new ProtoWriter()
            .Message(1, m => m.String(1, "pv-2"))
            .Message(2, s => s.Message(2, source => source
                .Message(4, g => g.String(1, "ep").String(2, "vol").Bool(3, true).String(4, "gluster"))
                .Message(6, r => r.String(1, "10.0.0.1:6789").String(2, "img").String(3, "xfs").String(4, "rbd").String(5, "admin")
                    .String(6, "/keyring").Message(7, SecretRef("ceph")).Bool(8, true))
                .Message(7, i => i.String(1, "10.0.0.2:3260").String(2, "iqn.x").Varint(3, 3).String(4, "default").String(5, "ext4")
                    .Bool(6, true).String(7, "10.0.0.3:3260").Bool(8, true).Message(10, SecretRef("chap")).Bool(11, true).String(12, "iqn.init"))
                .Message(8, c => c.String(1, "cinder-vol").String(2, "ext4").Bool(3, true).Message(4, SecretRef("os")))
                .Message(9, c => c.String(1, "10.0.0.1:6789").String(2, "/").String(3, "admin").String(4, "/secret").Message(5, SecretRef("cephfs")).Bool(6, true))
                .Message(12, f => f.String(1, "example/lvm").String(2, "ext4").Message(3, SecretRef("flex")).Bool(4, true).Entry(5, "volumeID", "v"))
                .Message(13, a => a.String(1, "az").String(2, "share").Bool(3, true).String(4, "default"))
                .Message(19, x => x.String(1, "https://gw").String(2, "sio").Message(3, SecretRef("sio")).Bool(4, true).String(5, "pd")
                    .String(6, "sp").String(7, "ThinProvisioned").String(8, "vol").String(9, "xfs").Bool(10, true))
                .Message(20, l => l.String(1, "/mnt/disks/ssd1").String(2, "ext4"))
                .Message(21, o => o.String(1, "v").String(2, "ns").String(3, "ext4").Bool(4, true).Message(5, r => r.String(1, "Secret").String(3, "sos")))
                .Message(3, h => h.String(1, "/data").String(2, "Directory")))));

        var spec = pv["spec"]!;
        Assert.Equal("""{"endpoints":"ep","endpointsNamespace":"gluster","path":"vol","readOnly":true}""", Sorted(spec["glusterfs"]));
        Assert.Equal("""{"fsType":"xfs","image":"img","keyring":"/keyring","monitors":["10.0.0.1:6789"],"pool":"rbd","readOnly":true,"secretRef":{"name":"ceph","namespace":"ns"},"user":"admin"}""",
            Sorted(spec["rbd"]));
        Assert.Equal("""{"chapAuthDiscovery":true,"chapAuthSession":true,"fsType":"ext4","initiatorName":"iqn.init","iqn":"iqn.x","iscsiInterface":"default","lun":3,"portals":["10.0.0.3:3260"],"readOnly":true,"secretRef":{"name":"chap","namespace":"ns"},"targetPortal":"10.0.0.2:3260"}""",
            Sorted(spec["iscsi"]));
        Assert.Equal("""{"fsType":"ext4","readOnly":true,"secretRef":{"name":"os","namespace":"ns"},"volumeID":"cinder-vol"}""", Sorted(spec["cinder"]));
        Assert.Equal("""{"monitors":["10.0.0.1:6789"],"path":"/","readOnly":true,"secretFile":"/secret","secretRef":{"name":"cephfs","namespace":"ns"},"user":"admin"}""",
            Sorted(spec["cephfs"]));
        Assert.Equal("""{"driver":"example/lvm","fsType":"ext4","options":{"volumeID":"v"},"readOnly":true,"secretRef":{"name":"flex","namespace":"ns"}}""",
            Sorted(spec["flexVolume"]));
        Assert.Equal("""{"readOnly":true,"secretName":"az","secretNamespace":"default","shareName":"share"}""", Sorted(spec["azureFile"]));
        Assert.Equal("""{"fsType":"xfs","gateway":"https://gw","protectionDomain":"pd","readOnly":true,"secretRef":{"name":"sio","namespace":"ns"},"sslEnabled":true,"storageMode":"ThinProvisioned","storagePool":"sp","system":"sio","volumeName":"vol"}""",
            Sorted(spec["scaleIO"]));
        Assert.Equal("""{"fsType":"ext4","path":"/mnt/disks/ssd1"}""", Sorted(spec["local"]));
        Assert.Equal("""{"fsType":"ext4","readOnly":true,"secretRef":{"kind":"Secret","name":"sos"},"volumeName":"v","volumeNamespace":"ns"}""",
            Sorted(spec["storageos"]));
        Assert.Equal("""{"path":"/data","type":"Directory"}""", Sorted(spec["hostPath"]));
    }

    private static string Sorted(JsonNode? node) => node switch
    {
        JsonObject o => "{" + string.Join(",", o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"\"{p.Key}\":{Sorted(p.Value)}")) + "}",
        JsonArray a => "[" + string.Join(",", a.Select(Sorted)) + "]",
        null => "null",
        _ => node.ToJsonString(ObjectJson.WriteOptions),
    };

    [Fact]
    public void A_volume_attachment_keeps_its_source_and_attach_status()
    {
        var attachment = Decode(StorageResources.VolumeAttachments, new ProtoWriter()
            .Message(1, m => m.String(1, "csi-0a1b"))
            .Message(2, s => s.String(1, "ebs.csi.aws.com")
                .Message(2, source => source.Message(2, spec => spec.QuantityEntry(1, "storage", "1Gi")
                    .Message(2, pvs => pvs.Message(22, csi => csi.String(1, "ebs.csi.aws.com").String(2, "vol-2")))))
                .String(3, "node-a"))
            .Message(3, s => s.Bool(1, true).Entry(2, "devicePath", "/dev/xvdba")
                .Message(3, e => e.Message(1, Time(1_714_557_600)).String(2, "timed out"))
                .Message(4, e => e.String(2, "busy"))));

        Assert.Equal(("\"ebs.csi.aws.com\"", "\"node-a\""), (At(attachment, "spec", "attacher"), At(attachment, "spec", "nodeName")));
        Assert.Equal("\"vol-2\"", At(attachment, "spec", "source", "inlineVolumeSpec", "csi", "volumeHandle"));
        Assert.Equal("\"1Gi\"", At(attachment, "spec", "source", "inlineVolumeSpec", "capacity", "storage"));
        Assert.Null(At(attachment, "spec", "source", "persistentVolumeName"));
        Assert.Equal(("true", "\"/dev/xvdba\""), (At(attachment, "status", "attached"), At(attachment, "status", "attachmentMetadata", "devicePath")));
        Assert.Equal(("\"2024-05-01T10:00:00Z\"", "\"timed out\""), (At(attachment, "status", "attachError", "time"), At(attachment, "status", "attachError", "message")));
        Assert.Equal("\"busy\"", At(attachment, "status", "detachError", "message"));

        var byName = Decode(StorageResources.VolumeAttachments, new ProtoWriter()
            .Message(1, m => m.String(1, "csi-0a1c"))
            .Message(2, s => s.String(1, "ebs.csi.aws.com").Message(2, source => source.String(1, "pv-1")).String(3, "node-a")));
        Assert.Equal("\"pv-1\"", At(byName, "spec", "source", "persistentVolumeName"));
    }

    [Fact]
    public void A_csi_storage_capacity_keeps_its_topology_and_pointer_quantities()
    {
        var capacity = Decode(StorageResources.CsiStorageCapacities, new ProtoWriter()
            .Message(1, m => m.String(1, "csisc-1").String(3, "kube-system"))
            .Message(2, t => t.Entry(1, "topology.hostpath.csi/node", "node-a"))
            .String(3, "hostpath")
            .Message(4, q => q.String(1, "100Gi"))
            .Message(5, _ => { })); // maximumVolumeSize: a pointer set to the zero quantity

        Assert.Equal("\"node-a\"", At(capacity, "nodeTopology", "matchLabels", "topology.hostpath.csi/node"));
        Assert.Equal(("\"hostpath\"", "\"100Gi\"", "\"0\""),
            (At(capacity, "storageClassName"), At(capacity, "capacity"), At(capacity, "maximumVolumeSize")));
    }

    private static ProtoWriter MatchResources(ProtoWriter m) => m
        .Message(1, sel => sel.Entry(1, "env", "prod"))
        .Message(2, sel => sel.Entry(1, "checked", "yes"))
        .Message(3, r => r.String(1, "web") // resourceNames, then the inline RuleWithOperations
            .Message(2, rwo => rwo.String(1, "CREATE").Message(2, rule => rule.String(1, "apps").String(2, "v1").String(3, "deployments").String(4, "Namespaced"))))
        .Message(4, r => r.Message(2, rwo => rwo.String(1, "DELETE").Message(2, rule => rule.String(3, "pods"))))
        .String(7, "Exact");

    [Fact]
    public void A_validating_admission_policy_keeps_its_spec_and_type_checking_status()
    {
        var policy = Decode(AdmissionRegistrationResources.ValidatingAdmissionPolicies, new ProtoWriter()
            .Message(1, m => m.String(1, "replicas"))
            .Message(2, s => s
                .Message(1, k => k.String(1, "v1").String(2, "ConfigMap"))
                .Message(2, m => MatchResources(m))
                .Message(3, v => v.String(1, "object.spec.replicas < 5").String(2, "too many").String(3, "Invalid").String(4, "'no'"))
                .String(4, "Ignore")
                .Message(5, a => a.String(1, "replicas").String(2, "string(object.spec.replicas)"))
                .Message(6, c => c.String(1, "not-system").String(2, "true"))
                .Message(7, v => v.String(1, "max").String(2, "5")))
            .Message(3, s => s.Varint(1, 2)
                .Message(2, t => t.Message(1, w => w.String(2, "spec.validations[0].expression").String(3, "no such key")))
                .Message(3, c => c.String(1, "Ready").String(2, "True").Varint(3, 2).Message(4, Time(1_714_557_600)).String(5, "Checked").String(6, "ok"))));

        Assert.Equal(("\"v1\"", "\"ConfigMap\""), (At(policy, "spec", "paramKind", "apiVersion"), At(policy, "spec", "paramKind", "kind")));
        var match = policy["spec"]!["matchConstraints"]!;
        Assert.Equal(("\"prod\"", "\"yes\"", "\"Exact\""),
            (At(match, "namespaceSelector", "matchLabels", "env"), At(match, "objectSelector", "matchLabels", "checked"), At(match, "matchPolicy")));
        Assert.Equal("""{"apiGroups":["apps"],"apiVersions":["v1"],"operations":["CREATE"],"resourceNames":["web"],"resources":["deployments"],"scope":"Namespaced"}""",
            Sorted(match["resourceRules"]![0]));
        Assert.Equal("""{"operations":["DELETE"],"resources":["pods"]}""", Sorted(match["excludeResourceRules"]![0]));
        Assert.Equal("""{"expression":"object.spec.replicas < 5","message":"too many","messageExpression":"'no'","reason":"Invalid"}""",
            Sorted(policy["spec"]!["validations"]![0]));
        Assert.Equal("\"Ignore\"", At(policy, "spec", "failurePolicy"));
        Assert.Equal("\"string(object.spec.replicas)\"", At(policy, "spec", "auditAnnotations", 0, "valueExpression"));
        Assert.Equal("\"not-system\"", At(policy, "spec", "matchConditions", 0, "name"));
        Assert.Equal(("\"max\"", "\"5\""), (At(policy, "spec", "variables", 0, "name"), At(policy, "spec", "variables", 0, "expression")));
        Assert.Equal("2", At(policy, "status", "observedGeneration"));
        Assert.Equal("""{"fieldRef":"spec.validations[0].expression","warning":"no such key"}""", Sorted(policy["status"]!["typeChecking"]!["expressionWarnings"]![0]));
        Assert.Equal("""{"lastTransitionTime":"2024-05-01T10:00:00Z","message":"ok","observedGeneration":2,"reason":"Checked","status":"True","type":"Ready"}""",
            Sorted(policy["status"]!["conditions"]![0]));
    }

    [Fact]
    public void A_validating_admission_policy_binding_keeps_its_param_ref_and_actions()
    {
        var binding = Decode(AdmissionRegistrationResources.ValidatingAdmissionPolicyBindings, new ProtoWriter()
            .Message(1, m => m.String(1, "replicas-prod"))
            .Message(2, s => s.String(1, "replicas")
                .Message(2, p => p.String(1, "limits").String(2, "policy").Message(3, sel => sel.Entry(1, "p", "1")).String(4, "Deny"))
                .Message(3, m => MatchResources(m))
                .String(4, "Deny").String(4, "Audit")));

        Assert.Equal("\"replicas\"", At(binding, "spec", "policyName"));
        Assert.Equal("""{"name":"limits","namespace":"policy","parameterNotFoundAction":"Deny","selector":{"matchLabels":{"p":"1"}}}""",
            Sorted(binding["spec"]!["paramRef"]));
        Assert.Equal("[\"web\"]", At(binding, "spec", "matchResources", "resourceRules", 0, "resourceNames"));
        Assert.Equal("[\"Deny\",\"Audit\"]", At(binding, "spec", "validationActions"));
    }

    private static ProtoWriter Json(string raw) => new ProtoWriter().Bytes(1, System.Text.Encoding.UTF8.GetBytes(raw));

    private static ProtoWriter Type(string type) => new ProtoWriter().String(5, type);

    [Fact]
    public void A_custom_resource_definition_keeps_its_versions_conversion_and_recursive_schema()
    {
        var schema = new ProtoWriter()
            .String(1, "crontab").String(2, "http://json-schema.org/draft-04/schema#").String(3, "#/definitions/top")
            .String(4, "a CronTab").String(5, "object").String(6, "f").String(7, "CronTab")
            .Message(8, Json("""{"spec":{"replicas":1}}"""))
            .Double(9, 10).Bool(10, true).Double(11, 0.5).Bool(12, true)
            .Varint(13, 64).Varint(14, 0).String(15, "^a").Varint(16, 5).Varint(17, 1).Bool(18, true).Double(19, 0.25)
            .Message(20, Json("\"a\"")).Message(20, Json("1")).Message(20, _ => { }) // enum: "a", 1, null
            .Varint(21, 9).Varint(22, 1)
            .String(23, "spec")
            .Message(24, items => items.Message(2, Type("string")).Message(2, Type("integer"))) // items: a list of schemas
            .Message(25, Type("object"))
            .Message(26, s => s.String(23, "a"))
            .Message(27, s => s.Varint(22, 1))
            .Message(28, Type("string"))
            .Message(29, p => p.String(1, "spec").Message(2, Type("object")
                .Message(29, q => q.String(1, "tags").Message(2, Type("array").Message(24, items => items.Message(1, Type("string"))))) // items: one schema
                .Message(29, q => q.String(1, "labels").Message(2, Type("object").Message(30, a => a.Bool(1, true).Message(2, Type("string")))))))
            .Message(30, a => a.Bool(1, false)) // additionalProperties: false
            .Message(31, p => p.String(1, "^x-").Message(2, Type("string")))
            .Message(32, d => d.String(1, "a").Message(2, names => names.String(2, "b").String(2, "c"))) // dependencies: names
            .Message(32, d => d.String(1, "d").Message(2, s => s.Message(1, r => r.String(23, "e")))) // dependencies: a schema
            .Message(33, a => a.Bool(1, true)) // additionalItems: true
            .Message(34, d => d.String(1, "top").Message(2, Type("object")))
            .Message(35, e => e.String(1, "docs").String(2, "https://example.com"))
            .Message(36, Json("""{"spec":{"cronSpec":"* * * * *"}}"""))
            .Bool(37, true)
            .Bool(38, false).Bool(39, true).Bool(40, true).String(41, "name").String(42, "map").String(43, "granular")
            .Message(44, v => v.String(1, "self.spec.replicas <= 10").String(2, "at most 10").String(3, "'no'")
                .String(4, "FieldValueForbidden").String(5, ".spec.replicas").Bool(6, true));

        var crd = Decode(CustomResourceDefinitionResources.CustomResourceDefinitions, new ProtoWriter()
            .Message(1, m => m.String(1, "crontabs.stable.example.com"))
            .Message(2, s => s
                .String(1, "stable.example.com")
                .Message(3, n => n.String(1, "crontabs").String(2, "crontab").String(3, "ct").String(4, "CronTab").String(5, "CronTabList").String(6, "all"))
                .String(4, "Namespaced")
                .Message(7, v => v.String(1, "v1").Bool(2, true).Bool(3, true).Bool(7, true).String(8, "use v2")
                    .Message(4, val => val.Message(1, schema))
                    .Message(5, sub => sub.Message(1, _ => { }).Message(2, sc => sc.String(1, ".spec.replicas").String(2, ".status.replicas").String(3, ".status.selector")))
                    .Message(6, c => c.String(1, "Spec").String(2, "string").String(3, "byte").String(4, "the schedule").Varint(5, 1).String(6, ".spec.cronSpec"))
                    .Message(9, f => f.String(1, ".spec.cronSpec")))
                .Message(9, c => c.String(1, "Webhook").Message(2, w => w
                    .Message(2, cc => cc.String(3, "https://conv.example.com/convert").Bytes(2, [0x2d, 0x2d, 0x2d])
                        .Message(1, svc => svc.String(1, "conv").String(2, "converter").String(3, "/convert").Varint(4, 8443)))
                    .String(3, "v1").String(3, "v1beta1")))
                .Bool(10, true))
            .Message(3, s => s
                .Message(1, c => c.String(1, "Established").String(2, "True").Message(3, Time(1_714_557_600)).String(4, "InitialNamesAccepted").String(5, "accepted"))
                .Message(2, n => n.String(1, "crontabs").String(4, "CronTab"))
                .String(3, "v1")));

        var spec = crd["spec"]!;
        Assert.Equal(("\"stable.example.com\"", "\"Namespaced\"", "true"), (At(spec, "group"), At(spec, "scope"), At(spec, "preserveUnknownFields")));
        Assert.Equal("""{"categories":["all"],"kind":"CronTab","listKind":"CronTabList","plural":"crontabs","shortNames":["ct"],"singular":"crontab"}""",
            Sorted(spec["names"]));
        var version = spec["versions"]![0]!;
        Assert.Equal(("\"v1\"", "true", "true", "true", "\"use v2\""),
            (At(version, "name"), At(version, "served"), At(version, "storage"), At(version, "deprecated"), At(version, "deprecationWarning")));
        Assert.Equal("""{"scale":{"labelSelectorPath":".status.selector","specReplicasPath":".spec.replicas","statusReplicasPath":".status.replicas"},"status":{}}""",
            Sorted(version["subresources"]));
        Assert.Equal("""{"description":"the schedule","format":"byte","jsonPath":".spec.cronSpec","name":"Spec","priority":1,"type":"string"}""",
            Sorted(version["additionalPrinterColumns"]![0]));
        Assert.Equal("\".spec.cronSpec\"", At(version, "selectableFields", 0, "jsonPath"));
        Assert.Equal("""{"strategy":"Webhook","webhook":{"clientConfig":{"caBundle":"LS0t","service":{"name":"converter","namespace":"conv","path":"/convert","port":8443},"url":"https://conv.example.com/convert"},"conversionReviewVersions":["v1","v1beta1"]}}""",
            Sorted(spec["conversion"]));

        var s = version["schema"]!["openAPIV3Schema"]!;
        Assert.Equal(("\"crontab\"", "\"http://json-schema.org/draft-04/schema#\"", "\"#/definitions/top\""), (At(s, "id"), At(s, "$schema"), At(s, "$ref")));
        Assert.Equal(("\"a CronTab\"", "\"object\"", "\"f\"", "\"CronTab\""), (At(s, "description"), At(s, "type"), At(s, "format"), At(s, "title")));
        Assert.Equal("""{"spec":{"replicas":1}}""", At(s, "default"));
        Assert.Equal(("10", "true", "0.5", "true"), (At(s, "maximum"), At(s, "exclusiveMaximum"), At(s, "minimum"), At(s, "exclusiveMinimum")));
        Assert.Equal(("64", "0", "\"^a\"", "5", "1", "true", "0.25"),
            (At(s, "maxLength"), At(s, "minLength"), At(s, "pattern"), At(s, "maxItems"), At(s, "minItems"), At(s, "uniqueItems"), At(s, "multipleOf")));
        Assert.Equal("""["a",1,null]""", At(s, "enum"));
        Assert.Equal(("9", "1", "[\"spec\"]"), (At(s, "maxProperties"), At(s, "minProperties"), At(s, "required")));
        Assert.Equal("""[{"type":"string"},{"type":"integer"}]""", At(s, "items"));
        Assert.Equal(("""[{"type":"object"}]""", """[{"required":["a"]}]""", """[{"minProperties":1}]""", """{"type":"string"}"""),
            (At(s, "allOf"), At(s, "oneOf"), At(s, "anyOf"), At(s, "not")));
        Assert.Equal("""{"type":"string"}""", At(s, "properties", "spec", "properties", "tags", "items"));
        Assert.Equal("""{"type":"string"}""", At(s, "properties", "spec", "properties", "labels", "additionalProperties"));
        Assert.Equal(("false", "true"), (At(s, "additionalProperties"), At(s, "additionalItems")));
        Assert.Equal("""{"type":"string"}""", At(s, "patternProperties", "^x-"));
        Assert.Equal(("""["b","c"]""", """{"required":["e"]}"""), (At(s, "dependencies", "a"), At(s, "dependencies", "d")));
        Assert.Equal("""{"type":"object"}""", At(s, "definitions", "top"));
        Assert.Equal("""{"description":"docs","url":"https://example.com"}""", Sorted(s["externalDocs"]));
        Assert.Equal("""{"spec":{"cronSpec":"* * * * *"}}""", At(s, "example"));
        Assert.Equal("true", At(s, "nullable"));
        Assert.Equal(("false", "true", "true"),
            (At(s, "x-kubernetes-preserve-unknown-fields"), At(s, "x-kubernetes-embedded-resource"), At(s, "x-kubernetes-int-or-string")));
        Assert.Equal(("[\"name\"]", "\"map\"", "\"granular\""),
            (At(s, "x-kubernetes-list-map-keys"), At(s, "x-kubernetes-list-type"), At(s, "x-kubernetes-map-type")));
        Assert.Equal("""{"fieldPath":".spec.replicas","message":"at most 10","messageExpression":"'no'","optionalOldSelf":true,"reason":"FieldValueForbidden","rule":"self.spec.replicas <= 10"}""",
            Sorted(s["x-kubernetes-validations"]![0]));

        Assert.Equal("""{"lastTransitionTime":"2024-05-01T10:00:00Z","message":"accepted","reason":"InitialNamesAccepted","status":"True","type":"Established"}""",
            Sorted(crd["status"]!["conditions"]![0]));
        Assert.Equal(("\"crontabs\"", "\"CronTab\"", "[\"v1\"]"),
            (At(crd, "status", "acceptedNames", "plural"), At(crd, "status", "acceptedNames", "kind"), At(crd, "status", "storedVersions")));
    }

    [Fact]
    public void An_api_service_keeps_its_service_priorities_and_conditions()
    {
        var apiService = Decode(ApiRegistrationResources.ApiServices, new ProtoWriter()
            .Message(1, m => m.String(1, "v1beta1.metrics.k8s.io"))
            .Message(2, s => s
                .Message(1, svc => svc.String(1, "kube-system").String(2, "metrics-server").Varint(3, 443))
                .String(2, "metrics.k8s.io").String(3, "v1beta1").Bool(4, true).Bytes(5, [0x2d, 0x2d, 0x2d])
                .Varint(7, 100).Varint(8, 15))
            .Message(3, s => s.Message(1, c => c.String(1, "Available").String(2, "False").Message(3, Time(1_714_557_600))
                .String(4, "ServiceNotFound").String(5, "missing"))));

        Assert.Equal("""{"name":"metrics-server","namespace":"kube-system","port":443}""", Sorted(apiService["spec"]!["service"]));
        Assert.Equal(("\"metrics.k8s.io\"", "\"v1beta1\"", "true", "\"LS0t\"", "100", "15"),
            (At(apiService, "spec", "group"), At(apiService, "spec", "version"), At(apiService, "spec", "insecureSkipTLSVerify"),
                At(apiService, "spec", "caBundle"), At(apiService, "spec", "groupPriorityMinimum"), At(apiService, "spec", "versionPriority")));
        Assert.Equal("""{"lastTransitionTime":"2024-05-01T10:00:00Z","message":"missing","reason":"ServiceNotFound","status":"False","type":"Available"}""",
            Sorted(apiService["status"]!["conditions"]![0]));
    }
}
