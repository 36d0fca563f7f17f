using Orchestrator.Master.Api.Protobuf;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.CustomResources;
using Orchestrator.Master.Registry.Kinds.AdmissionRegistration;
using Orchestrator.Master.Registry.Kinds.ApiRegistration;
using Orchestrator.Master.Registry.Kinds.Core;
using Orchestrator.Master.Registry.Kinds.Storage;
using Orchestrator.Master.Tests.Registry;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Protobuf;

/// <summary>
/// JSON → protobuf → JSON for the kinds controllers, operators and the kubelet write (Node, PersistentVolume,
/// VolumeAttachment, CSIStorageCapacity, ValidatingAdmissionPolicy and its binding, CustomResourceDefinition,
/// APIService): a complete object (every field its 1.32 type has, status included) written as its wire message decodes
/// to the same JSON, and to the same object as its JSON body. The field numbers are checked against Kubernetes' by the
/// hand-encoded tests (ClusterKindsDecodingTests). As for every kind, a Go value field at its zero value ("", 0, false)
/// is absent from the decoded JSON, as omitempty leaves it out (a CRD version's "storage": false, a runtime handler's
/// "name": ""), so the objects here give such fields other values; pointers keep their zero (Go's *bool false).
/// </summary>
public class ClusterKindsRoundTripTests
{
    public static TheoryData<string> Kinds => [.. Objects.Keys];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void A_complete_object_comes_back_as_the_same_json(string name)
    {
        var (resource, text) = Objects[name];
        ProtobufRoundTrip.ComesBackAsTheSameJson(resource, text);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void A_protobuf_body_decodes_to_the_object_its_json_body_is(string name)
    {
        var (resource, text) = Objects[name];
        ProtobufRoundTrip.DecodesAsItsJsonBody(resource, text);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Its_status_can_be_written_in_protobuf(string name)
    {
        var resource = Objects[name].Resource;
        Assert.True(ProtobufBodyDecoder.Supports(resource));
        if (resource.Subresource("status") is not null) Assert.True(ProtobufBodyDecoder.Supports(resource, "status"));
    }

    /// <summary>kube-apiserver decodes protobuf for every built-in kind it writes (custom resources only are JSON):
    /// so does this one, for every kind that takes a body.</summary>
    [Fact]
    public void Every_built_in_kind_that_is_written_has_a_protobuf_message()
    {
        var missing = BuiltIn.All.Concat(CustomResourceDefinitionResources.All)
            .Where(r => r.Verbs.Any(v => v is "create" or "update" or "patch"))
            .Where(r => r.Resource != "bindings") // the legacy bindings resource reads its body as pods/binding does
            .Where(r => ProtobufBodyDecoder.MessageOf(r) is null)
            .Select(r => r.ToString());
        Assert.Empty(missing);
    }


    internal static readonly Dictionary<string, (ResourceDescription Resource, string Json)> Objects = new()
    {
        ["node"] = (CoreResources.Nodes, """
            {"apiVersion":"v1","kind":"Node",
             "metadata":{"name":"node-a","uid":"6f1d","resourceVersion":"42","creationTimestamp":"2024-05-01T10:00:00Z",
               "labels":{"kubernetes.io/hostname":"node-a"},"annotations":{"node.alpha.kubernetes.io/ttl":"0"},
               "ownerReferences":[{"apiVersion":"v1","kind":"Node","name":"x","uid":"u","controller":true,"blockOwnerDeletion":false}],
               "finalizers":["f"],
               "managedFields":[{"manager":"kubelet","operation":"Update","apiVersion":"v1","time":"2024-05-01T10:00:01Z",
                 "fieldsType":"FieldsV1","fieldsV1":{"f:status":{"f:conditions":{}}},"subresource":"status"}]},
             "spec":{"podCIDR":"10.244.1.0/24","podCIDRs":["10.244.1.0/24","fd00::/64"],"providerID":"kind://docker/node-a",
               "unschedulable":true,
               "taints":[{"key":"node.kubernetes.io/unschedulable","effect":"NoSchedule","timeAdded":"2024-05-01T10:00:02Z"},
                         {"key":"dedicated","value":"gpu","effect":"NoExecute"}],
               "configSource":{"configMap":{"namespace":"kube-system","name":"kubelet-config","uid":"c1","resourceVersion":"7","kubeletConfigKey":"kubelet"}},
               "externalID":"legacy"},
             "status":{"capacity":{"cpu":"4","memory":"8Gi","pods":"110"},"allocatable":{"cpu":"3800m","memory":"7Gi","pods":"110"},
               "phase":"Running",
               "conditions":[{"type":"Ready","status":"True","lastHeartbeatTime":"2024-05-01T10:05:00Z",
                 "lastTransitionTime":"2024-05-01T10:00:00Z","reason":"KubeletReady","message":"kubelet is posting ready status"}],
               "addresses":[{"type":"InternalIP","address":"172.18.0.2"},{"type":"Hostname","address":"node-a"}],
               "daemonEndpoints":{"kubeletEndpoint":{"Port":10250}},
               "nodeInfo":{"machineID":"m","systemUUID":"s","bootID":"b","kernelVersion":"6.8.0","osImage":"Debian 12",
                 "containerRuntimeVersion":"containerd://1.7.18","kubeletVersion":"v1.32.0","kubeProxyVersion":"v1.32.0",
                 "operatingSystem":"linux","architecture":"amd64"},
               "images":[{"names":["registry.k8s.io/pause:3.10"],"sizeBytes":320368},{"names":["nginx@sha256:1","nginx:1.27"]}],
               "volumesInUse":["kubernetes.io/csi/ebs.csi.aws.com^vol-1"],
               "volumesAttached":[{"name":"kubernetes.io/csi/ebs.csi.aws.com^vol-1","devicePath":"/dev/xvdba"}],
               "config":{"assigned":{"configMap":{"namespace":"kube-system","name":"a","kubeletConfigKey":"k"}},
                 "active":{"configMap":{"namespace":"kube-system","name":"b","kubeletConfigKey":"k"}},
                 "lastKnownGood":{"configMap":{"namespace":"kube-system","name":"c","kubeletConfigKey":"k"}},"error":"none"},
               "runtimeHandlers":[{"name":"crun","features":{"recursiveReadOnlyMounts":true,"userNamespaces":false}},{"name":"runc"}],
               "features":{"supplementalGroupsPolicy":true}}}
            """),
        ["persistentvolume"] = (PersistentVolumeResources.PersistentVolumes, """
            {"apiVersion":"v1","kind":"PersistentVolume",
             "metadata":{"name":"pv-1","annotations":{"pv.kubernetes.io/provisioned-by":"ebs.csi.aws.com"}},
             "spec":{"capacity":{"storage":"10Gi"},
               "csi":{"driver":"ebs.csi.aws.com","volumeHandle":"vol-1","readOnly":true,"fsType":"ext4",
                 "volumeAttributes":{"storage.kubernetes.io/csiProvisionerIdentity":"1714-ebs"},
                 "controllerPublishSecretRef":{"name":"a","namespace":"ns"},"nodeStageSecretRef":{"name":"b","namespace":"ns"},
                 "nodePublishSecretRef":{"name":"c","namespace":"ns"},"controllerExpandSecretRef":{"name":"d","namespace":"ns"},
                 "nodeExpandSecretRef":{"name":"e"}},
               "accessModes":["ReadWriteOnce","ReadOnlyMany"],
               "claimRef":{"kind":"PersistentVolumeClaim","namespace":"default","name":"data","uid":"c-1","apiVersion":"v1","resourceVersion":"9"},
               "persistentVolumeReclaimPolicy":"Delete","storageClassName":"gp3","mountOptions":["noatime"],
               "volumeMode":"Filesystem",
               "nodeAffinity":{"required":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"topology.ebs.csi.aws.com/zone","operator":"In","values":["eu-west-1a"]}]}]}},
               "volumeAttributesClassName":"fast"},
             "status":{"phase":"Bound","message":"bound","reason":"Ok","lastPhaseTransitionTime":"2024-05-01T10:00:00Z"}}
            """),
        // every persistent volume source at once: not a valid volume, but each source's every field must come through
        ["persistentvolume-sources"] = (PersistentVolumeResources.PersistentVolumes, """
            {"apiVersion":"v1","kind":"PersistentVolume","metadata":{"name":"pv-2"},
             "spec":{
               "gcePersistentDisk":{"pdName":"d","fsType":"ext4","partition":1,"readOnly":true},
               "awsElasticBlockStore":{"volumeID":"v","fsType":"ext4","partition":2,"readOnly":true},
               "hostPath":{"path":"/data","type":"DirectoryOrCreate"},
               "glusterfs":{"endpoints":"ep","path":"vol","readOnly":true,"endpointsNamespace":"gluster"},
               "nfs":{"server":"nfs.local","path":"/exports","readOnly":true},
               "rbd":{"monitors":["10.0.0.1:6789"],"image":"img","fsType":"xfs","pool":"rbd","user":"admin","keyring":"/etc/ceph/keyring",
                 "secretRef":{"name":"ceph","namespace":"ceph"},"readOnly":true},
               "iscsi":{"targetPortal":"10.0.0.2:3260","iqn":"iqn.2001-04.com.example:storage","lun":3,"iscsiInterface":"default",
                 "fsType":"ext4","readOnly":true,"portals":["10.0.0.3:3260"],"chapAuthDiscovery":true,"chapAuthSession":true,
                 "secretRef":{"name":"chap"},"initiatorName":"iqn.1994-05.com.redhat:node"},
               "cinder":{"volumeID":"c","fsType":"ext4","readOnly":true,"secretRef":{"name":"os"}},
               "cephfs":{"monitors":["10.0.0.1:6789"],"path":"/","user":"admin","secretFile":"/etc/ceph/secret","secretRef":{"name":"cephfs"},"readOnly":true},
               "fc":{"targetWWNs":["500a0982991b8dc5"],"lun":0,"fsType":"ext4","readOnly":true,"wwids":["3600508b400105e210000900000490000"]},
               "flocker":{"datasetName":"n","datasetUUID":"u"},
               "flexVolume":{"driver":"example/lvm","fsType":"ext4","secretRef":{"name":"flex"},"readOnly":true,"options":{"volumeID":"v"}},
               "azureFile":{"secretName":"az","shareName":"share","readOnly":true,"secretNamespace":"default"},
               "vsphereVolume":{"volumePath":"[ds] vol.vmdk","fsType":"ext4","storagePolicyName":"gold","storagePolicyID":"p"},
               "quobyte":{"registry":"r:7861","volume":"v","readOnly":true,"user":"u","group":"g","tenant":"t"},
               "azureDisk":{"diskName":"d","diskURI":"https://d","cachingMode":"ReadOnly","fsType":"ext4","readOnly":false,"kind":"Managed"},
               "photonPersistentDisk":{"pdID":"p","fsType":"ext4"},
               "portworxVolume":{"volumeID":"px","fsType":"ext4","readOnly":true},
               "scaleIO":{"gateway":"https://gw","system":"sio","secretRef":{"name":"sio"},"sslEnabled":true,"protectionDomain":"pd",
                 "storagePool":"sp","storageMode":"ThinProvisioned","volumeName":"vol","fsType":"xfs","readOnly":true},
               "local":{"path":"/mnt/disks/ssd1","fsType":"ext4"},
               "storageos":{"volumeName":"v","volumeNamespace":"ns","fsType":"ext4","readOnly":true,"secretRef":{"kind":"Secret","name":"sos"}},
               "csi":{"driver":"d","volumeHandle":"h"}}}
            """),
        ["volumeattachment"] = (StorageResources.VolumeAttachments, """
            {"apiVersion":"storage.k8s.io/v1","kind":"VolumeAttachment","metadata":{"name":"csi-0a1b"},
             "spec":{"attacher":"ebs.csi.aws.com","nodeName":"node-a",
               "source":{"inlineVolumeSpec":{"capacity":{"storage":"1Gi"},"accessModes":["ReadWriteOnce"],
                 "csi":{"driver":"ebs.csi.aws.com","volumeHandle":"vol-2","fsType":"ext4"},"persistentVolumeReclaimPolicy":"Retain"}}},
             "status":{"attached":true,"attachmentMetadata":{"devicePath":"/dev/xvdba"},
               "attachError":{"time":"2024-05-01T10:00:00Z","message":"timed out"},"detachError":{"message":"busy"}}}
            """),
        ["volumeattachment-pv"] = (StorageResources.VolumeAttachments, """
            {"apiVersion":"storage.k8s.io/v1","kind":"VolumeAttachment","metadata":{"name":"csi-0a1c"},
             "spec":{"attacher":"ebs.csi.aws.com","nodeName":"node-a","source":{"persistentVolumeName":"pv-1"}}}
            """),
        ["csistoragecapacity"] = (StorageResources.CsiStorageCapacities, """
            {"apiVersion":"storage.k8s.io/v1","kind":"CSIStorageCapacity","metadata":{"name":"csisc-1","namespace":"kube-system"},
             "nodeTopology":{"matchLabels":{"topology.hostpath.csi/node":"node-a"},
               "matchExpressions":[{"key":"zone","operator":"In","values":["a"]}]},
             "storageClassName":"hostpath","capacity":"100Gi","maximumVolumeSize":"0"}
            """),
        ["validatingadmissionpolicy"] = (AdmissionRegistrationResources.ValidatingAdmissionPolicies, """
            {"apiVersion":"admissionregistration.k8s.io/v1","kind":"ValidatingAdmissionPolicy","metadata":{"name":"replicas","generation":2},
             "spec":{"paramKind":{"apiVersion":"v1","kind":"ConfigMap"},
               "matchConstraints":{"namespaceSelector":{"matchLabels":{"env":"prod"}},"objectSelector":{"matchLabels":{"checked":"yes"}},
                 "resourceRules":[{"resourceNames":["web"],"operations":["CREATE","UPDATE"],"apiGroups":["apps"],"apiVersions":["v1"],
                   "resources":["deployments"],"scope":"Namespaced"}],
                 "excludeResourceRules":[{"operations":["DELETE"],"apiGroups":[""],"apiVersions":["v1"],"resources":["pods"]}],
                 "matchPolicy":"Equivalent"},
               "validations":[{"expression":"object.spec.replicas <= params.data.max","message":"too many","reason":"Invalid",
                 "messageExpression":"'at most ' + params.data.max"}],
               "failurePolicy":"Fail",
               "auditAnnotations":[{"key":"replicas","valueExpression":"string(object.spec.replicas)"}],
               "matchConditions":[{"name":"not-system","expression":"!request.userInfo.username.startsWith('system:')"}],
               "variables":[{"name":"max","expression":"int(params.data.max)"}]},
             "status":{"observedGeneration":2,
               "typeChecking":{"expressionWarnings":[{"fieldRef":"spec.validations[0].expression","warning":"no such key"}]},
               "conditions":[{"type":"Ready","status":"True","observedGeneration":2,"lastTransitionTime":"2024-05-01T10:00:00Z",
                 "reason":"Checked","message":"ok"}]}}
            """),
        ["validatingadmissionpolicybinding"] = (AdmissionRegistrationResources.ValidatingAdmissionPolicyBindings, """
            {"apiVersion":"admissionregistration.k8s.io/v1","kind":"ValidatingAdmissionPolicyBinding","metadata":{"name":"replicas-prod"},
             "spec":{"policyName":"replicas",
               "paramRef":{"name":"limits","namespace":"policy","selector":{"matchLabels":{"p":"1"}},"parameterNotFoundAction":"Deny"},
               "matchResources":{"namespaceSelector":{"matchExpressions":[{"key":"env","operator":"In","values":["prod"]}]},
                 "resourceRules":[{"operations":["*"],"apiGroups":["*"],"apiVersions":["*"],"resources":["*"]}]},
               "validationActions":["Deny","Audit"]}}
            """),
        ["customresourcedefinition"] = (CustomResourceDefinitionResources.CustomResourceDefinitions, """
            {"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"crontabs.stable.example.com"},
             "spec":{"group":"stable.example.com","scope":"Namespaced","preserveUnknownFields":true,
               "names":{"plural":"crontabs","singular":"crontab","shortNames":["ct"],"kind":"CronTab","listKind":"CronTabList","categories":["all"]},
               "conversion":{"strategy":"Webhook","webhook":{"conversionReviewVersions":["v1","v1beta1"],
                 "clientConfig":{"url":"https://conv.example.com/convert","caBundle":"LS0t",
                   "service":{"namespace":"conv","name":"converter","path":"/convert","port":8443}}}},
               "versions":[
                 {"name":"v1","served":true,"storage":true,"deprecated":true,"deprecationWarning":"use v2",
                  "subresources":{"status":{},"scale":{"specReplicasPath":".spec.replicas","statusReplicasPath":".status.replicas","labelSelectorPath":".status.selector"}},
                  "additionalPrinterColumns":[{"name":"Spec","type":"string","format":"byte","description":"the schedule","priority":1,"jsonPath":".spec.cronSpec"}],
                  "selectableFields":[{"jsonPath":".spec.cronSpec"}],
                  "schema":{"openAPIV3Schema":{
                    "id":"crontab","$schema":"http://json-schema.org/draft-04/schema#","$ref":"#/definitions/top",
                    "description":"a CronTab","type":"object","format":"f","title":"CronTab",
                    "default":{"spec":{"replicas":1}},"example":{"spec":{"cronSpec":"* * * * *"}},
                    "maximum":10,"exclusiveMaximum":true,"minimum":0.5,"exclusiveMinimum":true,
                    "maxLength":64,"minLength":0,"pattern":"^a","maxItems":5,"minItems":1,"uniqueItems":true,"multipleOf":0.5,
                    "enum":["a",1,true,{"b":[1]},null],"maxProperties":9,"minProperties":1,"required":["spec"],
                    "nullable":true,
                    "x-kubernetes-preserve-unknown-fields":false,"x-kubernetes-embedded-resource":true,"x-kubernetes-int-or-string":true,
                    "x-kubernetes-list-map-keys":["name"],"x-kubernetes-list-type":"map","x-kubernetes-map-type":"granular",
                    "x-kubernetes-validations":[{"rule":"self.spec.replicas <= 10","message":"at most 10","messageExpression":"'no'",
                      "reason":"FieldValueForbidden","fieldPath":".spec.replicas","optionalOldSelf":true}],
                    "externalDocs":{"description":"docs","url":"https://example.com"},
                    "allOf":[{"type":"object"}],"oneOf":[{"required":["a"]},{"required":["b"]}],"anyOf":[{"minProperties":1}],
                    "not":{"type":"string"},
                    "additionalProperties":false,"additionalItems":true,
                    "patternProperties":{"^x-":{"type":"string"}},
                    "dependencies":{"a":["b","c"],"d":{"required":["e"]}},
                    "definitions":{"top":{"type":"object"}},
                    "properties":{
                      "spec":{"type":"object","properties":{
                        "cronSpec":{"type":"string"},
                        "replicas":{"type":"integer","default":1},
                        "tags":{"type":"array","items":{"type":"string"}},
                        "tuple":{"type":"array","items":[{"type":"string"},{"type":"integer"}]},
                        "labels":{"type":"object","additionalProperties":{"type":"string"}},
                        "port":{"x-kubernetes-int-or-string":true,"anyOf":[{"type":"integer"},{"type":"string"}]}}}}}}},
                 {"name":"v2","served":true,"schema":{"openAPIV3Schema":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}}]},
             "status":{"conditions":[{"type":"Established","status":"True","lastTransitionTime":"2024-05-01T10:00:00Z","reason":"InitialNamesAccepted","message":"the initial names have been accepted"}],
               "acceptedNames":{"plural":"crontabs","singular":"crontab","shortNames":["ct"],"kind":"CronTab","listKind":"CronTabList","categories":["all"]},
               "storedVersions":["v1"]}}
            """),
        ["apiservice"] = (ApiRegistrationResources.ApiServices, """
            {"apiVersion":"apiregistration.k8s.io/v1","kind":"APIService","metadata":{"name":"v1beta1.metrics.k8s.io"},
             "spec":{"service":{"namespace":"kube-system","name":"metrics-server","port":443},"group":"metrics.k8s.io","version":"v1beta1",
               "insecureSkipTLSVerify":true,"caBundle":"LS0tLS1CRUdJTg==","groupPriorityMinimum":100,"versionPriority":100},
             "status":{"conditions":[{"type":"Available","status":"False","lastTransitionTime":"2024-05-01T10:00:00Z",
               "reason":"ServiceNotFound","message":"service/metrics-server in \"kube-system\" is not present"}]}}
            """),
    };
}
