using System.Net;
using System.Text.Json.Nodes;
using Orchestrator.Master.Api.Protobuf;
using Orchestrator.Master.Registry.CustomResources;
using Orchestrator.Master.Tests.Registry;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Protobuf;

/// <summary>Creates and status writes in protobuf, over HTTP, for the kinds client-go writes that way (the kubelet its
/// Node and its status, the volume controllers PersistentVolumes, CSI sidecars VolumeAttachments and
/// CSIStorageCapacities, operators CRDs and APIServices); custom resources stay JSON only, as in Kubernetes.</summary>
public sealed class ClusterKindsProtobufWriteTests : IAsyncLifetime
{
    private const string Protobuf = "application/vnd.kubernetes.protobuf";
    private ApiTestServer _server = null!;

    public async Task InitializeAsync() => _server = await ApiTestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    /// <summary>The JSON object as the protobuf body client-go sends for it.</summary>
    private static byte[] Body(string json)
    {
        var obj = JsonNode.Parse(json)!.AsObject();
        var apiVersion = obj["apiVersion"]!.ToString();
        var kind = obj["kind"]!.ToString();
        var resource = BuiltIn.FindByKind(apiVersion, kind) ?? CustomResourceDefinitionResources.CustomResourceDefinitions;
        return ProtoWriter.Envelope(apiVersion, kind, ProtobufEncoder.Encode(obj, ProtobufBodyDecoder.MessageOf(resource)!));
    }

    private async Task<JsonNode> Created(string path, string json)
    {
        var (status, created) = await _server.SendBytesAsync(HttpMethod.Post, path, Body(json), Protobuf);
        Assert.True(status == HttpStatusCode.Created, $"{status}: {created}");
        return created!;
    }

    [Fact]
    public async Task A_node_and_its_status_are_written_in_protobuf()
    {
        var created = await Created("/api/v1/nodes", """
            {"apiVersion":"v1","kind":"Node","metadata":{"name":"node-a","labels":{"kubernetes.io/hostname":"node-a"}},
             "spec":{"podCIDR":"10.244.1.0/24","taints":[{"key":"dedicated","value":"gpu","effect":"NoSchedule"}]}}
            """);
        Assert.Equal("10.244.1.0/24", created["spec"]!["podCIDR"]!.ToString());
        Assert.Equal("gpu", created["spec"]!["taints"]![0]!["value"]!.ToString());

        var status = created.DeepClone().AsObject();
        status["status"] = JsonNode.Parse("""
            {"capacity":{"cpu":"4","memory":"8Gi"},"allocatable":{"cpu":"3800m","memory":"7Gi"},
             "conditions":[{"type":"Ready","status":"True","lastHeartbeatTime":"2024-05-01T10:05:00Z","lastTransitionTime":"2024-05-01T10:00:00Z","reason":"KubeletReady"}],
             "addresses":[{"type":"InternalIP","address":"172.18.0.2"}],"daemonEndpoints":{"kubeletEndpoint":{"Port":10250}},
             "nodeInfo":{"kubeletVersion":"v1.32.0","operatingSystem":"linux","architecture":"amd64"}}
            """);
        var (code, updated) = await _server.SendBytesAsync(HttpMethod.Put, "/api/v1/nodes/node-a/status", Body(status.ToJsonString()), Protobuf);
        Assert.True(code == HttpStatusCode.OK, $"{code}: {updated}");

        var (_, stored) = await _server.SendAsync(HttpMethod.Get, "/api/v1/nodes/node-a");
        Assert.Equal("3800m", stored!["status"]!["allocatable"]!["cpu"]!.ToString());
        Assert.Equal("KubeletReady", stored["status"]!["conditions"]![0]!["reason"]!.ToString());
        Assert.Equal(10250, (int)stored["status"]!["daemonEndpoints"]!["kubeletEndpoint"]!["Port"]!);
        Assert.Equal("v1.32.0", stored["status"]!["nodeInfo"]!["kubeletVersion"]!.ToString());
    }

