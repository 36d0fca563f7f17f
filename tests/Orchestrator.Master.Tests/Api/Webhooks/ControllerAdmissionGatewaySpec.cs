using System.Text;
using System.Text.Json.Nodes;
using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using k8s;
using k8s.Models;
using Orchestrator.Master.Api.Webhooks;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Registry;
using Orchestrator.Master.Store;
using Xunit;
using static Orchestrator.Master.Tests.Controllers.Support.Objects;

namespace Orchestrator.Master.Tests.Api.Webhooks;

/// <summary>The gateway between the controllers and the store, against a probe standing in for the store and real HTTPS
/// webhooks on loopback.</summary>
public sealed class ControllerAdmissionGatewaySpec : TestKit
{
    private static readonly AdmissionUser Controller = new("system:serviceaccount:kube-system:test-controller", "",
        ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"], new Dictionary<string, IReadOnlyList<string>>());

    private readonly TestProbe _store;

    public ControllerAdmissionGatewaySpec() : base("akka.loglevel = WARNING\nakka.test.single-expect-default = 10s") => _store = CreateTestProbe();

    /// <summary>The gateway, its configurations listed by the probe store (and their watches started).</summary>
    private IActorRef Gateway(params IKubernetesObject<V1ObjectMeta>[] configurations)
    {
        var dispatcher = ControlPlaneHosting.StandaloneWebhooks(Sys, _store.Ref);
        var gateway = Sys.ActorOf(ControllerAdmissionGateway.Props(_store.Ref, RegistryHosting.BuiltInCatalog(), dispatcher, (_, _) => Controller));
        // each reflector lists, then watches
        for (var i = 0; i < 4; i++)
        {
            switch (_store.ExpectMsg<object>(m => m is ListObjects or WatchObjects))
            {
                case ListObjects list:
                    _store.Reply(new ObjectsListed(configurations.Where(c => list.Resource == (c is V1MutatingWebhookConfiguration
                        ? "mutatingwebhookconfigurations" : "validatingwebhookconfigurations")).ToList(), 1));
                    break;
                default:
                    _store.Reply(new WatchStarted(1));
                    break;
            }
        }
        return gateway;
    }

    private static Admissionregistrationv1WebhookClientConfig Client(WebhookServer hook, string path) => new()
    {
        Url = $"{hook.Address}{path}", CaBundle = Encoding.UTF8.GetBytes(hook.CaBundlePem),
    };

    private static V1MutatingWebhookConfiguration Mutating(Admissionregistrationv1WebhookClientConfig client, string failurePolicy = "Fail",
        string operation = "CREATE") => new()
    {
        Metadata = new V1ObjectMeta { Name = "m", ResourceVersion = "1" },
        Webhooks =
        [
            new V1MutatingWebhook
            {
                Name = "m.example.com", ClientConfig = client, FailurePolicy = failurePolicy, SideEffects = "None", AdmissionReviewVersions = ["v1"],
                TimeoutSeconds = 5, Rules = [new V1RuleWithOperations { Operations = [operation], ApiGroups = [""], ApiVersions = ["v1"], Resources = ["pods"] }],
            },
        ],
    };

    private static JsonObject Label(string path, JsonObject request)
    {
        if (path == "/slow") Thread.Sleep(500);
        return new JsonObject
        {
            ["allowed"] = true, ["patchType"] = "JSONPatch",
            ["patch"] = Convert.ToBase64String(Encoding.UTF8.GetBytes("""[{"op":"add","path":"/metadata/labels/mutated","value":"yes"}]""")),
        };
    }

    /// <summary>The gateway's own look-up of the pod's namespace (for namespaceSelectors): there is none.</summary>
    private void NoNamespace()
    {
        var get = _store.ExpectMsg<GetObject>(g => g.Key.Resource == "namespaces");
        _store.Reply(new StoreFailed(new StoreError(404, "NotFound", $"namespaces \"{get.Key.Name}\" not found")));
    }

    [Fact]
    public void Without_configurations_every_message_reaches_the_store_unchanged_from_its_sender()
    {
        var gateway = Gateway();
        var controller = CreateTestProbe();
        var create = new CreateObject("pods", Pod("p1", new Dictionary<string, string> { ["app"] = "x" }));
        var list = new ListObjects("pods");
        gateway.Tell(create, controller.Ref);
        gateway.Tell(list, controller.Ref);
        Assert.Same(create, _store.ExpectMsg<CreateObject>());
        Assert.Equal(controller.Ref, _store.LastSender);
        Assert.Same(list, _store.ExpectMsg<ListObjects>());
        Assert.Equal(controller.Ref, _store.LastSender);
    }

    [Fact]
    public async Task Writes_of_one_sender_reach_the_store_in_their_order_behind_one_in_admission()
    {
        await using var hook = await WebhookServer.StartAsync(Label);
        var gateway = Gateway(Mutating(Client(hook, "slow")));
        var (first, second) = (CreateTestProbe(), CreateTestProbe());
        gateway.Tell(new CreateObject("pods", Pod("admitted", new Dictionary<string, string> { ["app"] = "x" })), first.Ref);
        // a configmap matches no webhook: sent after the pod, it still waits for it; another sender's does not
        gateway.Tell(new CreateObject("configmaps", new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "after", NamespaceProperty = "default" } }), first.Ref);
        gateway.Tell(new CreateObject("configmaps", new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "other", NamespaceProperty = "default" } }), second.Ref);
        // the other sender's write and the admission's look-up of the namespace, in either order
        for (var i = 0; i < 2; i++)
        {
            switch (_store.ExpectMsg<object>(m => m is GetObject or CreateObject))
            {
                case GetObject:
                    _store.Reply(new StoreFailed(new StoreError(404, "NotFound", "namespaces \"default\" not found")));
                    break;
                case CreateObject other:
                    Assert.Equal("other", other.Object.Metadata.Name);
                    Assert.Equal(second.Ref, _store.LastSender);
                    break;
            }
        }

        var pod = _store.ExpectMsg<CreateObject>();
        Assert.Equal("admitted", pod.Object.Metadata.Name);
        Assert.Equal("yes", pod.Object.Metadata.Labels["mutated"]);
        Assert.Equal("x", pod.Object.Metadata.Labels["app"]);
        Assert.Equal(first.Ref, _store.LastSender);
        Assert.Equal("after", _store.ExpectMsg<CreateObject>().Object.Metadata.Name);
        Assert.Equal(first.Ref, _store.LastSender);
        var review = hook.Requests.Single()["request"]!;
        Assert.Equal(Controller.Name, review["userInfo"]!["username"]!.GetValue<string>());
    }

    [Fact]
    public void An_unreachable_webhook_refuses_the_write_under_Fail_as_the_store_refuses()
    {
        var gateway = Gateway(Mutating(new Admissionregistrationv1WebhookClientConfig { Url = "https://127.0.0.1:1/gone" }));
        var controller = CreateTestProbe();
        gateway.Tell(new CreateObject("pods", Pod("p")), controller.Ref);
        NoNamespace();
        var failed = controller.ExpectMsg<StoreFailed>();
        Assert.Equal(500, failed.Error.Code);
        Assert.StartsWith("Internal error occurred: failed calling webhook \"m.example.com\": failed to call webhook: Post \"https://127.0.0.1:1/gone?timeout=5s\"",
            failed.Error.Message);
        _store.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public void An_unreachable_webhook_under_Ignore_lets_the_write_through_unchanged()
    {
        var gateway = Gateway(Mutating(new Admissionregistrationv1WebhookClientConfig { Url = "https://127.0.0.1:1/gone" }, "Ignore"));
        var controller = CreateTestProbe();
        var create = new CreateObject("pods", Pod("p"));
        gateway.Tell(create, controller.Ref);
        NoNamespace();
        Assert.Same(create, _store.ExpectMsg<CreateObject>());
        Assert.Equal(controller.Ref, _store.LastSender);
    }

    [Fact]
    public async Task An_update_shows_the_webhook_the_stored_object_and_is_pinned_to_its_resourceVersion()
    {
        await using var hook = await WebhookServer.StartAsync(Label);
        var gateway = Gateway(Mutating(Client(hook, "label"), operation: "UPDATE"));
        var controller = CreateTestProbe();
        var stored = Pod("p", new Dictionary<string, string> { ["v"] = "old" });
        stored.Metadata.ResourceVersion = "42";
        var update = Pod("p", new Dictionary<string, string> { ["v"] = "new" });
        gateway.Tell(new UpdateObject("pods", update), controller.Ref);
        _store.ExpectMsg<GetObject>(g => g.Key == new ResourceKey("pods", "default", "p"));
        _store.Reply(new ObjectStored(stored));
        NoNamespace();

        var written = _store.ExpectMsg<UpdateObject>();
        Assert.Equal(controller.Ref, _store.LastSender);
        Assert.Equal("42", written.Object.Metadata.ResourceVersion);
        Assert.Equal("yes", written.Object.Metadata.Labels["mutated"]);
        Assert.Null(update.Metadata.ResourceVersion); // the sender's object is never changed
        var review = hook.Requests.Single()["request"]!;
        Assert.Equal("UPDATE", review["operation"]!.GetValue<string>());
        Assert.Equal("old", review["oldObject"]!["metadata"]!["labels"]!["v"]!.GetValue<string>());
        Assert.Equal("new", review["object"]!["metadata"]!["labels"]!["v"]!.GetValue<string>());
        Assert.Equal("UpdateOptions", review["options"]!["kind"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_controllers_pod_reaches_the_webhooks_with_its_defaults_and_a_default_a_webhook_removes_comes_back()
    {
        // the webhook removes two defaulted fields (a remove of a missing field would not apply: the write would fail)
        await using var hook = await WebhookServer.StartAsync((_, _) => new JsonObject
        {
            ["allowed"] = true, ["patchType"] = "JSONPatch",
            ["patch"] = Convert.ToBase64String(Encoding.UTF8.GetBytes("""
                [{"op":"remove","path":"/spec/restartPolicy"},{"op":"remove","path":"/spec/containers/0/terminationMessagePath"}]
                """)),
        });
        var gateway = Gateway(Mutating(Client(hook, "strip")));
        var controller = CreateTestProbe();
        var pod = Pod("bare");
        gateway.Tell(new CreateObject("pods", pod), controller.Ref);
        NoNamespace();

        var written = _store.ExpectMsg<CreateObject>();
        Assert.Equal("Always", written.Object is V1Pod p ? p.Spec.RestartPolicy : null);
        Assert.Equal("/dev/termination-log", ((V1Pod)written.Object).Spec.Containers[0].TerminationMessagePath);
        Assert.Null(pod.Spec.RestartPolicy); // the sender's object (its cache's) is never changed
        var review = hook.Requests.Single()["request"]!["object"]!;
        Assert.Equal("Always", review["spec"]!["restartPolicy"]!.GetValue<string>());
        Assert.Equal("ClusterFirst", review["spec"]!["dnsPolicy"]!.GetValue<string>());
        Assert.Equal("/dev/termination-log", review["spec"]!["containers"]![0]!["terminationMessagePath"]!.GetValue<string>());
    }

    [Fact]
    public void Writes_wait_until_the_configurations_are_listed()
    {
        var dispatcher = ControlPlaneHosting.StandaloneWebhooks(Sys, _store.Ref);
        var gateway = Sys.ActorOf(ControllerAdmissionGateway.Props(_store.Ref, RegistryHosting.BuiltInCatalog(), dispatcher, (_, _) => Controller));
        var reflectors = new List<IActorRef>();
        for (var i = 0; i < 2; i++)
        {
            _store.ExpectMsg<ListObjects>();
            reflectors.Add(_store.LastSender);
        }
        gateway.Tell(new CreateObject("pods", Pod("early")), TestActor);
        _store.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        foreach (var reflector in reflectors) reflector.Tell(new ObjectsListed([], 1), _store.Ref);
        // the reflectors go on to watch; the write follows, from its sender
        _store.FishForMessage(m => m is CreateObject);
        Assert.Equal(TestActor, _store.LastSender);
    }
}
