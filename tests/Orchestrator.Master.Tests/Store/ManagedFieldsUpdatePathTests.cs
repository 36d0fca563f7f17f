using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;
using Xunit;

namespace Orchestrator.Master.Tests.Store;

/// <summary>
/// The store's update path computes managed fields on the serialized documents and keeps the entries a write takes
/// nothing from as they are. These pin its results to those of the JSON-tree computation it replaces (the one server-side
/// apply still uses: <see cref="ManagedFields.ChangedBetween"/>, <see cref="ManagedFields.RemovedBetween"/>, and the
/// entry-by-entry subtraction written out below), for the writes the store sees most: creates, bindings, status
/// reports, the same manager again, and the odd corners of the JSON.
/// </summary>
public sealed class ManagedFieldsUpdatePathTests
{
    private static readonly DateTime Now = new(2026, 12, 4, 3, 0, 0, DateTimeKind.Utc);

    /// <summary>The former RecordUpdate, step by step: both objects as JSON trees, every other manager's set
    /// subtracted and re-encoded.</summary>
    private static void ReferenceRecordUpdate(IKubernetesObject<V1ObjectMeta> obj, IKubernetesObject<V1ObjectMeta>? old, string manager,
        string? subresource, DateTime now)
    {
        var next = JsonNode.Parse(KubernetesJson.Serialize(obj)) as JsonObject ?? new JsonObject();
        var previous = old is null ? null : JsonNode.Parse(KubernetesJson.Serialize(old)) as JsonObject ?? new JsonObject();
        var changed = ManagedFields.ChangedBetween(previous, next);
        var removed = ManagedFields.RemovedBetween(previous, next);
        if (changed.Count == 0 && removed.Count == 0 && old is not null) return;
        var entries = new List<V1ManagedFieldsEntry>();
        V1ManagedFieldsEntry? own = null;
        foreach (var entry in obj.Metadata.ManagedFields ?? [])
        {
            if (entry.Manager == manager && entry.Operation == ManagedFields.Update && entry.ApiVersion == obj.ApiVersion &&
                (entry.Subresource ?? "") == (subresource ?? ""))
            {
                own = entry;
                entries.Add(entry);
                continue;
            }
            var set = ManagedFields.Subtract(ManagedFields.Subtract(ManagedFields.FieldsOf(entry), changed), removed);
            if (set.Count == 0) continue;
            entry.FieldsV1 = Element(set);
            entries.Add(entry);
        }
        var ownSet = ManagedFields.Subtract(ManagedFields.Union(own is null ? new JsonObject() : ManagedFields.FieldsOf(own), changed), removed);
        if (own is not null) entries.Remove(own);
        if (ownSet.Count > 0)
            entries.Add(new V1ManagedFieldsEntry
            {
                Manager = manager, Operation = ManagedFields.Update, ApiVersion = obj.ApiVersion, Time = now, FieldsType = "FieldsV1",
                FieldsV1 = Element(ownSet), Subresource = subresource,
            });
        obj.Metadata.ManagedFields = entries.Count > 0 ? entries : null;
    }

    private static JsonElement Element(JsonObject set) => JsonDocument.Parse(set.ToJsonString()).RootElement.Clone();

