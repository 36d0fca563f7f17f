using k8s.Models;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Protobuf;

/// <summary>NetworkPolicy, IngressClass, StorageClass, RuntimeClass and webhook configuration bodies as client-go's
/// protobuf clients send them, hand-encoded with Kubernetes' field numbers.</summary>
public class ClusterConfigurationDecodingTests
{
    [Fact]
    public void A_network_policy_keeps_its_rules_peers_and_ports()
    {
        var policy = Fixtures.Decode<V1NetworkPolicy>(ProtoWriter.Envelope("networking.k8s.io/v1", "NetworkPolicy", new ProtoWriter()
            .Message(1, m => m.String(1, "db-access").String(3, "default"))
            .Message(2, s => s
                .Message(1, sel => sel.Entry(1, "app", "db")) // podSelector
                .Message(2, rule => rule // ingress
                    .Message(1, p => p.String(1, "TCP").Int(2, 5432).Varint(3, 5433)) // ports {protocol, port, endPort}
                    .Message(1, p => p.Str(2, "metrics"))
                    .Message(2, peer => peer.Message(1, sel => sel.Entry(1, "role", "api")) // from: podSelector
                        .Message(2, _ => { })) // namespaceSelector {}: every namespace
                    .Message(2, peer => peer.Message(3, b => b.String(1, "10.0.0.0/8").String(2, "10.1.0.0/16"))))
                .Message(3, rule => rule.Message(2, peer => peer.Message(3, b => b.String(1, "0.0.0.0/0")))) // egress
                .String(4, "Ingress").String(4, "Egress"))));

        var spec = policy.Spec;
        Assert.Equal("db", spec.PodSelector.MatchLabels["app"]);
        Assert.Equal(["Ingress", "Egress"], spec.PolicyTypes);
        var ingress = Assert.Single(spec.Ingress);
        Assert.Equal(2, ingress.Ports.Count);
        Assert.Equal(("TCP", "5432", 5433), (ingress.Ports[0].Protocol, ingress.Ports[0].Port.Value, ingress.Ports[0].EndPort));
        Assert.Equal(("metrics", null, null), (ingress.Ports[1].Port.Value, ingress.Ports[1].Protocol, ingress.Ports[1].EndPort));
        Assert.Equal(2, ingress.FromProperty.Count);
        Assert.Equal("api", ingress.FromProperty[0].PodSelector.MatchLabels["role"]);
        Assert.NotNull(ingress.FromProperty[0].NamespaceSelector);
        Assert.Null(ingress.FromProperty[0].IpBlock);
        Assert.Equal(("10.0.0.0/8", "10.1.0.0/16"), (ingress.FromProperty[1].IpBlock.Cidr, Assert.Single(ingress.FromProperty[1].IpBlock.Except)));
        Assert.Equal("0.0.0.0/0", Assert.Single(Assert.Single(spec.Egress).To).IpBlock.Cidr);
    }

    [Fact]
    public void An_ingress_class_keeps_its_controller_and_parameters()
    {
        var ingressClass = Fixtures.Decode<V1IngressClass>(ProtoWriter.Envelope("networking.k8s.io/v1", "IngressClass", new ProtoWriter()
            .Message(1, m => m.String(1, "nginx").Entry(12, "ingressclass.kubernetes.io/is-default-class", "true"))
            .Message(2, s => s.String(1, "k8s.io/ingress-nginx")
                .Message(2, p => p.String(1, "k8s.example.com").String(2, "IngressParameters").String(3, "external-lb")
                    .String(4, "Namespace").String(5, "ingress")))));

        Assert.Equal("true", ingressClass.Metadata.Annotations["ingressclass.kubernetes.io/is-default-class"]);
        Assert.Equal("k8s.io/ingress-nginx", ingressClass.Spec.Controller);
        var parameters = ingressClass.Spec.Parameters;
        Assert.Equal(("k8s.example.com", "IngressParameters", "external-lb", "Namespace", "ingress"),
            (parameters.ApiGroup, parameters.Kind, parameters.Name, parameters.Scope, parameters.NamespaceProperty));
    }

    [Fact]
    public void A_storage_class_keeps_its_parameters_policies_and_topologies()
    {
        var storageClass = Fixtures.Decode<V1StorageClass>(ProtoWriter.Envelope("storage.k8s.io/v1", "StorageClass", new ProtoWriter()
            .Message(1, m => m.String(1, "fast"))
            .String(2, "ebs.csi.aws.com")
            .Entry(3, "type", "gp3")
            .String(4, "Retain")
            .String(5, "debug")
            .Bool(6, false) // allowVolumeExpansion: a pointer, false is set
            .String(7, "WaitForFirstConsumer")
            .Message(8, t => t.Message(1, r => r.String(1, "topology.kubernetes.io/zone").String(2, "a").String(2, "b")))));

        Assert.Equal(("ebs.csi.aws.com", "Retain", "WaitForFirstConsumer"),
            (storageClass.Provisioner, storageClass.ReclaimPolicy, storageClass.VolumeBindingMode));
        Assert.Equal("gp3", storageClass.Parameters["type"]);
        Assert.Equal(["debug"], storageClass.MountOptions);
        Assert.False(storageClass.AllowVolumeExpansion);
        var requirement = Assert.Single(Assert.Single(storageClass.AllowedTopologies).MatchLabelExpressions);
        Assert.Equal("topology.kubernetes.io/zone", requirement.Key);
        Assert.Equal(["a", "b"], requirement.Values);
    }

