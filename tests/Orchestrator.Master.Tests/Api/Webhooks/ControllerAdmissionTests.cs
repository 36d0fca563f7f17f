using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Akka.Actor;
using Microsoft.Extensions.DependencyInjection;
using Orchestrator.Master.Api.Webhooks;
using Orchestrator.Master.Controllers;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Webhooks;

/// <summary>The controllers' writes through the admission webhooks (<see cref="ControllerAdmissionGateway"/>): a real
/// ReplicaSet controller, the real store and API, and real HTTPS webhooks on loopback.</summary>
public sealed class ControllerAdmissionTests
{
    private const string ReplicaSets = "/apis/apps/v1/namespaces/default/replicasets";
    private const string Pods = "/api/v1/namespaces/default/pods";

    private static string PodWebhook(string kind, string name, string url, string caBundle, string failurePolicy = "Fail") => $$$"""
        {"apiVersion":"admissionregistration.k8s.io/v1","kind":"{{{kind}}}","metadata":{"name":"{{{name}}}"},
         "webhooks":[{"name":"{{{name}}}.example.com","sideEffects":"None","admissionReviewVersions":["v1"],"failurePolicy":"{{{failurePolicy}}}",
           "timeoutSeconds":5,"clientConfig":{"url":"{{{url}}}","caBundle":"{{{Convert.ToBase64String(Encoding.UTF8.GetBytes(caBundle))}}}"},
           "rules":[{"operations":["CREATE"],"apiGroups":[""],"apiVersions":["v1"],"resources":["pods"]}]}]}
        """;

    private static string ReplicaSet(string name, int replicas) =>
        "{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"metadata\":{\"name\":\"" + name + "\"},\"spec\":{\"replicas\":" + replicas +
        ",\"selector\":{\"matchLabels\":{\"app\":\"" + name + "\"}},\"template\":{\"metadata\":{\"labels\":{\"app\":\"" + name +
        "\"}},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"nginx\"}]}}}}";

    private static JsonObject Answer(string path, JsonObject request) => path switch
    {
        "/sidecar" => new JsonObject
        {
            ["allowed"] = true, ["patchType"] = "JSONPatch",
            ["patch"] = Convert.ToBase64String(Encoding.UTF8.GetBytes("""
                [{"op":"add","path":"/metadata/labels/injected","value":"yes"},
                 {"op":"add","path":"/spec/containers/-","value":{"name":"sidecar","image":"busybox"}}]
                """)),
        },
        "/deny" => new JsonObject
        {
            ["allowed"] = false, ["status"] = new JsonObject { ["code"] = 403, ["message"] = "pods need an owner's blessing" },
        },
        _ => new JsonObject { ["allowed"] = true },
    };

    /// <summary>The API, and a ReplicaSet controller (under kube's actor name) writing through the gateway.</summary>
    private static async Task<ApiTestServer> ControlPlaneAsync()
    {
        var api = await ApiTestServer.StartAsync();
        var gateway = ControlPlaneHosting.StartAdmission(api.System, api.Store, api.Catalog, api.App.Services.GetRequiredService<WebhookDispatcher>());
        api.System.ActorOf(ReplicaSetController.Props(gateway, TimeSpan.FromSeconds(30)), "replicaset-controller");
        return api;
    }

