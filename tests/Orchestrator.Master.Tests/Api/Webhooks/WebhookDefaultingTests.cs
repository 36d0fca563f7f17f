using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using k8s;
using Orchestrator.Master.Tests.Api.CustomResources;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Webhooks;

/// <summary>Admission sees objects with their kind's defaults, as kube-apiserver decodes (and defaults) a body before
/// admission and defaults again what each mutating webhook returns: real HTTPS webhooks on loopback.</summary>
public sealed class WebhookDefaultingTests
{
    private const string Mutating = "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations";
    private const string Validating = "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations";
    private const string Pods = "/api/v1/namespaces/default/pods";

    /// <summary>A pod with none of the fields its kind defaults.</summary>
    private static string Pod(string name) =>
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"" + name + "\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"nginx\"}]}}";

    private static string Configuration(string kind, string name, string url, string caBundle, string group = "", string version = "v1",
        string resource = "pods") => $$$"""
        {"apiVersion":"admissionregistration.k8s.io/v1","kind":"{{{kind}}}","metadata":{"name":"{{{name}}}"},
         "webhooks":[{"name":"{{{name}}}.example.com","sideEffects":"None","admissionReviewVersions":["v1"],"failurePolicy":"Fail",
           "timeoutSeconds":5,"clientConfig":{"url":"{{{url}}}","caBundle":"{{{Convert.ToBase64String(Encoding.UTF8.GetBytes(caBundle))}}}"},
           "rules":[{"operations":["CREATE","UPDATE"],"apiGroups":["{{{group}}}"],"apiVersions":["{{{version}}}"],"resources":["{{{resource}}}"]}]}]}
        """;

    private static JsonObject Patch(string patch) => new()
    {
        ["allowed"] = true, ["patchType"] = "JSONPatch", ["patch"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(patch)),
    };

    /// <summary>/strip removes the pod's defaulted restartPolicy, dnsPolicy and its container's terminationMessagePath
    /// (or a CronTab's spec.replicas); /cluster-first denies a pod whose dnsPolicy is not ClusterFirst; the rest allow.</summary>
    private static JsonObject Answer(string path, JsonObject request) => path switch
    {
        "/strip" when request["kind"]!["kind"]!.GetValue<string>() == "CronTab" => Patch("""[{"op":"remove","path":"/spec/replicas"}]"""),
        "/strip" => Patch("""
            [{"op":"remove","path":"/spec/restartPolicy"},{"op":"remove","path":"/spec/dnsPolicy"},
             {"op":"remove","path":"/spec/containers/0/terminationMessagePath"}]
            """),
        "/cluster-first" when request["object"]?["spec"]?["dnsPolicy"]?.GetValue<string>() != "ClusterFirst" => new JsonObject
        {
            ["allowed"] = false, ["status"] = new JsonObject { ["code"] = 403, ["message"] = "dnsPolicy must be ClusterFirst" },
        },
        _ => new JsonObject { ["allowed"] = true },
    };

    private static void AssertPodDefaults(JsonNode? pod)
    {
        Assert.Equal("Always", pod!["spec"]!["restartPolicy"]!.GetValue<string>());
        Assert.Equal("ClusterFirst", pod["spec"]!["dnsPolicy"]!.GetValue<string>());
        Assert.Equal("/dev/termination-log", pod["spec"]!["containers"]![0]!["terminationMessagePath"]!.GetValue<string>());
        Assert.Equal("Always", pod["spec"]!["containers"]![0]!["imagePullPolicy"]!.GetValue<string>());
    }

    private static async Task CreatedAsync(ApiTestServer api, string path, string body)
    {
        var (status, answer) = await api.SendAsync(HttpMethod.Post, path, body);
        Assert.True(status == HttpStatusCode.Created, answer?.ToJsonString());
    }

    [Fact]
    public async Task A_mutating_webhook_receives_a_pod_with_its_kinds_defaults()
    {
        await using var hook = await WebhookServer.StartAsync(Answer);
        await using var api = await ApiTestServer.StartAsync();
        await CreatedAsync(api, Mutating, Configuration("MutatingWebhookConfiguration", "record", $"{hook.Address}record", hook.CaBundlePem));

        await CreatedAsync(api, Pods, Pod("plain"));
        var review = hook.Requests.Single()["request"]!;
        Assert.Equal("CREATE", review["operation"]!.GetValue<string>());
        AssertPodDefaults(review["object"]);
    }