    /// <summary>Records the write both ways on copies and asserts the same object comes out; returns it (the store's
    /// next stored object).</summary>
    private static T Record<T>(T next, T? old, string manager, string? subresource, bool useTexts = true)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        if (old is not null) ManagedFields.TakeBaseline(next, old);
        var expected = KubeObjects.Clone(next);
        ReferenceRecordUpdate(expected, old, manager, subresource, Now);
        var actual = KubeObjects.Clone(next);
        if (useTexts)
            ManagedFields.RecordUpdate(actual, old, manager, subresource, Now, System.Text.Encoding.UTF8.GetBytes(KubernetesJson.Serialize(actual)),
                old is null ? null : System.Text.Encoding.UTF8.GetBytes(KubernetesJson.Serialize(old)));
        else ManagedFields.RecordUpdate(actual, old, manager, subresource, Now);
        Assert.Equal(KubernetesJson.Serialize(expected), KubernetesJson.Serialize(actual));
        return actual;
    }

    private static T Change<T>(T stored, Action<T> change) where T : class, IKubernetesObject<V1ObjectMeta>
    {
        var next = KubeObjects.Clone(stored);
        next.Metadata.ManagedFields = null;
        change(next);
        return next;
    }

    private static V1Pod NewPod() => new()
    {
        ApiVersion = "v1",
        Kind = "Pod",
        Metadata = new V1ObjectMeta
        {
            Name = "web-1", NamespaceProperty = "default", Uid = "u-1", ResourceVersion = "7",
            Labels = new Dictionary<string, string> { ["app"] = "web", ["pod-template-hash"] = "abc" },
            OwnerReferences = [new V1OwnerReference { ApiVersion = "apps/v1", Kind = "ReplicaSet", Name = "web", Uid = "rs-1", Controller = true }],
        },
        Spec = new V1PodSpec
        {
            Containers =
            [
                new V1Container
                {
                    Name = "dns", Image = "coredns:1.11",
                    // the same merge key twice (53/TCP and 53/UDP), as kube allows
                    Ports = [new V1ContainerPort { ContainerPort = 53, Protocol = "TCP" }, new V1ContainerPort { ContainerPort = 53, Protocol = "UDP" }],
                    Env = [new V1EnvVar { Name = "A", Value = "1" }],
                    Resources = new V1ResourceRequirements { Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("100m") } },
                },
            ],
            Tolerations = [new V1Toleration { Key = "k", OperatorProperty = "Exists" }],
        },
    };

    [Fact]
    public void A_pods_life_create_binding_status_reports_and_edits_records_what_the_tree_computation_records()
    {
        var created = Record(NewPod(), null, "kube-controller-manager", null);

        var bound = Record(Change(created, p =>
        {
            p.Spec.NodeName = "node-7";
            p.Status = new V1PodStatus { Conditions = [new V1PodCondition { Type = "PodScheduled", Status = "True", LastTransitionTime = Now }] };
        }), created, "kube-scheduler", "binding");
        Assert.Equal(2, bound.Metadata.ManagedFields.Count);

        var running = Record(Change(bound, p =>
        {
            p.Status.Phase = "Running";
            p.Status.HostIP = "10.0.0.7";
            p.Status.PodIP = "10.244.7.2";
            p.Status.Conditions.Add(new V1PodCondition { Type = "Ready", Status = "False", LastTransitionTime = Now });
            p.Status.ContainerStatuses = [new V1ContainerStatus { Name = "dns", Image = "coredns:1.11", ImageID = "", Ready = false, RestartCount = 0 }];
        }), bound, "kubelet", "status");

        // the same manager again, on the same subresource: its own set grows, the others' stay
        var ready = Record(Change(running, p =>
        {
            p.Status.Conditions.Single(c => c.Type == "Ready").Status = "True";
            p.Status.ContainerStatuses[0].Ready = true;
        }), running, "kubelet", "status");
        Assert.Equal(["kube-controller-manager", "kube-scheduler", "kubelet"], ready.Metadata.ManagedFields.Select(e => e.Manager).OrderBy(m => m));

        // a change of the scheduler's condition by the kubelet takes that condition's status from the scheduler
        var retaken = Record(Change(ready, p => p.Status.Conditions.Single(c => c.Type == "PodScheduled").Status = "False"),
            ready, "kubelet", "status", useTexts: false);
        Assert.DoesNotContain("f:status\":{}", ManagedFields.FieldsOf(retaken.Metadata.ManagedFields.Single(e => e.Manager == "kube-scheduler"))["f:status"]!
            ["f:conditions"]!["""k:{"type":"PodScheduled"}"""]!.ToJsonString());

        // an edit that changes the image and drops a label the controller set
        var edited = Record(Change(retaken, p =>
        {
            p.Spec.Containers[0].Image = "coredns:1.12";
            p.Metadata.Labels.Remove("pod-template-hash");
            p.Metadata.Labels["tier"] = "dns";
        }), retaken, "kubectl-edit", null);

        // the last port of the duplicate key goes, and an env var: removals leave every manager
        Record(Change(edited, p =>
        {
            p.Spec.Containers[0].Ports = [p.Spec.Containers[0].Ports[0]];
            p.Spec.Containers[0].Env = null;
        }), edited, "kube-controller-manager", null);
    }

    [Fact]
    public void A_binding_gives_the_scheduler_the_node_and_the_condition_and_leaves_the_creators_entry_as_it_was()
    {
        var created = Record(Objects.Pod("web-2"), null, "kube-controller-manager", null);
        var creator = KubernetesJson.Serialize(created.Metadata.ManagedFields.Single());
        var bound = Record(Change(created, p =>
        {
            p.Spec.NodeName = "node-7";
            p.Status = new V1PodStatus { Conditions = [new V1PodCondition { Type = "PodScheduled", Status = "True", LastTransitionTime = Now }] };
        }), created, "kube-scheduler", "binding");

        Assert.Equal(creator, KubernetesJson.Serialize(bound.Metadata.ManagedFields.Single(e => e.Manager == "kube-controller-manager")));
        var scheduler = bound.Metadata.ManagedFields.Single(e => e.Manager == "kube-scheduler");
        Assert.Equal(("Update", "binding", "v1", Now), (scheduler.Operation, scheduler.Subresource, scheduler.ApiVersion, scheduler.Time));
        Assert.Equal("""{"f:spec":{"f:nodeName":{}},"f:status":{"f:conditions":{"k:{\u0022type\u0022:\u0022PodScheduled\u0022}":{".":{},"f:lastTransitionTime":{},"f:status":{},"f:type":{}}}}}""",
            ManagedFields.FieldsOf(scheduler).ToJsonString());
    }

    [Fact]
    public void Entries_the_client_sent_empty_or_unreadable_are_dropped_as_before()
    {
        var created = Record(NewPod(), null, "kube-controller-manager", null);
        var next = Change(created, p => p.Spec.NodeName = "node-1");
        next.Metadata.ManagedFields =
        [
            .. created.Metadata.ManagedFields,
            new V1ManagedFieldsEntry { Manager = "empty", Operation = "Update", ApiVersion = "v1", FieldsType = "FieldsV1", FieldsV1 = JsonDocument.Parse("{}").RootElement.Clone() },
            new V1ManagedFieldsEntry { Manager = "none", Operation = "Update", ApiVersion = "v1", FieldsType = "FieldsV1" },
            new V1ManagedFieldsEntry { Manager = "text", Operation = "Update", ApiVersion = "v1", FieldsType = "FieldsV1", FieldsV1 = JsonDocument.Parse("\"x\"").RootElement.Clone() },
            new V1ManagedFieldsEntry { Manager = "other", Operation = "Apply", ApiVersion = "v1", FieldsType = "FieldsV1",
                FieldsV1 = JsonDocument.Parse("""{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:nodeName":{}}}""").RootElement.Clone() },
        ];
        var recorded = Record(next, created, "kube-scheduler", "binding");
        Assert.Equal(["kube-controller-manager", "kube-scheduler", "other"], recorded.Metadata.ManagedFields.Select(e => e.Manager).OrderBy(m => m));
        // the applier loses spec.nodeName to the scheduler, keeps its label
        Assert.Equal("""{"f:metadata":{"f:labels":{"f:app":{}}}}""",
            ManagedFields.FieldsOf(recorded.Metadata.ManagedFields.Single(e => e.Manager == "other")).ToJsonString());
    }

    [Fact]
    public void A_deployment_whose_atomic_list_only_reorders_a_map_and_whose_status_grows_records_the_same()
    {
        var deployment = Objects.Deployment("web");
        deployment.Spec.Template.Spec.TopologySpreadConstraints =
        [
            new V1TopologySpreadConstraint
            {
                TopologyKey = "zone", MaxSkew = 1, WhenUnsatisfiable = "ScheduleAnyway",
                LabelSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["a"] = "1", ["b"] = "2" } },
            },
        ];
        deployment.Spec.Template.Spec.Affinity = new V1Affinity
        {
            PodAntiAffinity = new V1PodAntiAffinity
            {
                RequiredDuringSchedulingIgnoredDuringExecution =
                [
                    new V1PodAffinityTerm { TopologyKey = "host", LabelSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["x"] = "1", ["y"] = "2" } } },
                ],
            },
        };
        var created = Record(deployment, null, "kubectl-client-side-apply", null);
        var reordered = Record(Change(created, d =>
        {
            d.Spec.Template.Spec.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution[0].LabelSelector.MatchLabels =
                new Dictionary<string, string> { ["y"] = "2", ["x"] = "1" };
            d.Spec.Template.Spec.TopologySpreadConstraints[0].LabelSelector.MatchLabels = new Dictionary<string, string> { ["b"] = "2", ["a"] = "1" };
        }), created, "someone", null);
        var status = Record(Change(reordered, d => d.Status = new V1DeploymentStatus
        {
            Replicas = 1, ObservedGeneration = 1,
            Conditions = [new V1DeploymentCondition { Type = "Available", Status = "True", Reason = "MinimumReplicasAvailable", LastUpdateTime = Now }],
        }), reordered, "kube-controller-manager", "status");
        Record(Change(status, d => d.Status.Replicas = 2), status, "kube-controller-manager", "status");
    }

    public static TheoryData<string?, string> Documents() => new()
    {
        { null, """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","namespace":"n","uid":"u","labels":{"x":"1"}},"data":{"k":"v"}}""" },
        { """{"kind":"X","metadata":{"name":"a","resourceVersion":"1"}}""", """{"kind":"X","metadata":{"name":"a","labels":{"x":"1"}}}""" },
        { """{"kind":"X","metadata":{"name":"a","labels":{"x":"1"}}}""", """{"kind":"Y","metadata":{"name":"a","resourceVersion":"2"}}""" },
        { """{"spec":{"n":1.0,"m":10}}""", """{"spec":{"n":1,"m":1e1}}""" },
        { """{"spec":{"s":"\u0041","t":"<"}}""", """{"spec":{"s":"A","t":"\u003c"}}""" },
        { """{"spec":{"a":null,"b":1,"c":{"d":null}}}""", """{"spec":{"a":1,"b":null,"c":null}}""" },
        { """{"spec":{"a":[1],"containers":[{"name":"a"}]}}""", """{"spec":{"a":{"x":1},"containers":{"name":"a"}}}""" },
        { """{"spec":{"a":{"x":1},"containers":{"name":"a"}}}""", """{"spec":{"a":[1],"containers":[{"name":"a"}]}}""" },
        { """{"spec":{"containers":[{"name":"a","image":"x"},{"name":"a","image":"y"},{"image":"z"},3,null,{"name":null}]}}""",
          """{"spec":{"containers":[{"name":"a","image":"y"},{"name":"a","image":"x"},{"name":"b"},{"name":7,"image":"q"}]}}""" },
        { """{"spec":{"containers":[{"name":"a","image":"x"},{"name":"a","image":"y"}]}}""",
          """{"spec":{"containers":[{"name":"a","image":"x"},{"name":"a","image":"y"}]}}""" },
        { """{"spec":{"ports":[{"port":80,"protocol":"TCP"}],"containers":[{"name":"c","ports":[{"containerPort":53,"protocol":"TCP"},{"containerPort":53,"protocol":"UDP"}]}]}}""",
          """{"spec":{"ports":[{"port":80,"protocol":"UDP"}],"containers":[{"name":"c","ports":[{"containerPort":53,"protocol":"UDP"}]}]}}""" },
        { """{"spec":{"containers":[{"name":"a+b","image":"x"},{"name":"\u00fc/<x>","image":"y"},{"name":"Web-1.x_y:z/9"}]}}""",
          """{"spec":{"containers":[{"name":"a+b","image":"z"},{"name":"Web-1.x_y:z/9","image":"q"},{"name":"\u00fc/<x>","image":"y"}]}}""" },
        { """{"spec":{"nodeName":"a","containers":[{"name":"c","ports":[{"containerPort":53,"protocol":"TCP"},{"containerPort":53,"protocol":"UDP"}]}]}}""",
          """{"spec":{"nodeName":"b","containers":[{"name":"c","ports":[{"containerPort":53,"protocol":"TCP"},{"containerPort":53,"protocol":"UDP"}]}]}}""" },
        { """{"spec":{"nodeName":"a","containers":[{"name":"A","image":"x"},{"name":"\u0041","image":"y"}]}}""",
          """{"spec":{"nodeName":"b","containers":[{"name":"A","image":"x"},{"name":"\u0041","image":"y"}]}}""" },
        { """{"spec":{"nodeName":"a","containers":[{"name":"c","env":[{"name":"x","value":"1"}]}],"tolerations":[{"key":"k"}]}}""",
          """{"spec":{"nodeName":"b","containers":[{"name":"c","env":[{"name":"x","value":"1"}]}],"tolerations":[{"key":"k"}]}}""" },
        { """{"spec":{"tolerations":[{"key":"a","value":"b"}]}}""", """{"spec":{"tolerations":[{"value":"b","key":"a"}]}}""" },
        { """{"metadata":{"name":"a","uid":"u","labels":{}}}""", """{"metadata":{"name":"a","uid":"u"}}""" },
        { """{"metadata":"x","spec":{"a":1}}""", """{"metadata":{"annotations":{"a":"b"}},"spec":{"a":1}}""" },
        { "[1]", """{"spec":{"a":1}}""" },
        { "null", "null" },
        { """{"status":{"conditions":[{"type":"Ready","status":"True"}],"containerStatuses":[{"name":"c","ready":true}]}}""",
          """{"status":{"conditions":[{"type":"Ready","status":"False"},{"type":"Scheduled","status":"True"}],"containerStatuses":[{"name":"c","ready":true,"started":true}]}}""" },
        { """{"spec":{"template":{"metadata":{"labels":{"a":"1"}},"spec":{"volumes":[{"name":"v","emptyDir":{}}]}}}}""",
          """{"spec":{"template":{"metadata":{"labels":{"a":"1","b":"2"}},"spec":{"volumes":[{"name":"v","emptyDir":{"medium":"Memory"}},{"name":"w","emptyDir":{}}]}}}}""" },
    };

    [Theory]
    [MemberData(nameof(Documents))]
    public void The_sets_of_an_update_computed_on_the_documents_are_those_of_the_trees(string? previous, string next)
    {
        static JsonObject Comparable(string json) => JsonNode.Parse(json) as JsonObject ?? new JsonObject();
        var (changed, removed) = ManagedFields.UpdateSets(previous, next);

        Assert.Equal(ManagedFields.ChangedBetween(previous is null ? null : Comparable(previous), Comparable(next)).ToJsonString(), changed.ToJsonString());
        Assert.Equal(ManagedFields.RemovedBetween(previous is null ? null : Comparable(previous), Comparable(next)).ToJsonString(), removed.ToJsonString());
        // and the other way round
        if (previous is not null)
        {
            var (back, gone) = ManagedFields.UpdateSets(next, previous);
            Assert.Equal(ManagedFields.ChangedBetween(Comparable(next), Comparable(previous)).ToJsonString(), back.ToJsonString());
            Assert.Equal(ManagedFields.RemovedBetween(Comparable(next), Comparable(previous)).ToJsonString(), gone.ToJsonString());
        }
    }

    /// <summary>Every document of <see cref="Documents"/> as a create: the fast path's set is the bytes the general path
    /// encodes, or it declines (a name or a keyed list's key twice).</summary>
    public static TheoryData<string> Creates()
    {
        var data = new TheoryData<string>();
        var seen = new HashSet<string>();
        foreach (var row in Documents())
            foreach (var document in new[] { (string?)row[0], (string)row[1]! })
                if (document is not null && seen.Add(document)) data.Add(document);
        return data;
    }

    [Theory]
    [MemberData(nameof(Creates))]
    public void A_creates_set_written_straight_from_the_document_is_the_general_paths(string document)
    {
        var general = Element(ManagedFields.UpdateSets(null, document).Changed).GetRawText();
        if (ManagedFields.CreateSet(document) is { } fast) Assert.Equal(general, fast.GetRawText());
        else Assert.True(RepeatsAKey(document), $"the fast path declined {document}");
    }

    /// <summary>Whether a list in the document holds two objects with the same "name" or "containerPort" (the keys of
    /// the lists in <see cref="Documents"/>): what the fast path must decline.</summary>
    private static bool RepeatsAKey(string document)
    {
        static bool Repeats(JsonNode? node) => node switch
        {
            JsonObject obj => obj.Any(p => Repeats(p.Value)),
            JsonArray list => list.Any(Repeats) || new[] { "name", "containerPort" }.Any(key =>
            {
                var values = list.OfType<JsonObject>().Select(e => e[key]).OfType<JsonValue>().Select(v => v.ToString()).ToList();
                return values.Count != values.Distinct().Count();
            }),
            _ => false,
        };
        return Repeats(JsonNode.Parse(document));
    }

    [Fact]
    public void The_fast_path_declines_a_repeated_property_name_and_a_repeated_key_and_the_general_path_records_them()
    {
        Assert.Null(ManagedFields.CreateSet("""{"spec":{"a":1,"a":2}}"""));
        Assert.Null(ManagedFields.CreateSet("""{"spec":{"containers":[{"name":"x"},{"name":"x","image":"i"}]}}"""));
        Assert.NotNull(ManagedFields.CreateSet("""{"spec":{"containers":[{"name":"x"},{"name":"y","image":"i"}]}}"""));
        // NewPod's container has port 53 twice (TCP and UDP): the create goes the general way and records the same
        var pod = NewPod();
        Assert.Null(ManagedFields.CreateSet(KubernetesJson.Serialize(pod)));
        Record(pod, null, "kube-controller-manager", null);
    }

    public static TheoryData<string> CreatedObjects() => new()
    {
        // a ReplicaSet's pod as the controller makes it, an event, a node with its status, a service, a deployment, an empty object
        """{"apiVersion":"v1","kind":"Pod","metadata":{"generateName":"web-","name":"web-x1","namespace":"default","labels":{"app":"web"},"ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"web","uid":"r","controller":true,"blockOwnerDeletion":true}]},"spec":{"containers":[{"name":"app","image":"app:1","ports":[{"containerPort":80,"protocol":"TCP"}],"env":[{"name":"A","value":"1"},{"name":"B","valueFrom":{"fieldRef":{"fieldPath":"status.podIP"}}}],"resources":{"requests":{"cpu":"100m"}}}],"restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","schedulerName":"default-scheduler","tolerations":[{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute","tolerationSeconds":300}],"enableServiceLinks":true,"priority":0},"status":{"phase":"Pending"}}""",
        """{"apiVersion":"v1","kind":"Event","metadata":{"name":"web-x1.1","namespace":"default"},"involvedObject":{"kind":"Pod","name":"web-x1","namespace":"default"},"reason":"Scheduled","message":"Successfully assigned default/web-x1 to node-1","source":{"component":"default-scheduler"},"count":1,"type":"Normal"}""",
        """{"apiVersion":"v1","kind":"Node","metadata":{"name":"node-1","labels":{"kubernetes.io/hostname":"node-1"}},"spec":{"taints":[{"key":"a","effect":"NoSchedule"}]},"status":{"capacity":{"cpu":"2","pods":"110"},"conditions":[{"type":"Ready","status":"True","lastHeartbeatTime":"2026-12-04T03:00:00Z"}],"addresses":[{"type":"InternalIP","address":"10.0.0.1"}],"nodeInfo":{"kubeletVersion":"v1.32.0"}}}""",
        """{"apiVersion":"v1","kind":"Service","metadata":{"name":"s","namespace":"default","annotations":{"a":"b"}},"spec":{"selector":{"app":"web"},"ports":[{"name":"http","port":80,"protocol":"TCP","targetPort":8080},{"name":"dns","port":53,"protocol":"UDP"}],"type":"ClusterIP","clusterIPs":["10.96.0.10"]}}""",
        """{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","namespace":"default","generation":1},"spec":{"replicas":3,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"app","image":"app:1"}],"volumes":[{"name":"v","emptyDir":{}}]}},"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":"25%"}}}}""",
        """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","namespace":"default","uid":"u","resourceVersion":"3"}}""",
    };

    [Theory]
    [MemberData(nameof(CreatedObjects))]
    public void A_create_through_the_fast_path_records_what_the_difference_and_the_tree_computations_record(string json)
    {
        var obj = (IKubernetesObject<V1ObjectMeta>)KubeObjects.Deserialize(json, Kinds[JsonNode.Parse(json)!["kind"]!.GetValue<string>()]);
        Assert.NotNull(ManagedFields.CreateSet(KubernetesJson.Serialize(obj)));
        var byDifference = KubeObjects.CloneObject(obj);
        ManagedFields.RecordUpdateByDifference(byDifference, null, "kube-controller-manager", null, Now);
        var fast = KubeObjects.CloneObject(obj);
        ManagedFields.RecordUpdate(fast, null, "kube-controller-manager", null, Now);
        Assert.Equal(KubernetesJson.Serialize(byDifference), KubernetesJson.Serialize(fast));
        var tree = KubeObjects.CloneObject(obj);
        ReferenceRecordUpdate(tree, null, "kube-controller-manager", null, Now);
        Assert.Equal(KubernetesJson.Serialize(tree), KubernetesJson.Serialize(fast));
        Assert.Equal(json.Contains("\"spec\"") || json.Contains("\"data\"") || json.Contains("\"reason\"") || json.Contains("\"labels\""),
            fast.Metadata.ManagedFields is { Count: 1 });
    }

    private static readonly Dictionary<string, Type> Kinds = new()
    {
        ["Pod"] = typeof(V1Pod), ["Event"] = typeof(Corev1Event), ["Node"] = typeof(V1Node), ["Service"] = typeof(V1Service),
        ["Deployment"] = typeof(V1Deployment), ["ConfigMap"] = typeof(V1ConfigMap),
    };
}