    private static async Task<JsonArray> EventuallyAsync(ApiTestServer api, string path, Func<JsonArray, bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            var (_, body) = await api.SendAsync(HttpMethod.Get, path);
            var items = body!["items"]!.AsArray();
            if (done(items)) return items;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{path}: {body.ToJsonString()}");
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task A_mutating_webhook_injects_a_label_and_a_container_into_the_pods_a_ReplicaSet_creates()
    {
        await using var hook = await WebhookServer.StartAsync(Answer);
        await using var api = await ControlPlaneAsync();
        Assert.Equal(HttpStatusCode.Created, (await api.SendAsync(HttpMethod.Post, "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations",
            PodWebhook("MutatingWebhookConfiguration", "sidecar", $"{hook.Address}sidecar", hook.CaBundlePem))).Status);

        Assert.Equal(HttpStatusCode.Created, (await api.SendAsync(HttpMethod.Post, ReplicaSets, ReplicaSet("web", 2))).Status);
        var pods = await EventuallyAsync(api, Pods + "?labelSelector=app%3Dweb", items => items.Count == 2);
        foreach (var pod in pods)
        {
            Assert.Equal("yes", pod!["metadata"]!["labels"]!["injected"]!.GetValue<string>());
            Assert.Equal(["c", "sidecar"], pod["spec"]!["containers"]!.AsArray().Select(c => c!["name"]!.GetValue<string>()));
        }

        // the AdmissionReview kube-apiserver sends for kube-controller-manager's replicaset-controller
        var review = hook.Requests.Select(r => r["request"]!).First(r => r["operation"]!.GetValue<string>() == "CREATE");
        Assert.Equal("system:serviceaccount:kube-system:replicaset-controller", review["userInfo"]!["username"]!.GetValue<string>());
        Assert.Equal(["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"],
            review["userInfo"]!["groups"]!.AsArray().Select(g => g!.GetValue<string>()));
        Assert.Equal("pods", review["resource"]!["resource"]!.GetValue<string>());
        Assert.Equal("default", review["namespace"]!.GetValue<string>());
        Assert.False(review["dryRun"]!.GetValue<bool>());
        Assert.Equal("CreateOptions", review["options"]!["kind"]!.GetValue<string>());
        Assert.Null(review["oldObject"]);
        Assert.Equal("ReplicaSet", review["object"]!["metadata"]!["ownerReferences"]![0]!["kind"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_validating_webhooks_refusal_is_the_ReplicaSets_FailedCreate_event_with_its_message()
    {
        await using var hook = await WebhookServer.StartAsync(Answer);
        await using var api = await ControlPlaneAsync();
        Assert.Equal(HttpStatusCode.Created, (await api.SendAsync(HttpMethod.Post, "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations",
            PodWebhook("ValidatingWebhookConfiguration", "deny", $"{hook.Address}deny", hook.CaBundlePem))).Status);

        Assert.Equal(HttpStatusCode.Created, (await api.SendAsync(HttpMethod.Post, ReplicaSets, ReplicaSet("refused", 1))).Status);
        var events = await EventuallyAsync(api, "/api/v1/namespaces/default/events",
            items => items.Any(e => e!["reason"]!.GetValue<string>() == "FailedCreate"));
        var failed = events.First(e => e!["reason"]!.GetValue<string>() == "FailedCreate")!;
        Assert.Equal("Error creating: admission webhook \"deny.example.com\" denied the request: pods need an owner's blessing",
            failed["message"]!.GetValue<string>());
        Assert.Equal("refused", failed["involvedObject"]!["name"]!.GetValue<string>());
        Assert.Empty((await api.SendAsync(HttpMethod.Get, Pods + "?labelSelector=app%3Drefused")).Body!["items"]!.AsArray());
    }

    [Fact]
    public async Task An_unreachable_webhook_blocks_the_ReplicaSets_pods_under_Fail_and_lets_them_through_under_Ignore()
    {
        await using var hook = await WebhookServer.StartAsync(Answer);
        await using var api = await ControlPlaneAsync();
        const string configurations = "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations";
        Assert.Equal(HttpStatusCode.Created, (await api.SendAsync(HttpMethod.Post, configurations,
            PodWebhook("ValidatingWebhookConfiguration", "gone", "https://127.0.0.1:1/gone", hook.CaBundlePem))).Status);
        Assert.Equal(HttpStatusCode.Created, (await api.SendAsync(HttpMethod.Post, ReplicaSets, ReplicaSet("blocked", 1))).Status);
        var events = await EventuallyAsync(api, "/api/v1/namespaces/default/events",
            items => items.Any(e => e!["reason"]!.GetValue<string>() == "FailedCreate"));
        Assert.StartsWith("Error creating: Internal error occurred: failed calling webhook \"gone.example.com\": failed to call webhook: Post \"https://127.0.0.1:1/gone?timeout=5s\"",
            events.First(e => e!["reason"]!.GetValue<string>() == "FailedCreate")!["message"]!.GetValue<string>());
        Assert.Empty((await api.SendAsync(HttpMethod.Get, Pods + "?labelSelector=app%3Dblocked")).Body!["items"]!.AsArray());

        // the same webhook failing open: the controller's retry creates the pod
        var (_, stored) = await api.SendAsync(HttpMethod.Get, configurations + "/gone");
        stored!["webhooks"]![0]!["failurePolicy"] = "Ignore";
        Assert.Equal(HttpStatusCode.OK, (await api.SendAsync(HttpMethod.Put, configurations + "/gone", stored.ToJsonString())).Status);
        await EventuallyAsync(api, Pods + "?labelSelector=app%3Dblocked", items => items.Count == 1);
    }

    [Fact]
    public async Task Each_controller_writes_as_its_kube_controller_manager_service_account()
    {
        var system = ActorSystem.Create("accounts-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            IActorRef Actor(string name) => system.ActorOf(Props.Empty, name);
            Assert.Equal("system:serviceaccount:kube-system:daemon-set-controller", ControllerAccounts.Of(Actor("daemonset-controller"), "pods")!.Name);
            Assert.Equal("system:serviceaccount:kube-system:generic-garbage-collector", ControllerAccounts.Of(Actor("garbage-collector"), "pods")!.Name);
            Assert.Equal("system:serviceaccount:kube-system:endpoint-controller", ControllerAccounts.Of(Actor("endpoints-controller"), "endpoints")!.Name);
            Assert.Equal("system:serviceaccount:kube-system:node-controller", ControllerAccounts.Of(Actor("taint-eviction-controller"), "pods")!.Name);
            var protection = Actor("storage-protection-controller");
            Assert.Equal("system:serviceaccount:kube-system:pv-protection-controller", ControllerAccounts.Of(protection, "persistentvolumes")!.Name);
            Assert.Equal("system:serviceaccount:kube-system:pvc-protection-controller", ControllerAccounts.Of(protection, "persistentvolumeclaims")!.Name);
            Assert.Equal("system:apiserver", ControllerAccounts.Of(Actor("rbac-bootstrap"), "clusterroles")!.Name);
            Assert.Null(ControllerAccounts.Of(system.DeadLetters, "pods"));
        }
        finally
        {
            await system.Terminate();
        }
    }
}