    [Fact]
    public void A_runtime_class_keeps_its_overhead_and_scheduling()
    {
        var runtimeClass = Fixtures.Decode<V1RuntimeClass>(ProtoWriter.Envelope("node.k8s.io/v1", "RuntimeClass", new ProtoWriter()
            .Message(1, m => m.String(1, "gvisor"))
            .String(2, "runsc")
            .Message(3, o => o.QuantityEntry(1, "memory", "120Mi"))
            .Message(4, s => s.Entry(1, "sandbox", "true")
                .Message(2, t => t.String(1, "sandbox").String(2, "Exists").String(4, "NoSchedule")))));

        Assert.Equal("runsc", runtimeClass.Handler);
        Assert.Equal("120Mi", runtimeClass.Overhead.PodFixed["memory"].ToString());
        Assert.Equal("true", runtimeClass.Scheduling.NodeSelector["sandbox"]);
        var toleration = Assert.Single(runtimeClass.Scheduling.Tolerations);
        Assert.Equal(("sandbox", "Exists", "NoSchedule"), (toleration.Key, toleration.OperatorProperty, toleration.Effect));
    }

    private static ProtoWriter Webhook(ProtoWriter webhook) => webhook
        .String(1, "check.example.com")
        .Message(2, c => c // clientConfig {service {namespace, name, path, port}, caBundle}
            .Message(1, s => s.String(1, "webhooks").String(2, "checker").String(3, "/validate").Varint(4, 8443))
            .Bytes(2, [0x2d, 0x2d, 0x2d]))
        .Message(3, r => r.String(1, "CREATE").String(1, "UPDATE") // rules: operations, then the inline Rule
            .Message(2, rule => rule.String(1, "apps").String(2, "v1").String(3, "deployments").String(4, "Namespaced")))
        .String(4, "Fail")
        .String(9, "Equivalent")
        .Message(5, sel => sel.Entry(1, "webhooks", "on")) // namespaceSelector
        .String(6, "None")
        .Varint(7, 0) // timeoutSeconds: a pointer, 0 is set
        .String(8, "v1");

    [Fact]
    public void A_validating_webhook_configuration_keeps_its_webhooks()
    {
        var configuration = Fixtures.Decode<V1ValidatingWebhookConfiguration>(ProtoWriter.Envelope("admissionregistration.k8s.io/v1",
            "ValidatingWebhookConfiguration", new ProtoWriter()
                .Message(1, m => m.String(1, "checks"))
                .Message(2, Webhook(new ProtoWriter())
                    .Message(10, sel => sel.Entry(1, "checked", "yes")) // objectSelector
                    .Message(11, c => c.String(1, "not-system").String(2, "!request.userInfo.username.startsWith('system:')")))));

        var webhook = Assert.Single(configuration.Webhooks);
        Assert.Equal("check.example.com", webhook.Name);
        var service = webhook.ClientConfig.Service;
        Assert.Equal(("webhooks", "checker", "/validate", 8443), (service.NamespaceProperty, service.Name, service.Path, service.Port));
        Assert.Equal([0x2d, 0x2d, 0x2d], webhook.ClientConfig.CaBundle);
        Assert.Null(webhook.ClientConfig.Url);
        var rule = Assert.Single(webhook.Rules);
        Assert.Equal(["CREATE", "UPDATE"], rule.Operations);
        Assert.Equal(["apps"], rule.ApiGroups);
        Assert.Equal(["v1"], rule.ApiVersions);
        Assert.Equal(["deployments"], rule.Resources);
        Assert.Equal("Namespaced", rule.Scope);
        Assert.Equal(("Fail", "Equivalent", "None", 0), (webhook.FailurePolicy, webhook.MatchPolicy, webhook.SideEffects, webhook.TimeoutSeconds));
        Assert.Equal("on", webhook.NamespaceSelector.MatchLabels["webhooks"]);
        Assert.Equal("yes", webhook.ObjectSelector.MatchLabels["checked"]);
        Assert.Equal(["v1"], webhook.AdmissionReviewVersions);
        Assert.Equal("not-system", Assert.Single(webhook.MatchConditions).Name);
    }

    [Fact]
    public void A_mutating_webhook_configuration_keeps_its_url_reinvocation_and_object_selector()
    {
        var configuration = Fixtures.Decode<V1MutatingWebhookConfiguration>(ProtoWriter.Envelope("admissionregistration.k8s.io/v1",
            "MutatingWebhookConfiguration", new ProtoWriter()
                .Message(1, m => m.String(1, "defaults"))
                .Message(2, w => w
                    .String(1, "default.example.com")
                    .Message(2, c => c.String(3, "https://hooks.example.com/mutate"))
                    .String(6, "NoneOnDryRun")
                    .String(8, "v1").String(8, "v1beta1")
                    .String(10, "IfNeeded") // reinvocationPolicy
                    .Message(11, sel => sel.Entry(1, "mutate", "yes")) // objectSelector (11 here, 10 on a validating webhook)
                    .Message(12, c => c.String(1, "always").String(2, "true")))));

        var webhook = Assert.Single(configuration.Webhooks);
        Assert.Equal("https://hooks.example.com/mutate", webhook.ClientConfig.Url);
        Assert.Null(webhook.ClientConfig.Service);
        Assert.Equal(("NoneOnDryRun", "IfNeeded"), (webhook.SideEffects, webhook.ReinvocationPolicy));
        Assert.Equal(["v1", "v1beta1"], webhook.AdmissionReviewVersions);
        Assert.Equal("yes", webhook.ObjectSelector.MatchLabels["mutate"]);
        Assert.Equal(("always", "true"), (Assert.Single(webhook.MatchConditions).Name, webhook.MatchConditions[0].Expression));
        Assert.Null(webhook.TimeoutSeconds);
    }
}