    [Fact]
    public async Task An_autoscaling_v1_object_reaches_a_webhook_with_its_versions_default()
    {
        await using var hook = await WebhookServer.StartAsync(Answer);
        await using var api = await ApiTestServer.StartAsync();
        await CreatedAsync(api, Validating, Configuration("ValidatingWebhookConfiguration", "record", $"{hook.Address}record",
            hook.CaBundlePem, "autoscaling", "v1", "horizontalpodautoscalers"));

        await CreatedAsync(api, "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers", """
            {"apiVersion":"autoscaling/v1","kind":"HorizontalPodAutoscaler","metadata":{"name":"web"},
             "spec":{"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"web"},"maxReplicas":5}}
            """);
        var review = hook.Requests.Single()["request"]!;
        Assert.Equal("autoscaling/v1", review["object"]!["apiVersion"]!.GetValue<string>());
        // autoscaling/v1's SetDefaults_HorizontalPodAutoscaler
        Assert.Equal(1, review["object"]!["spec"]!["minReplicas"]!.GetValue<int>());
    }

    [Fact]
    public async Task Defaults_a_webhook_removes_are_applied_again_before_the_next_webhook_and_the_store()
    {
        await using var hook = await WebhookServer.StartAsync(Answer);
        await using var api = await ApiTestServer.StartAsync();
        // configurations run in their names' order: "a-strip" first, then "b-record"
        await CreatedAsync(api, Mutating, Configuration("MutatingWebhookConfiguration", "a-strip", $"{hook.Address}strip", hook.CaBundlePem));
        await CreatedAsync(api, Mutating, Configuration("MutatingWebhookConfiguration", "b-record", $"{hook.Address}record", hook.CaBundlePem));
        await CreatedAsync(api, Validating, Configuration("ValidatingWebhookConfiguration", "c-validate", $"{hook.Address}validate", hook.CaBundlePem));

        await CreatedAsync(api, Pods, Pod("stripped"));
        var reviews = hook.Requests.Select(r => r["request"]!).ToList();
        Assert.Equal(3, reviews.Count);
        // the strip webhook's patch applied to a defaulted pod (a remove of a missing field would not apply), then defaulted again
        AssertPodDefaults(reviews[1]["object"]);
        AssertPodDefaults(reviews[2]["object"]);
        var (_, stored) = await api.SendAsync(HttpMethod.Get, Pods + "/stripped");
        AssertPodDefaults(stored);
    }

    [Fact]
    public async Task A_validating_webhook_sees_defaults_on_create_update_patch_apply_and_dry_run()
    {
        await using var hook = await WebhookServer.StartAsync(Answer);
        await using var api = await ApiTestServer.StartAsync();
        await CreatedAsync(api, Validating, Configuration("ValidatingWebhookConfiguration", "cluster-first", $"{hook.Address}cluster-first", hook.CaBundlePem));

        // the webhook is in force: a pod that states another dnsPolicy is refused
        var (status, refused) = await api.SendAsync(HttpMethod.Post, Pods, Pod("other").Replace("\"containers\"", "\"dnsPolicy\":\"Default\",\"containers\""));
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Contains("dnsPolicy must be ClusterFirst", refused!["message"]!.GetValue<string>());

        Assert.Equal(HttpStatusCode.Created, (await api.SendAsync(HttpMethod.Post, Pods + "?dryRun=All", Pod("dry"))).Status);
        await CreatedAsync(api, Pods, Pod("web"));

        // an update whose body leaves the defaults out
        var (_, stored) = await api.SendAsync(HttpMethod.Get, Pods + "/web");
        var update = JsonNode.Parse(Pod("web"))!;
        update["metadata"]!["resourceVersion"] = stored!["metadata"]!["resourceVersion"]!.DeepClone();
        update["metadata"]!["labels"] = new JsonObject { ["updated"] = "yes" };
        var (updated, body) = await api.SendAsync(HttpMethod.Put, Pods + "/web", update.ToJsonString());
        Assert.True(updated == HttpStatusCode.OK, body?.ToJsonString());

        // a patch that removes a default: kube's patch handler defaults the patched object
        (updated, body) = await api.SendAsync(HttpMethod.Patch, Pods + "/web", """[{"op":"remove","path":"/spec/dnsPolicy"}]""",
            "application/json-patch+json");
        Assert.True(updated == HttpStatusCode.OK, body?.ToJsonString());

        // server-side apply, creating
        var (applied, appliedBody) = await api.SendAsync(HttpMethod.Patch, Pods + "/applied?fieldManager=test", Pod("applied"),
            "application/apply-patch+yaml");
        Assert.True(applied == HttpStatusCode.Created, appliedBody?.ToJsonString());

        var operations = hook.Requests.Select(r => r["request"]!).Where(r => r["name"]?.GetValue<string>() != "other")
            .Select(r => (r["operation"]!.GetValue<string>(), r["dryRun"]!.GetValue<bool>())).ToList();
        Assert.Equal([("CREATE", true), ("CREATE", false), ("UPDATE", false), ("UPDATE", false), ("CREATE", false)], operations);
    }