    [Fact]
    public async Task Persistent_volumes_volume_attachments_and_storage_capacities_are_created_from_protobuf()
    {
        var pv = await Created("/api/v1/persistentvolumes", """
            {"apiVersion":"v1","kind":"PersistentVolume","metadata":{"name":"pv-1"},
             "spec":{"capacity":{"storage":"10Gi"},"accessModes":["ReadWriteOnce"],"persistentVolumeReclaimPolicy":"Retain",
               "storageClassName":"manual","csi":{"driver":"hostpath.csi.k8s.io","volumeHandle":"vol-1","volumeAttributes":{"a":"b"}},
               "nodeAffinity":{"required":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"kubernetes.io/hostname","operator":"In","values":["node-a"]}]}]}}}}
            """);
        Assert.Equal("vol-1", pv["spec"]!["csi"]!["volumeHandle"]!.ToString());
        Assert.Equal("node-a", pv["spec"]!["nodeAffinity"]!["required"]!["nodeSelectorTerms"]![0]!["matchExpressions"]![0]!["values"]![0]!.ToString());

        var attachment = await Created("/apis/storage.k8s.io/v1/volumeattachments", """
            {"apiVersion":"storage.k8s.io/v1","kind":"VolumeAttachment","metadata":{"name":"csi-0a1b"},
             "spec":{"attacher":"hostpath.csi.k8s.io","nodeName":"node-a","source":{"persistentVolumeName":"pv-1"}}}
            """);
        Assert.Equal("pv-1", attachment["spec"]!["source"]!["persistentVolumeName"]!.ToString());

        var withStatus = attachment.DeepClone().AsObject();
        withStatus["status"] = JsonNode.Parse("""{"attached":true,"attachmentMetadata":{"devicePath":"/dev/xvdba"}}""");
        var (code, updated) = await _server.SendBytesAsync(HttpMethod.Put, "/apis/storage.k8s.io/v1/volumeattachments/csi-0a1b/status",
            Body(withStatus.ToJsonString()), Protobuf);
        Assert.True(code == HttpStatusCode.OK, $"{code}: {updated}");
        Assert.True((bool)updated!["status"]!["attached"]!);

        var capacity = await Created("/apis/storage.k8s.io/v1/namespaces/default/csistoragecapacities", """
            {"apiVersion":"storage.k8s.io/v1","kind":"CSIStorageCapacity","metadata":{"name":"csisc-1","namespace":"default"},
             "nodeTopology":{"matchLabels":{"topology.hostpath.csi/node":"node-a"}},"storageClassName":"hostpath","capacity":"100Gi"}
            """);
        Assert.Equal("100Gi", capacity["capacity"]!.ToString());
    }

    [Fact]
    public async Task An_api_service_is_created_from_protobuf()
    {
        var apiService = await Created("/apis/apiregistration.k8s.io/v1/apiservices", """
            {"apiVersion":"apiregistration.k8s.io/v1","kind":"APIService","metadata":{"name":"v1.example.com"},
             "spec":{"group":"example.com","version":"v1","groupPriorityMinimum":1000,"versionPriority":15}}
            """);
        Assert.Equal(1000, (int)apiService["spec"]!["groupPriorityMinimum"]!);
        Assert.Equal("Local", apiService["status"]!["conditions"]![0]!["reason"]!.ToString());
    }

    [Fact]
    public async Task Admission_policies_are_created_from_protobuf_as_from_json()
    {
        const string policy = """
            {"apiVersion":"admissionregistration.k8s.io/v1","kind":"ValidatingAdmissionPolicy","metadata":{"name":"replicas"},
             "spec":{"failurePolicy":"Fail","matchConstraints":{"resourceRules":[{"operations":["CREATE"],"apiGroups":["apps"],"apiVersions":["v1"],"resources":["deployments"]}]},
               "validations":[{"expression":"object.spec.replicas <= 5"}]}}
            """;
        const string binding = """
            {"apiVersion":"admissionregistration.k8s.io/v1","kind":"ValidatingAdmissionPolicyBinding","metadata":{"name":"replicas"},
             "spec":{"policyName":"replicas","validationActions":["Deny"]}}
            """;
        foreach (var (path, json) in new[]
                 {
                     ("/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies", policy),
                     ("/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings", binding),
                 })
        {
            var (status, _) = await _server.SendBytesAsync(HttpMethod.Post, path, Body(json), Protobuf);
            Assert.Equal(HttpStatusCode.Created, status);
            var (getStatus, stored) = await _server.SendAsync(HttpMethod.Get, path + "/replicas");
            Assert.Equal(HttpStatusCode.OK, getStatus);
            var sent = JsonNode.Parse(json)!["spec"]!;
            foreach (var (key, value) in sent.AsObject())
                if (key != "matchConstraints") Assert.True(JsonNode.DeepEquals(value, stored!["spec"]![key]), key);
        }
        var (deployStatus, denied) = await _server.SendAsync(HttpMethod.Post, "/apis/apps/v1/namespaces/default/deployments", """
            {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"six"},"spec":{"replicas":6,"selector":{"matchLabels":{"app":"six"}},
             "template":{"metadata":{"labels":{"app":"six"}},"spec":{"containers":[{"name":"c","image":"nginx"}]}}}}
            """);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, deployStatus);
        Assert.Equal("deployments.apps \"six\" is forbidden: ValidatingAdmissionPolicy 'replicas' with binding 'replicas' denied request: " +
                     "failed expression: object.spec.replicas <= 5", denied!["message"]!.ToString());
    }

    [Fact]
    public async Task A_definition_is_created_from_protobuf_and_its_custom_resources_stay_json_only()
    {
        var crd = await Created("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", """
            {"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"widgets.example.com"},
             "spec":{"group":"example.com","scope":"Namespaced",
               "names":{"plural":"widgets","singular":"widget","kind":"Widget","listKind":"WidgetList"},
               "versions":[{"name":"v1","served":true,"storage":true,
                 "schema":{"openAPIV3Schema":{"type":"object","properties":{
                   "spec":{"type":"object","required":["size"],
                     "x-kubernetes-validations":[{"rule":"self.size <= 10","message":"too big"}],
                     "properties":{"size":{"type":"integer","minimum":1,"default":3},
                                   "tags":{"type":"array","items":{"type":"string"},"x-kubernetes-list-type":"set"},
                                   "extra":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}}}}}}]}}
            """);
        Assert.Equal("set", crd["spec"]!["versions"]![0]!["schema"]!["openAPIV3Schema"]!["properties"]!["spec"]!["properties"]!["tags"]!["x-kubernetes-list-type"]!.ToString());

        // the definition's schema works: defaults, validation rules
        JsonNode? widget = null;
        for (var tries = 0; tries < 200; tries++)
        {
            var (status, body) = await _server.SendAsync(HttpMethod.Post, "/apis/example.com/v1/namespaces/default/widgets",
                """{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"},"spec":{"tags":["a"]}}""");
            if (status == HttpStatusCode.Created) { widget = body; break; }
            await Task.Delay(50); // until the definition is Established
        }
        Assert.NotNull(widget);
        Assert.Equal(3, (int)widget["spec"]!["size"]!);
        var (refused, message) = await _server.SendAsync(HttpMethod.Post, "/apis/example.com/v1/namespaces/default/widgets",
            """{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"big"},"spec":{"size":11}}""");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused);
        Assert.Contains("too big", message!["message"]!.ToString());

        // a custom resource in protobuf: 415, naming JSON and YAML only
        var (code, answer) = await _server.SendBytesAsync(HttpMethod.Post, "/apis/example.com/v1/namespaces/default/widgets",
            ProtoWriter.Envelope("example.com/v1", "Widget", new ProtoWriter().Message(1, m => m.String(1, "p"))), Protobuf);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, code);
        Assert.EndsWith("accepted media types include: application/json, application/yaml (got \"application/vnd.kubernetes.protobuf\")",
            answer!["message"]!.ToString());
    }
}