    [Fact]
    public async Task A_custom_resources_schema_defaults_are_visible_to_its_webhooks_and_its_unknown_fields_are_not()
    {
        await using var hook = await WebhookServer.StartAsync(Answer);
        await using var api = await ApiTestServer.StartAsync();
        await CreatedAsync(api, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", KubernetesJson.Serialize(CronTabs.Definition()));
        const string crontabs = "/apis/stable.example.com/v1/namespaces/default/crontabs";
        for (var waited = 0; (await api.SendAsync(HttpMethod.Get, crontabs)).Status != HttpStatusCode.OK; waited += 50)
        {
            Assert.True(waited < 30_000, "the definition was not established");
            await Task.Delay(50);
        }
        await CreatedAsync(api, Mutating, Configuration("MutatingWebhookConfiguration", "a-strip", $"{hook.Address}strip", hook.CaBundlePem,
            CronTabs.Group, "v1", CronTabs.Plural));
        await CreatedAsync(api, Mutating, Configuration("MutatingWebhookConfiguration", "b-record", $"{hook.Address}record", hook.CaBundlePem,
            CronTabs.Group, "v1", CronTabs.Plural));

        await CreatedAsync(api, crontabs, """
            {"apiVersion":"stable.example.com/v1","kind":"CronTab","metadata":{"name":"nightly"},"spec":{"cronSpec":"* * * * */5","colour":"red"}}
            """);
        var reviews = hook.Requests.Select(r => r["request"]!["object"]!).ToList();
        Assert.Equal(2, reviews.Count);
        // pruned as kube decodes the body (the schema declares no spec.colour), before any webhook
        Assert.All(reviews, review => Assert.Null(review["spec"]!["colour"]));
        Assert.Equal("* * * * */5", reviews[0]["spec"]!["cronSpec"]!.GetValue<string>());
        Assert.Equal(1, reviews[0]["spec"]!["replicas"]!.GetValue<int>());
        Assert.Equal(10, reviews[0]["spec"]!["maxReplicas"]!.GetValue<int>());
        // removed by the first webhook, defaulted again before the second
        Assert.Equal(1, reviews[1]["spec"]!["replicas"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_validating_admission_policy_on_defaulted_fields_admits_a_pod_that_leaves_them_out()
    {
        await using var api = await ApiTestServer.StartAsync();
        await CreatedAsync(api, "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies", """
            {"apiVersion":"admissionregistration.k8s.io/v1","kind":"ValidatingAdmissionPolicy","metadata":{"name":"kube-defaults"},
             "spec":{"failurePolicy":"Fail",
               "matchConstraints":{"resourceRules":[{"apiGroups":[""],"apiVersions":["v1"],"operations":["CREATE","UPDATE"],"resources":["pods"]}]},
               "validations":[{"expression":"object.spec.dnsPolicy == 'ClusterFirst' && object.spec.restartPolicy == 'Always' && object.spec.containers.all(c, c.terminationMessagePath == '/dev/termination-log')",
                               "message":"pods keep kube's defaults"}]}}
            """);
        await CreatedAsync(api, "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings", """
            {"apiVersion":"admissionregistration.k8s.io/v1","kind":"ValidatingAdmissionPolicyBinding","metadata":{"name":"kube-defaults"},
             "spec":{"policyName":"kube-defaults","validationActions":["Deny"]}}
            """);

        var (status, refused) = await api.SendAsync(HttpMethod.Post, Pods, Pod("never").Replace("\"containers\"", "\"restartPolicy\":\"Never\",\"containers\""));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        Assert.Contains("pods keep kube's defaults", refused!["message"]!.GetValue<string>());
        await CreatedAsync(api, Pods, Pod("plain"));
    }
}
